// Activations with NEON: the reference's float operations lane by lane (compare, select,
// multiply), so bit-identical; the ragged tail runs the reference. logistic and tanh forward stay
// on the reference: their cost is the scalar libm call.
#include <arm_neon.h>

#include <cstddef>

#include "kernels/neon/neon.h"
#include "kernels/ops/activation.h"

namespace lenet::kernels {
namespace {

constexpr float kLeakySlope = 0.1f;  // as activation.cpp

template <class F>
inline std::size_t map_in_place(float* x, std::size_t n, F f) {
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(x + i, f(vld1q_f32(x + i)));
    return i;
}

// delta = f(y, delta), lane by lane; returns how many were done.
template <class F>
inline std::size_t map_gradient(const float* y, float* delta, std::size_t n, F f) {
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(delta + i, f(vld1q_f32(y + i), vld1q_f32(delta + i)));
    return i;
}

inline uint32x4_t positive(float32x4_t v) { return vcgtq_f32(v, vdupq_n_f32(0.0f)); }

}  // namespace

void activate_neon(Activation activation, float* x, std::size_t n) {
    std::size_t done = 0;
    switch (activation) {
        case Activation::linear: return;
        case Activation::relu:
            done = map_in_place(x, n, [](float32x4_t v) {
                return vreinterpretq_f32_u32(vandq_u32(positive(v), vreinterpretq_u32_f32(v)));
            });
            break;
        case Activation::leaky:
            done = map_in_place(x, n, [](float32x4_t v) {
                return vbslq_f32(positive(v), v, vmulq_f32(vdupq_n_f32(kLeakySlope), v));
            });
            break;
        case Activation::logistic:
        case Activation::tanh: break;
    }
    activate_reference(activation, x + done, n - done);
}

void activation_gradient_neon(Activation activation, const float* y, float* delta, std::size_t n) {
    const float32x4_t one = vdupq_n_f32(1.0f);
    std::size_t done = 0;
    switch (activation) {
        case Activation::linear: return;
        case Activation::relu:
            done = map_gradient(y, delta, n, [](float32x4_t v, float32x4_t d) {
                return vreinterpretq_f32_u32(vandq_u32(positive(v), vreinterpretq_u32_f32(d)));
            });
            break;
        case Activation::leaky:
            done = map_gradient(y, delta, n, [one](float32x4_t v, float32x4_t d) {
                return vmulq_f32(d, vbslq_f32(positive(v), one, vdupq_n_f32(kLeakySlope)));
            });
            break;
        case Activation::logistic:
            done = map_gradient(y, delta, n, [one](float32x4_t v, float32x4_t d) {
                return vmulq_f32(d, vmulq_f32(v, vsubq_f32(one, v)));
            });
            break;
        case Activation::tanh:
            done = map_gradient(y, delta, n, [one](float32x4_t v, float32x4_t d) {
                return vmulq_f32(d, vsubq_f32(one, vmulq_f32(v, v)));
            });
            break;
    }
    activation_gradient_reference(activation, y + done, delta + done, n - done);
}

}  // namespace lenet::kernels
