#include "kernels/ops/channels_last.h"

#include <algorithm>

namespace lenet::kernels {

namespace {

int padded_height(const ConvGeometry& g) { return g.height + 2 * g.pad; }
int padded_width(const ConvGeometry& g) { return g.width + 2 * g.pad; }

}  // namespace

void to_channels_last_reference(const ConvGeometry& g, const float* chw, float* hwc) {
    std::fill(hwc, hwc + channels_last_floats(g), 0.0f);
    const int wp = padded_width(g);
    for (int c = 0; c < g.channels; ++c)
        for (int y = 0; y < g.height; ++y)
            for (int x = 0; x < g.width; ++x)
                hwc[(std::size_t(y + g.pad) * wp + std::size_t(x + g.pad)) * g.channels + c] =
                    chw[(std::size_t(c) * g.height + y) * g.width + x];
}

void from_channels_last_reference(const ConvGeometry& g, const float* hwc, float* chw) {
    const int wp = padded_width(g);
    for (int c = 0; c < g.channels; ++c)
        for (int y = 0; y < g.height; ++y)
            for (int x = 0; x < g.width; ++x)
                chw[(std::size_t(c) * g.height + y) * g.width + x] =
                    hwc[(std::size_t(y + g.pad) * wp + std::size_t(x + g.pad)) * g.channels + c];
}

std::size_t channels_last_floats(const ConvGeometry& g) {
    return std::size_t(padded_height(g)) * std::size_t(padded_width(g)) * std::size_t(g.channels);
}

void weights_to_channels_last(const ConvGeometry& g, int filters, const float* weights, float* hwc_weights) {
    const int k = g.size, c_count = g.channels;
    for (int f = 0; f < filters; ++f)
        for (int c = 0; c < c_count; ++c)
            for (int i = 0; i < k * k; ++i)
                hwc_weights[(std::size_t(f) * k * k + i) * c_count + c] = weights[(std::size_t(f) * c_count + c) * k * k + i];
}

void add_weights_from_channels_last(const ConvGeometry& g, int filters, const float* hwc_weights, float* weights) {
    const int k = g.size, c_count = g.channels;
    for (int f = 0; f < filters; ++f)
        for (int c = 0; c < c_count; ++c)
            for (int i = 0; i < k * k; ++i)
                weights[(std::size_t(f) * c_count + c) * k * k + i] += hwc_weights[(std::size_t(f) * k * k + i) * c_count + c];
}

void pooled_conv_backward_channels_last_reference(const PooledConvShape& s, const float* delta,
                                                  const std::int32_t* argmax, const float* image,
                                                  const float* weights, float* weight_grad, float* image_grad) {
    const ConvGeometry& g = s.conv;
    const int out_w = g.out_w(), spatial = g.out_h() * out_w, wp = padded_width(g);
    const std::size_t run = std::size_t(g.size) * std::size_t(g.channels), window = run * std::size_t(g.size);
    for (int f = 0; f < s.filters; ++f)
        for (int o = 0; o < s.pooled; ++o) {
            const std::size_t i = std::size_t(f) * s.pooled + o;
            if (argmax[i] < 0) continue;
            const int q = argmax[i] - f * spatial;
            const std::size_t y = std::size_t(q / out_w) * g.stride, x = std::size_t(q % out_w) * g.stride;
            for (int ky = 0; ky < g.size; ++ky) {
                const std::size_t at = ((y + ky) * wp + x) * g.channels;
                float* wg = weight_grad + f * window + ky * run;
                for (std::size_t j = 0; j < run; ++j) wg[j] += delta[i] * image[at + j];
                if (!image_grad) continue;
                const float* w = weights + f * window + ky * run;
                for (std::size_t j = 0; j < run; ++j) image_grad[at + j] += delta[i] * w[j];
            }
        }
}

std::size_t pooled_conv_scratch_floats(const PooledConvShape& s) {
    return 2 * std::size_t(s.pooled) + std::size_t(s.conv.out_h()) * std::size_t(s.conv.out_w());
}

}  // namespace lenet::kernels
