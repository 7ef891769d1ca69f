// Single-precision matrix multiply, row-major:
//   C[m x n] = alpha * op(A)[m x k] * op(B)[k x n] + beta * C
// op(X) is X or its transpose. lda/ldb/ldc are row strides of the matrices as stored. beta == 0
// overwrites C without reading it (so C may hold garbage).
#pragma once
#include <cstddef>
#include <vector>

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

// A (m x k, not transposed) packed once for many products with different B: a float layer's
// weights at inference, so a frame no longer repacks them. The layout is the backend's (the
// reference keeps A as it is; blocks[i] is where the backend's i-th block starts). Products through
// it (the op gemm_packed_a, alpha 1, args.a unused) equal gemm's with that A bit for bit.
struct PackedGemmA {
    int m = 0, k = 0;
    std::vector<float> data;
    std::vector<std::size_t> blocks;
};
void gemm_pack_a_reference(const float* a, int m, int k, int lda, PackedGemmA& packed);
void gemm_packed_a_reference(const Compute& compute, const PackedGemmA& a, const GemmArgs& args);
}  // namespace lenet::kernels
