// Elementwise kernels: activations and their gradients, add/copy/multiply, Adam. Grid-stride
// loops, one value per thread per step.
#include "kernels/cuda/kernels.h"
#include "kernels/cuda/runtime.h"

namespace lenet::kernels::cuda {

namespace {

constexpr float kLeakySlope = 0.1f;  // Darknet's, as the reference

#define LENET_GRID_LOOP(i, n) \
    for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < (n); i += std::size_t(gridDim.x) * blockDim.x)

__global__ void activate_kernel(Activation activation, float* x, std::size_t n) {
    LENET_GRID_LOOP(i, n) {
        const float v = x[i];
        switch (activation) {
            case Activation::linear: break;
            case Activation::relu: x[i] = v > 0.0f ? v : 0.0f; break;
            case Activation::leaky: x[i] = v > 0.0f ? v : kLeakySlope * v; break;
            case Activation::logistic: x[i] = 1.0f / (1.0f + expf(-v)); break;
            case Activation::tanh: x[i] = tanhf(v); break;
        }
    }
}

__global__ void activation_gradient_kernel(Activation activation, const float* y, float* delta, std::size_t n) {
    LENET_GRID_LOOP(i, n) {
        const float v = y[i];
        switch (activation) {
            case Activation::linear: break;
            case Activation::relu: delta[i] = v > 0.0f ? delta[i] : 0.0f; break;
            case Activation::leaky: delta[i] *= v > 0.0f ? 1.0f : kLeakySlope; break;
            case Activation::logistic: delta[i] *= v * (1.0f - v); break;
            case Activation::tanh: delta[i] *= 1.0f - v * v; break;
        }
    }
}

__global__ void add_kernel(const float* src, std::size_t n, float* dst) {
    LENET_GRID_LOOP(i, n) dst[i] += src[i];
}

__global__ void multiply_kernel(const float* src, const float* factor, std::size_t n, float* dst) {
    LENET_GRID_LOOP(i, n) dst[i] = src[i] * factor[i];
}

__global__ void multiply_add_kernel(const float* src, const float* factor, std::size_t n, float* dst) {
    LENET_GRID_LOOP(i, n) dst[i] += src[i] * factor[i];
}

__global__ void adam_kernel(AdamArgs a, float* value, float* grad, float* m, float* v, std::size_t n) {
    LENET_GRID_LOOP(i, n) {
        const float g = grad[i] + a.decay * value[i];
        const float mi = a.b1 * m[i] + (1.0f - a.b1) * g;
        const float vi = a.b2 * v[i] + (1.0f - a.b2) * g * g;
        m[i] = mi;
        v[i] = vi;
        value[i] -= a.corrected * mi / (sqrtf(vi) + a.eps);
        if (a.zero_grad) grad[i] = 0.0f;
    }
}

}  // namespace

void activate(Activation activation, float* x, std::size_t n) {
    if (n == 0 || activation == Activation::linear) return;
    activate_kernel<<<blocks_for(n), kThreads, 0, stream()>>>(activation, x, n);
    finish("activate");
}

void activation_gradient(Activation activation, const float* y, float* delta, std::size_t n) {
    if (n == 0 || activation == Activation::linear) return;
    activation_gradient_kernel<<<blocks_for(n), kThreads, 0, stream()>>>(activation, y, delta, n);
    finish("activation_gradient");
}

void add(const float* src, std::size_t n, float* dst) {
    if (n == 0) return;
    add_kernel<<<blocks_for(n), kThreads, 0, stream()>>>(src, n, dst);
    finish("add");
}

void copy(const float* src, std::size_t n, float* dst) {
    if (n == 0) return;
    check(cudaMemcpyAsync(dst, src, n * sizeof(float), cudaMemcpyDefault, stream()), "copy");
    finish("copy");
}

void multiply(const float* src, const float* factor, std::size_t n, float* dst) {
    if (n == 0) return;
    multiply_kernel<<<blocks_for(n), kThreads, 0, stream()>>>(src, factor, n, dst);
    finish("multiply");
}

void multiply_add(const float* src, const float* factor, std::size_t n, float* dst) {
    if (n == 0) return;
    multiply_add_kernel<<<blocks_for(n), kThreads, 0, stream()>>>(src, factor, n, dst);
    finish("multiply_add");
}

void adam_update(const AdamArgs& args, float* value, float* grad, float* m, float* v, std::size_t n) {
    if (n == 0) return;
    adam_kernel<<<blocks_for(n), kThreads, 0, stream()>>>(args, value, grad, m, v, n);
    finish("adam_update");
}

}  // namespace lenet::kernels::cuda
