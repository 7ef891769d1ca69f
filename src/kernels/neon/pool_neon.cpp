// 2x2 stride-2 max pool with NEON: four windows at a time, each row's 8 inputs split into their
// even and odd columns (vld2q_f32), the taps taken in the reference's scan order with its rule (the
// first tap, then a strict '>', so ties keep the earlier tap and a NaN never wins a comparison):
// outputs and argmax bit-identical. Windows that run off the image go through the scalar rule.
#include <arm_neon.h>

#include <cstddef>
#include <cstdint>

#include "kernels/neon/neon.h"
#include "kernels/ops/pool.h"

namespace lenet::kernels {
namespace {

// The window at output (y, x), taps off the image skipped.
inline void pool_window(const float* image, int height, int width, int y, int x, std::int32_t index_plane, float* out,
                        std::int32_t* argmax) {
    float best = 0.0f;
    std::int32_t index = -1;
    for (int iy = 2 * y; iy < 2 * y + 2 && iy < height; ++iy)
        for (int ix = 2 * x; ix < 2 * x + 2 && ix < width; ++ix) {
            const float v = image[std::size_t(iy) * std::size_t(width) + std::size_t(ix)];
            if (index < 0 || v > best) {
                best = v;
                index = index_plane + iy * width + ix;
            }
        }
    *out = index < 0 ? 0.0f : best;
    *argmax = index;
}

inline void take_if_greater(float32x4_t candidate, int32x4_t candidate_index, float32x4_t& best, int32x4_t& index) {
    const uint32x4_t greater = vcgtq_f32(candidate, best);
    best = vbslq_f32(greater, candidate, best);
    index = vbslq_s32(greater, candidate_index, index);
}

}  // namespace

void maxpool_2x2s2_neon(const PoolGeometry& g, int batch, const float* in, float* out, std::int32_t* argmax) {
    const int height = g.height, width = g.width, oh = g.out_h(), ow = g.out_w();
    const int full_x = ow < width / 2 ? ow : width / 2;
    const int full_y = oh < height / 2 ? oh : height / 2;
    const std::size_t plane = std::size_t(height) * std::size_t(width), out_plane = std::size_t(oh) * std::size_t(ow);
    const int32x4_t lane_step = {0, 2, 4, 6};
    for (int b = 0; b < batch; ++b)
        for (int c = 0; c < g.channels; ++c) {
            const std::size_t p = std::size_t(b) * std::size_t(g.channels) + std::size_t(c);
            const float* image = in + p * plane;
            const std::int32_t index_plane = std::int32_t(c) * height * width;
            for (int y = 0; y < oh; ++y) {
                const std::size_t o = p * out_plane + std::size_t(y) * std::size_t(ow);
                int x = 0;
                if (y < full_y) {
                    const float* top = image + std::size_t(2 * y) * std::size_t(width);
                    const float* bottom = top + width;
                    const std::int32_t top_index = index_plane + 2 * y * width;
                    for (; x + 4 <= full_x; x += 4) {
                        const float32x4x2_t t = vld2q_f32(top + 2 * x), u = vld2q_f32(bottom + 2 * x);
                        const int32x4_t index00 = vaddq_s32(vdupq_n_s32(top_index + 2 * x), lane_step);
                        float32x4_t best = t.val[0];
                        int32x4_t index = index00;
                        take_if_greater(t.val[1], vaddq_s32(index00, vdupq_n_s32(1)), best, index);
                        take_if_greater(u.val[0], vaddq_s32(index00, vdupq_n_s32(width)), best, index);
                        take_if_greater(u.val[1], vaddq_s32(index00, vdupq_n_s32(width + 1)), best, index);
                        vst1q_f32(out + o + std::size_t(x), best);
                        vst1q_s32(argmax + o + std::size_t(x), index);
                    }
                }
                for (; x < ow; ++x) pool_window(image, height, width, y, x, index_plane, out + o + x, argmax + o + x);
            }
        }
}

}  // namespace lenet::kernels
