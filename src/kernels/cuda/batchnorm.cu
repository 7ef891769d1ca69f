// Per-channel kernels over NCHW data: one block per channel for the reductions (sums in the
// reference's precision: double for the statistics and the batchnorm backward, float for the bias
// and scale gradients), one thread per value for the elementwise ones.
#include <cmath>

#include "kernels/cuda/kernels.h"
#include "kernels/cuda/runtime.h"

namespace lenet::kernels::cuda {

namespace {

constexpr float kRollingMomentum = 0.99f;  // Darknet's, as the reference

#define LENET_GRID_LOOP(i, n) \
    for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < (n); i += std::size_t(gridDim.x) * blockDim.x)

// The sum of `value` over the block's threads, returned to every thread.
template <class T>
__device__ T block_sum(T value) {
    __shared__ T partial[kThreads / 32];
    for (int offset = 16; offset > 0; offset /= 2) value += __shfl_down_sync(0xffffffffu, value, offset);
    const int lane = int(threadIdx.x % 32), warp = int(threadIdx.x / 32);
    __syncthreads();  // partial may still be read from a previous call
    if (lane == 0) partial[warp] = value;
    __syncthreads();
    T total = 0;
    for (int w = 0; w < int(blockDim.x / 32); ++w) total += partial[w];
    return total;
}

// Index of the j-th value of channel c: j runs over batch * spatial.
__device__ inline std::size_t channel_index(int c, std::size_t j, int channels, int spatial) {
    const std::size_t b = j / std::size_t(spatial), s = j % std::size_t(spatial);
    return (b * std::size_t(channels) + std::size_t(c)) * std::size_t(spatial) + s;
}

__global__ void scale_add_bias_kernel(float* x, const float* scales, const float* biases, int channels, int spatial,
                                      std::size_t n) {
    LENET_GRID_LOOP(i, n) {
        const int c = int((i / std::size_t(spatial)) % std::size_t(channels));
        x[i] = x[i] * (scales ? scales[c] : 1.0f) + biases[c];
    }
}

__global__ void bias_gradient_kernel(const float* delta, int batch, int channels, int spatial, float* grad) {
    const int c = int(blockIdx.x);
    const std::size_t n = std::size_t(batch) * std::size_t(spatial);
    float sum = 0.0f;
    for (std::size_t j = threadIdx.x; j < n; j += blockDim.x) sum += delta[channel_index(c, j, channels, spatial)];
    sum = block_sum(sum);
    if (threadIdx.x == 0) grad[c] += sum;
}

__global__ void scale_gradient_kernel(const float* delta, const float* x_norm, int batch, int channels, int spatial,
                                      float* grad) {
    const int c = int(blockIdx.x);
    const std::size_t n = std::size_t(batch) * std::size_t(spatial);
    float sum = 0.0f;
    for (std::size_t j = threadIdx.x; j < n; j += blockDim.x) {
        const std::size_t i = channel_index(c, j, channels, spatial);
        sum += delta[i] * x_norm[i];
    }
    sum = block_sum(sum);
    if (threadIdx.x == 0) grad[c] += sum;
}

__global__ void mean_variance_kernel(const float* x, int batch, int channels, int spatial, float* mean,
                                     float* variance) {
    const int c = int(blockIdx.x);
    const std::size_t n = std::size_t(batch) * std::size_t(spatial);
    double sum = 0.0;
    for (std::size_t j = threadIdx.x; j < n; j += blockDim.x) sum += x[channel_index(c, j, channels, spatial)];
    const double m = block_sum(sum) / double(n);
    double squares = 0.0;
    for (std::size_t j = threadIdx.x; j < n; j += blockDim.x) {
        const double d = x[channel_index(c, j, channels, spatial)] - m;
        squares += d * d;
    }
    squares = block_sum(squares);
    if (threadIdx.x == 0) {
        mean[c] = float(m);
        variance[c] = float(squares / double(n));
    }
}

__global__ void normalize_kernel(const float* x, const float* mean, const float* variance, int channels, int spatial,
                                 std::size_t n, bool rolling, float* out) {
    LENET_GRID_LOOP(i, n) {
        const int c = int((i / std::size_t(spatial)) % std::size_t(channels));
        // The reference's factors: 1 / sqrt(var + eps) for batch statistics; the rolling one rounded
        // once from double (batchnorm.h: rolling_inv_std).
        const float inv_std = rolling ? float(1.0 / (sqrt(double(variance[c])) + double(kRollingEpsilon)))
                                      : 1.0f / sqrtf(variance[c] + kBatchNormEpsilon);
        out[i] = (x[i] - mean[c]) * inv_std;
    }
}

__global__ void update_rolling_kernel(const float* mean, const float* variance, int channels, float unbias,
                                      float* rolling_mean, float* rolling_variance) {
    const int c = int(blockIdx.x * blockDim.x + threadIdx.x);
    if (c >= channels) return;
    rolling_mean[c] = kRollingMomentum * rolling_mean[c] + (1.0f - kRollingMomentum) * mean[c];
    rolling_variance[c] = kRollingMomentum * rolling_variance[c] + (1.0f - kRollingMomentum) * variance[c] * unbias;
}

__global__ void batchnorm_backward_kernel(float* delta, const float* x_norm, const float* scales,
                                          const float* variance, int batch, int channels, int spatial) {
    const int c = int(blockIdx.x);
    const std::size_t n = std::size_t(batch) * std::size_t(spatial);
    double sum_g = 0.0, sum_g_xn = 0.0;
    for (std::size_t j = threadIdx.x; j < n; j += blockDim.x) {
        const std::size_t i = channel_index(c, j, channels, spatial);
        const double g = double(delta[i]) * scales[c];
        sum_g += g;
        sum_g_xn += g * x_norm[i];
    }
    sum_g = block_sum(sum_g);
    sum_g_xn = block_sum(sum_g_xn);
    const float count = float(batch) * float(spatial);
    const float mean_g = float(sum_g / count), mean_g_xn = float(sum_g_xn / count);
    const float inv_std = 1.0f / sqrtf(variance[c] + kBatchNormEpsilon);
    for (std::size_t j = threadIdx.x; j < n; j += blockDim.x) {
        const std::size_t i = channel_index(c, j, channels, spatial);
        const float g = delta[i] * scales[c];
        delta[i] = (g - mean_g - x_norm[i] * mean_g_xn) * inv_std;
    }
}

std::size_t values(int batch, int channels, int spatial) {
    return std::size_t(batch) * std::size_t(channels) * std::size_t(spatial);
}

}  // namespace

