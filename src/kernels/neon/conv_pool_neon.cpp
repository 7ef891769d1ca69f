// Direct convolution + 2x2 max pool with NEON (kernels/ops/conv_pool.h), conv_pool_avx2.cpp's
// scheme: filters in blocks of 16 (V = 4 vectors, then 8: V = 2); for each pooled output its four
// convolution outputs are summed in registers, one FMA per tap from zero in the im2col rows' order
// (as gemm_8x12_neon.cpp sums a k block of at most kConvPoolMaxTaps), so the outputs equal im2col +
// gemm_neon + max pool bit for bit; then compared into the window's maximum and argmax (the
// reference's scan order and strict '>'). Written channels-last, then moved to CHW.
#include <arm_neon.h>

#include <algorithm>
#include <bit>

#include "kernels/neon/neon.h"
#include "kernels/ops/conv_pool.h"

namespace lenet::kernels {
namespace {

struct Plane {
    const float* image;  // zero-padded CHW
    int height, width;   // padded
};

template <int V, bool Argmax>
void conv_pool_block(const ConvGeometry& g, const Plane& in, int filters, int f0, const float* taps_major,
                     const int* tap_offsets, float* best_hwc, std::int32_t* index_hwc) {
    const int oh = g.out_h(), ow = g.out_w(), spatial = oh * ow, pw = ow / 2, taps = g.channels * g.size * g.size;
    const std::size_t right = std::size_t(g.stride), down = std::size_t(g.stride) * std::size_t(in.width);
    // Lane i of vector v is filter f0 + 4 v + i, whose argmax indices start at its filter * spatial.
    int32x4_t filter_base[V];
    const int32x4_t lanes = {0, 1, 2, 3};
    for (int v = 0; v < V; ++v)
        filter_base[v] = vmulq_n_s32(vaddq_s32(vdupq_n_s32(f0 + 4 * v), lanes), spatial);
    for (int py = 0; py < oh / 2; ++py)
        for (int px = 0; px < pw; ++px) {
            // Outputs j = 0..3 of the window in the pool's scan order: (y, x), (y, x+1), (y+1, x), (y+1, x+1).
            const int y = 2 * py, x = 2 * px;
            const float* top_left = in.image + std::size_t(y) * down + std::size_t(x) * right;
            float32x4_t acc[4][V];
            for (int j = 0; j < 4; ++j)
                for (int v = 0; v < V; ++v) acc[j][v] = vdupq_n_f32(0.0f);
            const float* w = taps_major + f0;
            for (int t = 0; t < taps; ++t, w += filters) {
                const float* tap = top_left + tap_offsets[t];
                const float p0 = tap[0], p1 = tap[right], p2 = tap[down], p3 = tap[down + right];
#pragma GCC unroll 4
                for (int v = 0; v < V; ++v) {
                    const float32x4_t weight = vld1q_f32(w + 4 * v);
                    acc[0][v] = vfmaq_n_f32(acc[0][v], weight, p0);
                    acc[1][v] = vfmaq_n_f32(acc[1][v], weight, p1);
                    acc[2][v] = vfmaq_n_f32(acc[2][v], weight, p2);
                    acc[3][v] = vfmaq_n_f32(acc[3][v], weight, p3);
                }
            }
            const int first = y * ow + x;
            const int offsets[4] = {0, 1, ow, ow + 1};
            const std::size_t o = (std::size_t(py) * std::size_t(pw) + std::size_t(px)) * std::size_t(filters) +
                                  std::size_t(f0);
            for (int v = 0; v < V; ++v) {
                float32x4_t best = acc[0][v];
                int32x4_t index = vdupq_n_s32(first);
                for (int j = 1; j < 4; ++j) {
                    const uint32x4_t wins = vcgtq_f32(acc[j][v], best);
                    best = vbslq_f32(wins, acc[j][v], best);
                    if constexpr (Argmax) index = vbslq_s32(wins, vdupq_n_s32(first + offsets[j]), index);
                }
                vst1q_f32(best_hwc + o + 4 * v, best);
                if constexpr (Argmax) vst1q_s32(index_hwc + o + 4 * v, vaddq_s32(index, filter_base[v]));
            }
        }
}

}  // namespace

void conv_maxpool_direct_neon(const ConvGeometry& g, int filters, const float* taps_major, const float* image,
                              float* pooled, std::int32_t* argmax, float* scratch) {
    Plane in{image, g.height, g.width};
    float* next = scratch;
    if (g.pad > 0) {
        // A zero-bordered copy, so no window needs clipping.
        in = {scratch, g.height + 2 * g.pad, g.width + 2 * g.pad};
        const std::size_t padded = std::size_t(g.channels) * std::size_t(in.height) * std::size_t(in.width);
        std::fill(scratch, scratch + padded, 0.0f);
        for (int c = 0; c < g.channels; ++c)
            for (int y = 0; y < g.height; ++y)
                std::copy_n(image + (std::size_t(c) * std::size_t(g.height) + std::size_t(y)) * std::size_t(g.width),
                            g.width,
                            scratch + (std::size_t(c) * std::size_t(in.height) + std::size_t(y + g.pad)) *
                                          std::size_t(in.width) + std::size_t(g.pad));
        next = scratch + padded;
    }
    const int pooled_spatial = (g.out_h() / 2) * (g.out_w() / 2);
    float* best_hwc = next;
    // int32 indices in the float scratch (the same size; scratch floats are never read as floats).
    auto* index_hwc = reinterpret_cast<std::int32_t*>(next + std::size_t(pooled_spatial) * std::size_t(filters));
    int tap_offsets[kConvPoolMaxTaps];
    for (int c = 0, t = 0; c < g.channels; ++c)
        for (int ky = 0; ky < g.size; ++ky)
            for (int kx = 0; kx < g.size; ++kx) tap_offsets[t++] = (c * in.height + ky) * in.width + kx;
    int f0 = 0;
    const auto block = [&]<int V>() {
        if (argmax)
            conv_pool_block<V, true>(g, in, filters, f0, taps_major, tap_offsets, best_hwc, index_hwc);
        else
            conv_pool_block<V, false>(g, in, filters, f0, taps_major, tap_offsets, best_hwc, index_hwc);
    };
    for (; f0 + 16 <= filters; f0 += 16) block.template operator()<4>();
    if (f0 < filters) block.template operator()<2>();  // filters % 8 == 0: one block of 8 left
    for (int f = 0; f < filters; ++f)
        for (int p = 0; p < pooled_spatial; ++p) {
            const std::size_t from = std::size_t(p) * std::size_t(filters) + std::size_t(f);
            const std::size_t to = std::size_t(f) * std::size_t(pooled_spatial) + std::size_t(p);
            pooled[to] = best_hwc[from];
            if (argmax) argmax[to] = index_hwc[from];
        }
}

}  // namespace lenet::kernels
