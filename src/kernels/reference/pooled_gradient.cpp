#include "kernels/ops/pooled_gradient.h"

namespace lenet::kernels {

void pooled_weight_gradient_reference(const PooledGradientShape& s, const float* delta, const std::int32_t* argmax,
                                      const float* columns, float* grad) {
    for (int f = 0; f < s.filters; ++f)
        for (int o = 0; o < s.pooled; ++o) {
            const std::size_t i = std::size_t(f) * s.pooled + o;
            if (argmax[i] < 0) continue;
            const std::size_t q = std::size_t(argmax[i]) - std::size_t(f) * s.spatial;
            for (int p = 0; p < s.patch; ++p)
                grad[std::size_t(f) * s.patch + p] += delta[i] * columns[std::size_t(p) * s.spatial + q];
        }
}

std::size_t pooled_weight_gradient_scratch_floats(const PooledGradientShape& s) {
    return std::size_t(s.spatial) * std::size_t((s.patch + 7) / 8 * 8);
}

}  // namespace lenet::kernels
