// Adam with NEON: the reference's operations lane by lane (multiplies rounded before the adds, a
// correctly rounded sqrt and divide), so bit-identical; the tail runs the reference.
#include <arm_neon.h>

#include "kernels/neon/neon.h"
#include "kernels/ops/adam.h"

namespace lenet::kernels {

void adam_update_neon(const AdamArgs& a, float* value, float* grad, float* m, float* v, std::size_t n) {
    const float32x4_t b1 = vdupq_n_f32(a.b1), b2 = vdupq_n_f32(a.b2), eps = vdupq_n_f32(a.eps);
    const float32x4_t one_b1 = vdupq_n_f32(1.0f - a.b1), one_b2 = vdupq_n_f32(1.0f - a.b2);
    const float32x4_t decay = vdupq_n_f32(a.decay), corrected = vdupq_n_f32(a.corrected);
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const float32x4_t w = vld1q_f32(value + i);
        const float32x4_t g = vaddq_f32(vld1q_f32(grad + i), vmulq_f32(decay, w));
        const float32x4_t mi = vaddq_f32(vmulq_f32(b1, vld1q_f32(m + i)), vmulq_f32(one_b1, g));
        const float32x4_t vi = vaddq_f32(vmulq_f32(b2, vld1q_f32(v + i)), vmulq_f32(vmulq_f32(one_b2, g), g));
        vst1q_f32(m + i, mi);
        vst1q_f32(v + i, vi);
        const float32x4_t step = vdivq_f32(vmulq_f32(corrected, mi), vaddq_f32(vsqrtq_f32(vi), eps));
        vst1q_f32(value + i, vsubq_f32(w, step));
        if (a.zero_grad) vst1q_f32(grad + i, vdupq_n_f32(0.0f));
    }
    adam_update_reference(a, value + i, grad + i, m + i, v + i, n - i);
}

}  // namespace lenet::kernels
