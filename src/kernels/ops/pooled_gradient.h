// The weight gradient of a convolution whose output went through a max pool. Only each window's
// winner receives gradient, so instead of the dense product dW += delta_conv * columns^T (spatial
// terms per weight, most of them zero) it sums one term per pooled output:
//   grad[f][p] += sum over pooled outputs o of delta[f][o] * columns[p][argmax[f][o] - f * spatial]
// where columns is the image's im2col matrix [patch x spatial], delta the pooled-output gradient
// [filters x pooled] (after the activation's gradient) and argmax the pool's winners, indices into
// the convolution's output image (-1: no winner, no term). A 2x2 pool makes it 4x fewer terms.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/backend.h"

namespace lenet::kernels {

struct PooledGradientShape {
    int filters, patch, spatial, pooled;
};

// Reference kernel (the truth): terms added in order of o for each weight.
void pooled_weight_gradient_reference(const PooledGradientShape& s, const float* delta, const std::int32_t* argmax,
                                      const float* columns, float* grad);
// AVX2: columns transposed into scratch first (a row of patch values per output position, padded to
// a multiple of 8), then 8-lane rows scaled and summed; terms with delta 0 are skipped. The sum's
// order differs from the reference (a few partial sums per weight): rounding differences only.
std::size_t pooled_weight_gradient_scratch_floats(const PooledGradientShape& s);
void pooled_weight_gradient_avx2(const PooledGradientShape& s, const float* delta, const std::int32_t* argmax,
                                 const float* columns, float* grad, float* scratch);
// Single-threaded; pick the backend's kernel. scratch: pooled_weight_gradient_scratch_floats(s)
// floats (unused by the reference).
void pooled_weight_gradient(Backend backend, const PooledGradientShape& s, const float* delta,
                            const std::int32_t* argmax, const float* columns, float* grad, float* scratch);

}  // namespace lenet::kernels
