#include "kernels/ops/binarize.h"

#include <algorithm>
#include <cmath>

namespace lenet::kernels {

namespace {
// d|x|/dx, taken as 0 at 0.
float abs_slope(float x) { return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f); }
}  // namespace

void binarize_rows(const float* w, int rows, int n, ZeroSign zero, float* signs, float* alpha) {
    for (int r = 0; r < rows; ++r) {
        const float* row = w + std::size_t(r) * std::size_t(n);
        float* out = signs + std::size_t(r) * std::size_t(n);
        double sum = 0;  // rows reach 2^28 values: a double keeps alpha exact to float precision
        for (int i = 0; i < n; ++i) {
            sum += std::fabs(row[i]);
            out[i] = sign_of(row[i], zero);
        }
        alpha[r] = float(sum / n);
    }
}

void scale_rows(const float* signs, const float* alpha, int rows, int n, float* effective) {
    for (int r = 0; r < rows; ++r)
        for (int i = 0; i < n; ++i) {
            const std::size_t at = std::size_t(r) * std::size_t(n) + std::size_t(i);
            effective[at] = alpha[r] * signs[at];
        }
}

void binary_weight_gradient(const float* w, const float* alpha, const float* g, int rows, int n, ZeroSign zero,
                            float* grad) {
    for (int r = 0; r < rows; ++r) {
        const std::size_t base = std::size_t(r) * std::size_t(n);
        double through_alpha = 0;
        for (int i = 0; i < n; ++i) through_alpha += double(g[base + i]) * sign_of(w[base + i], zero);
        const float shared = float(through_alpha / n);
        for (int i = 0; i < n; ++i) {
            const float wi = w[base + i];
            const float straight = std::fabs(wi) <= 1.0f ? alpha[r] * g[base + i] : 0.0f;
            grad[base + i] += straight + sign_of(wi, zero) * shared;
        }
    }
}

void sign(const float* x, std::size_t n, ZeroSign zero, float* out) {
    for (std::size_t i = 0; i < n; ++i) out[i] = sign_of(x[i], zero);
}

void sign_gradient_add(const float* x, const float* g, std::size_t n, float* dx) {
    for (std::size_t i = 0; i < n; ++i)
        if (std::fabs(x[i]) <= 1.0f) dx[i] += g[i];
}

void input_scale_map(const ConvGeometry& g, const float* image, float* abs_mean, float* k) {
    const std::size_t pixels = std::size_t(g.height) * std::size_t(g.width);
    for (std::size_t p = 0; p < pixels; ++p) abs_mean[p] = 0.0f;
    for (int c = 0; c < g.channels; ++c) {
        const float* plane = image + std::size_t(c) * pixels;
        for (std::size_t p = 0; p < pixels; ++p) abs_mean[p] += std::fabs(plane[p]);
    }
    const float inv_channels = 1.0f / float(g.channels);
    for (std::size_t p = 0; p < pixels; ++p) abs_mean[p] *= inv_channels;
    const float window = float(g.size * g.size);
    for (int oy = 0; oy < g.out_h(); ++oy)
        for (int ox = 0; ox < g.out_w(); ++ox) {
            float sum = 0.0f;
            for (int ky = 0; ky < g.size; ++ky) {
                const int y = oy * g.stride - g.pad + ky;
                if (y < 0 || y >= g.height) continue;
                for (int kx = 0; kx < g.size; ++kx) {
                    const int x = ox * g.stride - g.pad + kx;
                    if (x >= 0 && x < g.width) sum += abs_mean[y * g.width + x];
                }
            }
            k[oy * g.out_w() + ox] = sum / window;
        }
}

void input_scale_gradient(const ConvGeometry& g, const float* image, const float* dk, float* abs_mean_grad,
                          float* dx) {
    const std::size_t pixels = std::size_t(g.height) * std::size_t(g.width);
    for (std::size_t p = 0; p < pixels; ++p) abs_mean_grad[p] = 0.0f;
    const float window = float(g.size * g.size);
    for (int oy = 0; oy < g.out_h(); ++oy)
        for (int ox = 0; ox < g.out_w(); ++ox) {
            const float share = dk[oy * g.out_w() + ox] / window;
            for (int ky = 0; ky < g.size; ++ky) {
                const int y = oy * g.stride - g.pad + ky;
                if (y < 0 || y >= g.height) continue;
                for (int kx = 0; kx < g.size; ++kx) {
                    const int x = ox * g.stride - g.pad + kx;
                    if (x >= 0 && x < g.width) abs_mean_grad[y * g.width + x] += share;
                }
            }
        }
    const float inv_channels = 1.0f / float(g.channels);
    for (int c = 0; c < g.channels; ++c) {
        const float* plane = image + std::size_t(c) * pixels;
        float* grad = dx + std::size_t(c) * pixels;
        for (std::size_t p = 0; p < pixels; ++p) grad[p] += abs_mean_grad[p] * inv_channels * abs_slope(plane[p]);
    }
}

float abs_mean(const float* x, std::size_t n) {
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) sum += std::fabs(x[i]);
    return float(sum / double(n));
}

void abs_mean_gradient(const float* x, std::size_t n, float dbeta, float* dx) {
    const float share = dbeta / float(n);
    for (std::size_t i = 0; i < n; ++i) dx[i] += share * abs_slope(x[i]);
}

void binary_output_reference(const BinaryOutput& o, const float* dots, float* out) {
    for (int r = 0; r < o.rows; ++r) {
        const float* d = dots + std::size_t(r) * std::size_t(o.columns);
        float* y = out + std::size_t(r) * std::size_t(o.columns);
        if (o.channel_rows) {
            const float s = o.scale[r], t = o.shift ? o.shift[r] : 0.0f;
            if (o.k)
                for (int p = 0; p < o.columns; ++p) y[p] = d[p] * s * o.k[p] + t;
            else
                for (int p = 0; p < o.columns; ++p) y[p] = d[p] * s + t;
        } else {
            const float beta = o.k ? o.k[r] : 1.0f;
            for (int c = 0; c < o.columns; ++c) {
                const float t = o.shift ? o.shift[c] : 0.0f;
                y[c] = o.k ? d[c] * o.scale[c] * beta + t : d[c] * o.scale[c] + t;
            }
        }
    }
}

void xnor_conv_scale_gradient_reference(int filters, int positions, const float* alpha, const float* dots,
                                        const float* k, float* delta, float* k_grad) {
    std::fill(k_grad, k_grad + positions, 0.0f);
    for (int f = 0; f < filters; ++f) {
        float* g = delta + std::size_t(f) * std::size_t(positions);
        const float* d = dots + std::size_t(f) * std::size_t(positions);
        const float a = alpha[f];
        for (int p = 0; p < positions; ++p) {
            k_grad[p] += g[p] * a * d[p];
            g[p] *= k[p];
        }
    }
}

void xnor_dense_scale_gradient_reference(int batch, int outputs, const float* alpha, const float* dots,
                                         const float* betas, float* delta, float* beta_grad) {
    for (int b = 0; b < batch; ++b) {
        float* g = delta + std::size_t(b) * std::size_t(outputs);
        const float* d = dots + std::size_t(b) * std::size_t(outputs);
        double sum = 0;
        for (int o = 0; o < outputs; ++o) {
            sum += double(g[o]) * alpha[o] * d[o];
            g[o] *= betas[b];
        }
        beta_grad[b] = float(sum);
    }
}

}  // namespace lenet::kernels
