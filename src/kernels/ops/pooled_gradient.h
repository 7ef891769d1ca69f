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
// Scratch floats a backend's kernel may use.
std::size_t pooled_weight_gradient_scratch_floats(const PooledGradientShape& s);

}  // namespace lenet::kernels
