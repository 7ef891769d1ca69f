// Per-channel batch normalisation over NCHW data (batch x channels x spatial), and the bias and
// scale helpers that convolutional and connected layers share with it.
#pragma once
#include "kernels/backend.h"

namespace lenet::kernels {

constexpr float kBatchNormEpsilon = 1e-5f;

// Biased (1/N) mean and variance per channel.
void channel_mean_variance(const float* x, int batch, int channels, int spatial, float* mean, float* variance);
// out = (x - mean) / sqrt(variance + eps); out may equal x.
void normalize(const float* x, const float* mean, const float* variance, int batch, int channels, int spatial,
               float* out);
// x = x * scale[c] (scales may be null) + bias[c]
void scale_add_bias_reference(float* x, const float* scales, const float* biases, int batch, int channels,
                              int spatial);
// AVX2, bit-identical (a multiply rounded before the add, as the reference; none without scales).
void scale_add_bias_avx2(float* x, const float* scales, const float* biases, int batch, int channels, int spatial);
// Single-threaded; pick the backend's kernel.
void scale_add_bias(Backend backend, float* x, const float* scales, const float* biases, int batch, int channels,
                    int spatial);
// grad[c] += sum over batch and space of delta (reference: one float accumulator per channel, in
// memory order).
void bias_gradient_reference(const float* delta, int batch, int channels, int spatial, float* grad);
// grad[c] += sum of delta * x_norm
void scale_gradient_reference(const float* delta, const float* x_norm, int batch, int channels, int spatial,
                              float* grad);
// AVX2, for channels [first, last) only (so threads can share the channels out). spatial == 1
// (connected layers) is bit-identical to the reference; otherwise each channel is summed in 8-lane
// partial sums (scale_gradient with FMA), which differs from the reference by rounding only.
void bias_gradient_avx2(const float* delta, int batch, int channels, int spatial, int first, int last, float* grad);
void scale_gradient_avx2(const float* delta, const float* x_norm, int batch, int channels, int spatial, int first,
                         int last, float* grad);
// Single-threaded; pick the backend's kernel.
void bias_gradient(Backend backend, const float* delta, int batch, int channels, int spatial, float* grad);
void scale_gradient(Backend backend, const float* delta, const float* x_norm, int batch, int channels, int spatial,
                    float* grad);
// For whole-batch calls outside a parallel loop: large sums are split by channel over compute.pool,
// so the result does not depend on the thread count. The reference backend stays single-threaded.
void bias_gradient(const Compute& compute, const float* delta, int batch, int channels, int spatial, float* grad);
void scale_gradient(const Compute& compute, const float* delta, const float* x_norm, int batch, int channels,
                    int spatial, float* grad);
// rolling = momentum * rolling + (1 - momentum) * value; the variance is stored unbiased.
void update_rolling(const float* mean, const float* variance, int channels, int samples_per_channel,
                    float* rolling_mean, float* rolling_variance);
// Turns delta (dL/dy with y = scale * x_norm + bias) into dL/dx in place. Needs the batch's
// x_norm and variance from the forward pass.
void batchnorm_backward(float* delta, const float* x_norm, const float* scales, const float* variance, int batch,
                        int channels, int spatial);

}  // namespace lenet::kernels
