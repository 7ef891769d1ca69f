#include "kernels/ops/adam.h"

#include <cmath>

namespace lenet::kernels {

void adam_update_reference(const AdamArgs& a, float* value, float* grad, float* m, float* v, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        const float g = grad[i] + a.decay * value[i];
        m[i] = a.b1 * m[i] + (1.0f - a.b1) * g;
        v[i] = a.b2 * v[i] + (1.0f - a.b2) * g * g;
        value[i] -= a.corrected * m[i] / (std::sqrt(v[i]) + a.eps);
        if (a.zero_grad) grad[i] = 0.0f;
    }
}

}  // namespace lenet::kernels
