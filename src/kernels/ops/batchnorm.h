// Per-channel batch normalisation over NCHW data (batch x channels x spatial), and the bias and
// scale helpers that convolutional and connected layers share with it.
#pragma once
#include "kernels/backend.h"

namespace lenet::kernels {

// Training (batch statistics): sqrt(variance + kBatchNormEpsilon). Inference (rolling
// statistics): Darknet's normalize_cpu, sqrt(variance) + kRollingEpsilon, which pjreddie's and
// AlexeyAB's Darknet both run at inference; a Darknet .weights file computes what Darknet computes.
constexpr float kBatchNormEpsilon = 1e-5f;
constexpr float kRollingEpsilon = 1e-6f;
// The factor inference multiplies (x - rolling mean) by: 1 / (sqrt(variance) + 1e-6), rounded once.
float rolling_inv_std(float rolling_variance);

// Biased (1/N) mean and variance per channel.
void channel_mean_variance(const float* x, int batch, int channels, int spatial, float* mean, float* variance);
// out = (x - mean) / sqrt(variance + eps); out may equal x.
void normalize(const float* x, const float* mean, const float* variance, int batch, int channels, int spatial,
               float* out);
// out = (x - mean) / (sqrt(variance) + kRollingEpsilon), Darknet's inference normalisation with
// the rolling mean and variance; out may equal x.
void normalize_rolling(const float* x, const float* mean, const float* variance, int batch, int channels, int spatial,
                       float* out);
// x = x * scale[c] (scales may be null) + bias[c]
void scale_add_bias_reference(float* x, const float* scales, const float* biases, int batch, int channels,
                              int spatial);
// grad[c] += sum over batch and space of delta (reference: one float accumulator per channel, in
// memory order).
void bias_gradient_reference(const float* delta, int batch, int channels, int spatial, float* grad);
// grad[c] += sum of delta * x_norm
void scale_gradient_reference(const float* delta, const float* x_norm, int batch, int channels, int spatial,
                              float* grad);
// rolling = momentum * rolling + (1 - momentum) * value; the variance is stored unbiased.
void update_rolling(const float* mean, const float* variance, int channels, int samples_per_channel,
                    float* rolling_mean, float* rolling_variance);
// Turns delta (dL/dy with y = scale * x_norm + bias) into dL/dx in place. Needs the batch's
// x_norm and variance from the forward pass.
void batchnorm_backward(float* delta, const float* x_norm, const float* scales, const float* variance, int batch,
                        int channels, int spatial);

}  // namespace lenet::kernels
