// Direct convolution + 2x2 max pool with AVX2 (kernels/ops/conv_pool.h). Filters go in blocks of 16
// (V = 2 vectors, then one of 8); for each pooled output, its four convolution outputs are summed in
// registers, then compared into the window's maximum and argmax (the reference's scan order and
// strict '>'). Maxima and argmax are written channels-last, then transposed to CHW.
#include <immintrin.h>

#include <algorithm>
#include <bit>

#include "kernels/avx2/avx2.h"
#include "kernels/ops/conv_pool.h"
#include "kernels/avx2/transpose_avx2.h"

namespace lenet::kernels {
namespace {

struct Plane {
    const float* image;  // zero-padded CHW
    int height, width;   // padded
};

// Filters f0 .. f0 + 8 V. The four convolution outputs of a window are summed together (4 V
// independent FMA chains keep both FMA units busy), one broadcast per output and V weight loads per
// tap; tap_offsets[t] locates tap t in the padded image relative to a window's top-left input.
template <int V, bool Argmax>
void conv_pool_block(const ConvGeometry& g, const Plane& in, int filters, int f0, const float* taps_major,
                     const int* tap_offsets, float* best_hwc, float* index_hwc) {
    const int oh = g.out_h(), ow = g.out_w(), spatial = oh * ow, pw = ow / 2, taps = g.channels * g.size * g.size;
    const std::size_t right = std::size_t(g.stride), down = std::size_t(g.stride) * in.width;
    // Lane i of vector v is filter f0 + 8 v + i, whose argmax indices start at its filter * spatial.
    __m256i filter_base[V];
    for (int v = 0; v < V; ++v)
        filter_base[v] = _mm256_mullo_epi32(
            _mm256_add_epi32(_mm256_set1_epi32(f0 + 8 * v), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)),
            _mm256_set1_epi32(spatial));
    for (int py = 0; py < oh / 2; ++py)
        for (int px = 0; px < pw; ++px) {
            // Outputs j = 0..3 of the window in the pool's scan order: (y, x), (y, x+1), (y+1, x), (y+1, x+1).
            const int y = 2 * py, x = 2 * px;
            const float* top_left = in.image + std::size_t(y) * down + std::size_t(x) * right;
            __m256 acc[4][V];
#pragma GCC unroll 4
            for (int j = 0; j < 4; ++j)
#pragma GCC unroll 4
                for (int v = 0; v < V; ++v) acc[j][v] = _mm256_setzero_ps();
            const float* w = taps_major + f0;
            for (int t = 0; t < taps; ++t, w += filters) {
                const float* tap = top_left + tap_offsets[t];
                __m256 weight[V];
#pragma GCC unroll 4
                for (int v = 0; v < V; ++v) weight[v] = _mm256_loadu_ps(w + 8 * v);
                const __m256 p0 = _mm256_broadcast_ss(tap), p1 = _mm256_broadcast_ss(tap + right);
                const __m256 p2 = _mm256_broadcast_ss(tap + down), p3 = _mm256_broadcast_ss(tap + down + right);
#pragma GCC unroll 4
                for (int v = 0; v < V; ++v) {
                    acc[0][v] = _mm256_fmadd_ps(p0, weight[v], acc[0][v]);
                    acc[1][v] = _mm256_fmadd_ps(p1, weight[v], acc[1][v]);
                    acc[2][v] = _mm256_fmadd_ps(p2, weight[v], acc[2][v]);
                    acc[3][v] = _mm256_fmadd_ps(p3, weight[v], acc[3][v]);
                }
            }
            const int first = y * ow + x;
            const std::size_t o = (std::size_t(py) * pw + px) * filters + f0;
#pragma GCC unroll 4
            for (int v = 0; v < V; ++v) {
                __m256 best = acc[0][v];
                __m256i index = _mm256_set1_epi32(first);
                const int offsets[4] = {0, 1, ow, ow + 1};
#pragma GCC unroll 4
                for (int j = 1; j < 4; ++j) {
                    const __m256 wins = _mm256_cmp_ps(acc[j][v], best, _CMP_GT_OQ);
                    best = _mm256_blendv_ps(best, acc[j][v], wins);
                    if constexpr (Argmax)
                        index = _mm256_castps_si256(_mm256_blendv_ps(
                            _mm256_castsi256_ps(index), _mm256_castsi256_ps(_mm256_set1_epi32(first + offsets[j])), wins));
                }
                _mm256_storeu_ps(best_hwc + o + 8 * v, best);
                if constexpr (Argmax)
                    _mm256_storeu_ps(index_hwc + o + 8 * v, _mm256_castsi256_ps(_mm256_add_epi32(index, filter_base[v])));
            }
        }
}

}  // namespace

void conv_maxpool_direct_avx2(const ConvGeometry& g, int filters, const float* taps_major, const float* image,
                              float* pooled, std::int32_t* argmax, float* scratch) {
    Plane in{image, g.height, g.width};
    float* next = scratch;
    if (g.pad > 0) {
        // A zero-bordered copy, so no window needs clipping.
        in = {scratch, g.height + 2 * g.pad, g.width + 2 * g.pad};
        const std::size_t padded = std::size_t(g.channels) * in.height * in.width;
        std::fill(scratch, scratch + padded, 0.0f);
        for (int c = 0; c < g.channels; ++c)
            for (int y = 0; y < g.height; ++y)
                std::copy_n(image + (std::size_t(c) * g.height + y) * g.width, g.width,
                            scratch + (std::size_t(c) * in.height + y + g.pad) * in.width + g.pad);
        next = scratch + padded;
    }
    const int pooled_spatial = (g.out_h() / 2) * (g.out_w() / 2);
    float* best_hwc = next;
    float* index_hwc = next + std::size_t(pooled_spatial) * filters;  // int32 indices, bit-cast
    int tap_offsets[kConvPoolMaxTaps];
    for (int c = 0, t = 0; c < g.channels; ++c)
        for (int ky = 0; ky < g.size; ++ky)
            for (int kx = 0; kx < g.size; ++kx) tap_offsets[t++] = (c * in.height + ky) * in.width + kx;
    int f0 = 0;
    const auto block = [&]<int V>() {
        if (argmax) conv_pool_block<V, true>(g, in, filters, f0, taps_major, tap_offsets, best_hwc, index_hwc);
        else conv_pool_block<V, false>(g, in, filters, f0, taps_major, tap_offsets, best_hwc, index_hwc);
    };
    for (; f0 + 16 <= filters; f0 += 16) block.template operator()<2>();
    if (f0 < filters) block.template operator()<1>();
    for (int c0 = 0; c0 < filters; c0 += 8) {
        transpose_nx8(best_hwc + c0, std::size_t(filters), pooled_spatial, pooled + std::size_t(c0) * pooled_spatial,
                             std::size_t(pooled_spatial));
        if (!argmax) continue;
        // The indices move as float bit patterns (no arithmetic, so bit-exact) and land as int32.
        int p = 0;
        for (; p + 8 <= pooled_spatial; p += 8) {
            __m256 r[8];
            for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(index_hwc + std::size_t(p + i) * filters + c0);
            transpose_8x8(r);
            for (int i = 0; i < 8; ++i)
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(argmax + std::size_t(c0 + i) * pooled_spatial + p),
                                    _mm256_castps_si256(r[i]));
        }
        for (; p < pooled_spatial; ++p)
            for (int i = 0; i < 8; ++i)
                argmax[std::size_t(c0 + i) * pooled_spatial + p] =
                    std::bit_cast<std::int32_t>(index_hwc[std::size_t(p) * filters + c0 + i]);
    }
}

}  // namespace lenet::kernels
