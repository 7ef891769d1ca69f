#include "kernels/ops/batchnorm.h"

#include <cmath>
#include <cstddef>
#include <vector>

namespace lenet::kernels {

namespace {
constexpr float kRollingMomentum = 0.99f;  // Darknet's
inline std::size_t at(int b, int c, int channels, int spatial) {
    return (std::size_t(b) * channels + c) * std::size_t(spatial);
}
}  // namespace

void channel_mean_variance(const float* x, int batch, int channels, int spatial, float* mean, float* variance) {
    const double n = double(batch) * spatial;
    for (int c = 0; c < channels; ++c) {
        double sum = 0.0;
        for (int b = 0; b < batch; ++b) {
            const float* p = x + at(b, c, channels, spatial);
            for (int s = 0; s < spatial; ++s) sum += p[s];
        }
        const double m = sum / n;
        double squares = 0.0;
        for (int b = 0; b < batch; ++b) {
            const float* p = x + at(b, c, channels, spatial);
            for (int s = 0; s < spatial; ++s) squares += (p[s] - m) * (p[s] - m);
        }
        mean[c] = float(m);
        variance[c] = float(squares / n);
    }
}

void normalize(const float* x, const float* mean, const float* variance, int batch, int channels, int spatial,
               float* out) {
    for (int b = 0; b < batch; ++b)
        for (int c = 0; c < channels; ++c) {
            const float inv_std = 1.0f / std::sqrt(variance[c] + kBatchNormEpsilon);
            const float* p = x + at(b, c, channels, spatial);
            float* q = out + at(b, c, channels, spatial);
            for (int s = 0; s < spatial; ++s) q[s] = (p[s] - mean[c]) * inv_std;
        }
}

float rolling_inv_std(float rolling_variance) {
    // Darknet divides each value in double, (x - mean) / (sqrt((double)variance) + 1e-6f); one
    // float factor per channel differs from that by an ulp or so.
    return float(1.0 / (std::sqrt(double(rolling_variance)) + double(kRollingEpsilon)));
}

void normalize_rolling(const float* x, const float* mean, const float* variance, int batch, int channels, int spatial,
                       float* out) {
    for (int b = 0; b < batch; ++b)
        for (int c = 0; c < channels; ++c) {
            const float inv_std = rolling_inv_std(variance[c]);
            const float* p = x + at(b, c, channels, spatial);
            float* q = out + at(b, c, channels, spatial);
            for (int s = 0; s < spatial; ++s) q[s] = (p[s] - mean[c]) * inv_std;
        }
}

void scale_add_bias_reference(float* x, const float* scales, const float* biases, int batch, int channels,
                              int spatial) {
    for (int b = 0; b < batch; ++b)
        for (int c = 0; c < channels; ++c) {
            float* p = x + at(b, c, channels, spatial);
            const float scale = scales ? scales[c] : 1.0f;
            for (int s = 0; s < spatial; ++s) p[s] = p[s] * scale + biases[c];
        }
}

void bias_gradient_reference(const float* delta, int batch, int channels, int spatial, float* grad) {
    for (int c = 0; c < channels; ++c) {
        float sum = 0.0f;
        for (int b = 0; b < batch; ++b) {
            const float* p = delta + at(b, c, channels, spatial);
            for (int s = 0; s < spatial; ++s) sum += p[s];
        }
        grad[c] += sum;
    }
}

void scale_gradient_reference(const float* delta, const float* x_norm, int batch, int channels, int spatial,
                              float* grad) {
    for (int c = 0; c < channels; ++c) {
        float sum = 0.0f;
        for (int b = 0; b < batch; ++b) {
            const std::size_t o = at(b, c, channels, spatial);
            for (int s = 0; s < spatial; ++s) sum += delta[o + s] * x_norm[o + s];
        }
        grad[c] += sum;
    }
}

void update_rolling(const float* mean, const float* variance, int channels, int samples_per_channel,
                    float* rolling_mean, float* rolling_variance) {
    const float unbias = samples_per_channel > 1 ? float(samples_per_channel) / float(samples_per_channel - 1) : 1.0f;
    for (int c = 0; c < channels; ++c) {
        rolling_mean[c] = kRollingMomentum * rolling_mean[c] + (1.0f - kRollingMomentum) * mean[c];
        rolling_variance[c] = kRollingMomentum * rolling_variance[c] + (1.0f - kRollingMomentum) * variance[c] * unbias;
    }
}

void batchnorm_backward(float* delta, const float* x_norm, const float* scales, const float* variance, int batch,
                        int channels, int spatial) {
    const float n = float(batch) * float(spatial);
    for (int c = 0; c < channels; ++c) {
        // With g = dL/dx_norm = delta * scale:
        // dL/dx = (g - mean(g) - x_norm * mean(g * x_norm)) / sqrt(var + eps)
        double sum_g = 0.0, sum_g_xn = 0.0;
        for (int b = 0; b < batch; ++b) {
            const std::size_t o = at(b, c, channels, spatial);
            for (int s = 0; s < spatial; ++s) {
                const double g = double(delta[o + s]) * scales[c];
                sum_g += g;
                sum_g_xn += g * x_norm[o + s];
            }
        }
        const float mean_g = float(sum_g / n), mean_g_xn = float(sum_g_xn / n);
        const float inv_std = 1.0f / std::sqrt(variance[c] + kBatchNormEpsilon);
        for (int b = 0; b < batch; ++b) {
            const std::size_t o = at(b, c, channels, spatial);
            for (int s = 0; s < spatial; ++s) {
                const float g = delta[o + s] * scales[c];
                delta[o + s] = (g - mean_g - x_norm[o + s] * mean_g_xn) * inv_std;
            }
        }
    }
}

}  // namespace lenet::kernels
