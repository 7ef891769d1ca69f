// Channels-last pooled convolution backward and the layout changes, with AVX2. Channels come in
// multiples of 8, so every run of a window row is whole vectors and an 8-channel slab moves between
// CHW and HWC with 8x8 register transposes.
#include <immintrin.h>

#include <algorithm>
#include <bit>

#include "kernels/avx2/avx2.h"
#include "kernels/avx2/accumulate_avx2.h"
#include "kernels/ops/channels_last.h"
#include "kernels/ops/pooled_terms.h"
#include "kernels/avx2/transpose_avx2.h"

namespace lenet::kernels {

void to_channels_last_avx2(const ConvGeometry& g, const float* chw, float* hwc) {
    const std::size_t plane = std::size_t(g.height) * std::size_t(g.width), channels = std::size_t(g.channels);
    if (g.pad == 0) {
        for (int c = 0; c < g.channels; c += 8) transpose_8xn(chw + c * plane, plane, int(plane), hwc + c, channels);
        return;
    }
    std::fill(hwc, hwc + channels_last_floats(g), 0.0f);
    const std::size_t wp = std::size_t(g.width + 2 * g.pad);
    for (int y = 0; y < g.height; ++y)
        for (int c = 0; c < g.channels; c += 8)
            transpose_8xn(chw + c * plane + std::size_t(y) * g.width, plane, g.width,
                                  hwc + ((std::size_t(y + g.pad) * wp + std::size_t(g.pad)) * channels) + c, channels);
}

void from_channels_last_avx2(const ConvGeometry& g, const float* hwc, float* chw) {
    const std::size_t plane = std::size_t(g.height) * std::size_t(g.width), channels = std::size_t(g.channels);
    if (g.pad == 0) {
        for (int c = 0; c < g.channels; c += 8) transpose_nx8(hwc + c, channels, int(plane), chw + c * plane, plane);
        return;
    }
    const std::size_t wp = std::size_t(g.width + 2 * g.pad);
    for (int y = 0; y < g.height; ++y)
        for (int c = 0; c < g.channels; c += 8)
            transpose_nx8(hwc + ((std::size_t(y + g.pad) * wp + std::size_t(g.pad)) * channels) + c, channels, g.width,
                          chw + c * plane + std::size_t(y) * g.width, plane);
}

void pooled_conv_backward_channels_last_avx2(const PooledConvShape& s, const float* delta, const std::int32_t* argmax,
                                             const float* image, const float* weights, float* weight_grad,
                                             float* image_grad, float* scratch) {
    const ConvGeometry& g = s.conv;
    const int run = g.size * g.channels;
    const std::size_t window = std::size_t(run) * std::size_t(g.size);
    PooledTerms live(s, scratch);
    const int row_stride = live.row_stride();
    for (int f = 0; f < s.filters; ++f) {
        const int terms = live.gather(f, delta, argmax);
        if (terms == 0) continue;
        float* grad = weight_grad + f * window;
        for (int ky = 0; ky < g.size; ++ky) {
            const float* base = image + ky * row_stride;
            const auto term = [&](int t, bool, float& value, const float*& row) {
                value = live.value(t);
                row = base + live.offset(t);
                return true;
            };
            accumulate_rows(terms, term, run, run, grad + ky * run);
        }
        if (!image_grad) continue;
        const float* w = weights + f * window;
        for (int t = 0; t < terms; ++t) {
            const __m256 d = _mm256_set1_ps(live.value(t));
            float* target = image_grad + live.offset(t);
            for (int ky = 0; ky < g.size; ++ky) {
                float* row = target + ky * row_stride;
                const float* w_row = w + ky * run;
                for (int j = 0; j < run; j += 8)
                    _mm256_storeu_ps(row + j, _mm256_fmadd_ps(d, _mm256_loadu_ps(w_row + j), _mm256_loadu_ps(row + j)));
            }
        }
    }
}

}  // namespace lenet::kernels
