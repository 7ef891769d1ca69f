// One Adam step over an array (Darknet's adam=1 with L2 decay), gradients zeroed as they are used
// (unless zero_grad is false):
//   g = grad + decay * value;  m = b1 * m + (1 - b1) * g;  v = b2 * v + (1 - b2) * g * g;
//   value -= corrected * m / (sqrt(v) + eps);  grad = 0
// where `corrected` is the step size with the bias correction folded in.
#pragma once
#include <cstddef>

#include "kernels/backend.h"

namespace lenet::kernels {

struct AdamArgs {
    float b1, b2, eps, decay, corrected;
    bool zero_grad = true;
};

// Reference kernel (the truth).
void adam_update_reference(const AdamArgs& args, float* value, float* grad, float* m, float* v, std::size_t n);
}  // namespace lenet::kernels