void scale_add_bias(float* x, const float* scales, const float* biases, int batch, int channels, int spatial) {
    const std::size_t n = values(batch, channels, spatial);
    if (n == 0) return;
    scale_add_bias_kernel<<<blocks_for(n), kThreads, 0, stream()>>>(x, scales, biases, channels, spatial, n);
    finish("scale_add_bias");
}

void bias_gradient(const float* delta, int batch, int channels, int spatial, float* grad) {
    if (channels <= 0) return;
    bias_gradient_kernel<<<unsigned(channels), kThreads, 0, stream()>>>(delta, batch, channels, spatial, grad);
    finish("bias_gradient");
}

void scale_gradient(const float* delta, const float* x_norm, int batch, int channels, int spatial, float* grad) {
    if (channels <= 0) return;
    scale_gradient_kernel<<<unsigned(channels), kThreads, 0, stream()>>>(delta, x_norm, batch, channels, spatial, grad);
    finish("scale_gradient");
}

void channel_mean_variance(const float* x, int batch, int channels, int spatial, float* mean, float* variance) {
    if (channels <= 0) return;
    mean_variance_kernel<<<unsigned(channels), kThreads, 0, stream()>>>(x, batch, channels, spatial, mean, variance);
    finish("channel_mean_variance");
}

void normalize(const float* x, const float* mean, const float* variance, int batch, int channels, int spatial,
               float* out) {
    const std::size_t n = values(batch, channels, spatial);
    if (n == 0) return;
    normalize_kernel<<<blocks_for(n), kThreads, 0, stream()>>>(x, mean, variance, channels, spatial, n, false, out);
    finish("normalize");
}

void normalize_rolling(const float* x, const float* mean, const float* variance, int batch, int channels, int spatial,
                       float* out) {
    const std::size_t n = values(batch, channels, spatial);
    if (n == 0) return;
    normalize_kernel<<<blocks_for(n), kThreads, 0, stream()>>>(x, mean, variance, channels, spatial, n, true, out);
    finish("normalize_rolling");
}

void update_rolling(const float* mean, const float* variance, int channels, int samples_per_channel,
                    float* rolling_mean, float* rolling_variance) {
    if (channels <= 0) return;
    const float unbias =
        samples_per_channel > 1 ? float(samples_per_channel) / float(samples_per_channel - 1) : 1.0f;
    update_rolling_kernel<<<blocks_for(std::size_t(channels)), kThreads, 0, stream()>>>(
        mean, variance, channels, unbias, rolling_mean, rolling_variance);
    finish("update_rolling");
}

void batchnorm_backward(float* delta, const float* x_norm, const float* scales, const float* variance, int batch,
                        int channels, int spatial) {
    if (channels <= 0) return;
    batchnorm_backward_kernel<<<unsigned(channels), kThreads, 0, stream()>>>(delta, x_norm, scales, variance, batch,
                                                                            channels, spatial);
    finish("batchnorm_backward");
}

}  // namespace lenet::kernels::cuda
