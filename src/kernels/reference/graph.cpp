#include "kernels/ops/graph.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace lenet::kernels {

void copy_rows_reference(int rows, std::size_t count, const float* src, std::size_t src_stride, float* dst,
                         std::size_t dst_stride) {
    for (int r = 0; r < rows; ++r)
        std::memcpy(dst + std::size_t(r) * dst_stride, src + std::size_t(r) * src_stride, count * sizeof(float));
}

void add_rows_reference(int rows, std::size_t count, const float* src, std::size_t src_stride, float* dst,
                        std::size_t dst_stride) {
    for (int r = 0; r < rows; ++r) {
        const float* from = src + std::size_t(r) * src_stride;
        float* to = dst + std::size_t(r) * dst_stride;
        for (std::size_t t = 0; t < count; ++t) to[t] += from[t];
    }
}

namespace {

// Calls f(output index, from index) for every paired position, as Darknet's shortcut_cpu.
template <class F>
void for_pairs(const ShortcutGeometry& g, int batch, F f) {
    const int stride = std::max(1, g.from_width / g.width);  // from is larger: step over it
    const int sample = std::max(1, g.width / g.from_width);  // from is smaller: step over the output
    const int min_w = std::min(g.width, g.from_width), min_h = std::min(g.height, g.from_height);
    const int min_c = std::min(g.channels, g.from_channels);
    for (int b = 0; b < batch; ++b)
        for (int k = 0; k < min_c; ++k)
            for (int j = 0; j < min_h; ++j)
                for (int i = 0; i < min_w; ++i) {
                    const std::size_t out =
                        std::size_t(i * sample) +
                        std::size_t(g.width) *
                            (std::size_t(j * sample) +
                             std::size_t(g.height) * (std::size_t(k) + std::size_t(g.channels) * std::size_t(b)));
                    const std::size_t add =
                        std::size_t(i * stride) +
                        std::size_t(g.from_width) *
                            (std::size_t(j * stride) +
                             std::size_t(g.from_height) *
                                 (std::size_t(k) + std::size_t(g.from_channels) * std::size_t(b)));
                    f(out, add);
                }
}

std::size_t total_of(const ShortcutGeometry& g, int batch) {
    return std::size_t(batch) * std::size_t(g.channels) * std::size_t(g.height) * std::size_t(g.width);
}

}  // namespace

void shortcut_forward_reference(const ShortcutGeometry& g, int batch, float alpha, const float* previous, float beta,
                                const float* from, float* out) {
    const std::size_t total = total_of(g, batch);
    if (g.same()) {
        for (std::size_t t = 0; t < total; ++t) out[t] = alpha * previous[t] + beta * from[t];
        return;
    }
    std::memcpy(out, previous, total * sizeof(float));
    for_pairs(g, batch, [&](std::size_t o, std::size_t a) { out[o] = alpha * out[o] + beta * from[a]; });
}

void shortcut_backward_reference(const ShortcutGeometry& g, int batch, float alpha, float beta, const float* delta,
                                 float* previous_grad, float* from_grad) {
    const std::size_t total = total_of(g, batch);
    if (float* grad = previous_grad) {
        if (g.same()) {
            for (std::size_t t = 0; t < total; ++t) grad[t] += alpha * delta[t];
        } else {  // unpaired positions passed the previous value through unscaled
            for (std::size_t t = 0; t < total; ++t) grad[t] += delta[t];
            for_pairs(g, batch, [&](std::size_t o, std::size_t) { grad[o] += (alpha - 1.0f) * delta[o]; });
        }
    }
    if (float* grad = from_grad) {
        if (g.same()) {
            for (std::size_t t = 0; t < total; ++t) grad[t] += beta * delta[t];
        } else {
            for_pairs(g, batch, [&](std::size_t o, std::size_t a) { grad[a] += beta * delta[o]; });
        }
    }
}

void upsample_forward_reference(const UpsampleGeometry& g, std::size_t planes, const float* in, float* out) {
    const int s = g.factor(), oh = g.out_h(), ow = g.out_w();
    const float scale = g.scale;
    for (std::size_t p = 0; p < planes; ++p) {
        const float* src = in + p * std::size_t(g.height * g.width);
        float* dst = out + p * std::size_t(oh * ow);
        if (g.stride > 0) {
            for (int y = 0; y < oh; ++y)
                for (int x = 0; x < ow; ++x) dst[y * ow + x] = scale * src[(y / s) * g.width + x / s];
            continue;
        }
        std::fill(dst, dst + oh * ow, 0.0f);
        for (int y = 0; y < oh * s; ++y)
            for (int x = 0; x < ow * s; ++x) dst[(y / s) * ow + x / s] += scale * src[y * g.width + x];
    }
}

void upsample_backward_add_reference(const UpsampleGeometry& g, std::size_t planes, const float* delta,
                                     float* in_grad) {
    const int s = g.factor(), oh = g.out_h(), ow = g.out_w();
    const float scale = g.scale;
    for (std::size_t p = 0; p < planes; ++p) {
        const float* d = delta + p * std::size_t(oh * ow);
        float* grad = in_grad + p * std::size_t(g.height * g.width);
        if (g.stride > 0) {
            for (int y = 0; y < oh; ++y)
                for (int x = 0; x < ow; ++x) grad[(y / s) * g.width + x / s] += scale * d[y * ow + x];
            continue;
        }
        for (int y = 0; y < oh * s; ++y)
            for (int x = 0; x < ow * s; ++x) grad[y * g.width + x] += scale * d[(y / s) * ow + x / s];
    }
}

void softmax_backward_add_reference(const float* delta, std::size_t n, float temperature, float* in_grad) {
    for (std::size_t i = 0; i < n; ++i) in_grad[i] += delta[i] / temperature;
}

float softmax_cross_entropy_reference(const float* p, const int* labels, int batch, int classes, float grad_scale,
                                      float* grad) {
    float total = 0.0f;
    for (int i = 0; i < batch; ++i) {
        const float* row = p + std::size_t(i) * std::size_t(classes);
        float* d = grad + std::size_t(i) * std::size_t(classes);
        const int label = labels[i];
        for (int k = 0; k < classes; ++k) d[k] = (row[k] - (k == label ? 1.0f : 0.0f)) * grad_scale;
        total -= std::log(std::max(row[label], 1e-12f));
    }
    return total;
}

}  // namespace lenet::kernels
