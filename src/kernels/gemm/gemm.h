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

// The reference kernel (the truth), single-threaded.
void gemm_reference(const GemmArgs& args);
}  // namespace lenet::kernels
