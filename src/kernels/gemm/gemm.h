// Single-precision matrix multiply, row-major:
//   C[m x n] = alpha * op(A)[m x k] * op(B)[k x n] + beta * C
// op(X) is X or its transpose. lda/ldb/ldc are row strides of the matrices as stored. beta == 0
// overwrites C without reading it (so C may hold garbage).
#pragma once
#include "kernels/backend.h"

namespace lenet::kernels {

struct GemmArgs {
    bool trans_a = false, trans_b = false;
    int m = 0, n = 0, k = 0;
    float alpha = 1.0f;
    const float* a = nullptr;
    int lda = 0;
    const float* b = nullptr;
    int ldb = 0;
    float beta = 0.0f;
    float* c = nullptr;
    int ldc = 0;
};

// Single-threaded kernels.
void gemm_reference(const GemmArgs& args);
void gemm_avx2(const GemmArgs& args);

// Picks the backend's kernel; with a pool of more than one thread, splits C into row or column
// blocks, one per thread (deterministic for a given thread count).
void gemm(const Compute& compute, const GemmArgs& args);
// The same on the calling thread only (for callers that already run one task per thread).
void gemm_single(Backend backend, const GemmArgs& args);

}  // namespace lenet::kernels
