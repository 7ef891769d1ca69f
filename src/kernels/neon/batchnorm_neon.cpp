// The batch-norm output transform with NEON: x = x * scale + bias per channel, the multiply
// rounded before the add as in the reference (bit-identical); without scales only the add.
#include <arm_neon.h>

#include <cstddef>

#include "kernels/neon/neon.h"

namespace lenet::kernels {

void scale_add_bias_neon(float* x, const float* scales, const float* biases, int batch, int channels, int spatial) {
    const std::size_t n = std::size_t(spatial);
    for (int b = 0; b < batch; ++b)
        for (int c = 0; c < channels; ++c) {
            float* p = x + (std::size_t(b) * std::size_t(channels) + std::size_t(c)) * n;
            const float scale = scales ? scales[c] : 1.0f, bias = biases[c];
            const float32x4_t vscale = vdupq_n_f32(scale), vbias = vdupq_n_f32(bias);
            std::size_t s = 0;
            for (; s + 4 <= n; s += 4) vst1q_f32(p + s, vaddq_f32(vmulq_f32(vld1q_f32(p + s), vscale), vbias));
            for (; s < n; ++s) p[s] = p[s] * scale + bias;
        }
}

}  // namespace lenet::kernels
