// Channels-last pooled convolution backward with NEON. Channels come in multiples of 4, so every
// run of a window row is whole q registers. A filter's live terms gathered (ops/pooled_terms.h),
// each window row's weight gradient sums all terms in registers, and each term adds its scaled
// filter to the image gradient.
#include <arm_neon.h>

#include <algorithm>
#include <bit>

#include "kernels/neon/neon.h"
#include "kernels/ops/pooled_terms.h"

namespace lenet::kernels {

namespace {

// grad[0 .. 4W) += sum over terms t of values[t] * (base + offset t)[0 .. 4W), the offsets int32 bit-cast
// to float in the scratch. Narrow blocks deal
// their terms round-robin to several accumulator sets so the FMAs do not wait on each other.
template <int W>
void accumulate_block(int terms, const float* values, const float* offsets, const float* base, float* grad) {
    constexpr int kSets = W >= 8 ? 1 : 8 / W;
    float32x4_t acc[kSets][W];
    for (int s = 0; s < kSets; ++s)
        for (int w = 0; w < W; ++w) acc[s][w] = vdupq_n_f32(0.0f);
    int t = 0;
    for (; t + kSets <= terms; t += kSets)
        for (int s = 0; s < kSets; ++s) {
            const float* row = base + std::bit_cast<std::int32_t>(offsets[t + s]);
            for (int w = 0; w < W; ++w) acc[s][w] = vfmaq_n_f32(acc[s][w], vld1q_f32(row + 4 * w), values[t + s]);
        }
    for (; t < terms; ++t) {
        const float* row = base + std::bit_cast<std::int32_t>(offsets[t]);
        for (int w = 0; w < W; ++w) acc[0][w] = vfmaq_n_f32(acc[0][w], vld1q_f32(row + 4 * w), values[t]);
    }
    for (int s = 1; s < kSets; ++s)
        for (int w = 0; w < W; ++w) acc[0][w] = vaddq_f32(acc[0][w], acc[s][w]);
    for (int w = 0; w < W; ++w) vst1q_f32(grad + 4 * w, vaddq_f32(vld1q_f32(grad + 4 * w), acc[0][w]));
}

// A row of `width` floats (a multiple of 4) in blocks of 8, 4, 2 and 1 q registers.
void accumulate_row(int terms, const float* values, const float* offsets, const float* base, int width,
                    float* grad) {
    for (int p = 0; p < width;) {
        const int vectors = (width - p) / 4;
        if (vectors >= 8) {
            accumulate_block<8>(terms, values, offsets, base + p, grad + p);
            p += 32;
        } else if (vectors >= 4) {
            accumulate_block<4>(terms, values, offsets, base + p, grad + p);
            p += 16;
        } else if (vectors >= 2) {
            accumulate_block<2>(terms, values, offsets, base + p, grad + p);
            p += 8;
        } else {
            accumulate_block<1>(terms, values, offsets, base + p, grad + p);
            p += 4;
        }
    }
}

}  // namespace

void pooled_conv_backward_channels_last_neon(const PooledConvShape& s, const float* delta, const std::int32_t* argmax,
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
        for (int ky = 0; ky < g.size; ++ky)
            accumulate_row(terms, live.values(), live.offsets(), image + ky * row_stride, run, grad + ky * run);
        if (!image_grad) continue;
        const float* w = weights + f * window;
        for (int t = 0; t < terms; ++t) {
            float* target = image_grad + live.offset(t);
            for (int ky = 0; ky < g.size; ++ky) {
                float* row = target + ky * row_stride;
                const float* w_row = w + ky * run;
                for (int j = 0; j < run; j += 4)
                    vst1q_f32(row + j, vfmaq_n_f32(vld1q_f32(row + j), vld1q_f32(w_row + j), live.value(t)));
            }
        }
    }
}

}  // namespace lenet::kernels
