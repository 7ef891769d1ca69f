#include "kernels/ops/pool.h"

#include <algorithm>
#include <cstddef>
#include <limits>

namespace lenet::kernels {

void maxpool_forward_reference(const PoolGeometry& g, int batch, const float* in, float* out, std::int32_t* argmax) {
    const int oh = g.out_h(), ow = g.out_w(), offset = -g.padding / 2;
    const std::size_t in_image = std::size_t(g.channels) * g.height * g.width;
    const std::size_t out_image = std::size_t(g.channels) * oh * ow;
    for (int b = 0; b < batch; ++b) {
        const float* image = in + b * in_image;
        for (int c = 0; c < g.channels; ++c) {
            for (int y = 0; y < oh; ++y) {
                for (int x = 0; x < ow; ++x) {
                    float best = -std::numeric_limits<float>::infinity();
                    std::int32_t best_index = -1;
                    for (int ky = 0; ky < g.size; ++ky) {
                        const int iy = y * g.stride + ky + offset;
                        if (iy < 0 || iy >= g.height) continue;
                        for (int kx = 0; kx < g.size; ++kx) {
                            const int ix = x * g.stride + kx + offset;
                            if (ix < 0 || ix >= g.width) continue;
                            const std::int32_t index = std::int32_t((c * g.height + iy) * g.width + ix);
                            if (best_index < 0 || image[index] > best) {
                                best = image[index];
                                best_index = index;
                            }
                        }
                    }
                    const std::size_t o = b * out_image + (std::size_t(c) * oh + y) * ow + x;
                    out[o] = best_index < 0 ? 0.0f : best;
                    argmax[o] = best_index;
                }
            }
        }
    }
}

void maxpool_backward_add_reference(const PoolGeometry& g, int batch, const float* delta, const std::int32_t* argmax,
                                    float* in_grad) {
    const std::size_t in_image = std::size_t(g.channels) * g.height * g.width;
    const std::size_t out_image = std::size_t(g.channels) * g.out_h() * g.out_w();
    for (int b = 0; b < batch; ++b)
        for (std::size_t o = 0; o < out_image; ++o) {
            const std::int32_t index = argmax[b * out_image + o];
            if (index >= 0) in_grad[b * in_image + std::size_t(index)] += delta[b * out_image + o];
        }
}

void maxpool_backward_set_reference(const PoolGeometry& g, int batch, const float* delta, const std::int32_t* argmax,
                                    float* in_grad) {
    const std::size_t in_image = std::size_t(g.channels) * g.height * g.width;
    std::fill(in_grad, in_grad + std::size_t(batch) * in_image, 0.0f);
    maxpool_backward_add_reference(g, batch, delta, argmax, in_grad);
}

void global_avgpool_forward(int batch, int channels, int spatial, const float* in, float* out) {
    for (int b = 0; b < batch; ++b)
        for (int c = 0; c < channels; ++c) {
            const float* p = in + (std::size_t(b) * channels + c) * spatial;
            float sum = 0.0f;
            for (int s = 0; s < spatial; ++s) sum += p[s];
            out[std::size_t(b) * channels + c] = sum / float(spatial);
        }
}

void global_avgpool_backward_add(int batch, int channels, int spatial, const float* delta, float* in_grad) {
    for (int b = 0; b < batch; ++b)
        for (int c = 0; c < channels; ++c) {
            float* p = in_grad + (std::size_t(b) * channels + c) * spatial;
            const float share = delta[std::size_t(b) * channels + c] / float(spatial);
            for (int s = 0; s < spatial; ++s) p[s] += share;
        }
}

}  // namespace lenet::kernels

namespace lenet::kernels {

bool is_maxpool_2x2s2(const PoolGeometry& g) {
    return g.size == 2 && g.stride == 2 && (g.padding == 0 || g.padding == 1);
}

bool is_maxpool_2x2s1(const PoolGeometry& g) {
    return g.size == 2 && g.stride == 1 && (g.padding == 0 || g.padding == 1) && g.height >= 1 && g.width >= 1;
}

}  // namespace lenet::kernels
