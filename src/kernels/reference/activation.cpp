#include "kernels/ops/activation.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace lenet {

namespace {
constexpr float kLeakySlope = 0.1f;  // Darknet's leaky ReLU slope
}

const char* activation_name(Activation activation) {
    switch (activation) {
        case Activation::linear: return "linear";
        case Activation::relu: return "relu";
        case Activation::leaky: return "leaky";
        case Activation::logistic: return "logistic";
        case Activation::tanh: return "tanh";
    }
    return "?";
}

bool parse_activation(std::string_view name, Activation& out) {
    for (Activation a : {Activation::linear, Activation::relu, Activation::leaky, Activation::logistic, Activation::tanh}) {
        if (name == activation_name(a)) {
            out = a;
            return true;
        }
    }
    return false;
}

namespace kernels {

void activate_reference(Activation activation, float* x, std::size_t n) {
    switch (activation) {
        case Activation::linear: return;
        case Activation::relu:
            for (std::size_t i = 0; i < n; ++i) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
            return;
        case Activation::leaky:
            for (std::size_t i = 0; i < n; ++i) x[i] = x[i] > 0.0f ? x[i] : kLeakySlope * x[i];
            return;
        case Activation::logistic:
            for (std::size_t i = 0; i < n; ++i) x[i] = 1.0f / (1.0f + std::exp(-x[i]));
            return;
        case Activation::tanh:
            for (std::size_t i = 0; i < n; ++i) x[i] = std::tanh(x[i]);
            return;
    }
}

void activation_gradient_reference(Activation activation, const float* y, float* delta, std::size_t n) {
    switch (activation) {
        case Activation::linear: return;
        case Activation::relu:
            for (std::size_t i = 0; i < n; ++i) delta[i] = y[i] > 0.0f ? delta[i] : 0.0f;
            return;
        case Activation::leaky:
            for (std::size_t i = 0; i < n; ++i) delta[i] *= y[i] > 0.0f ? 1.0f : kLeakySlope;
            return;
        case Activation::logistic:
            for (std::size_t i = 0; i < n; ++i) delta[i] *= y[i] * (1.0f - y[i]);
            return;
        case Activation::tanh:
            for (std::size_t i = 0; i < n; ++i) delta[i] *= 1.0f - y[i] * y[i];
            return;
    }
}

void softmax_reference(const float* x, int groups, int group_size, float temperature, float* y) {
    for (int g = 0; g < groups; ++g) {
        const float* in = x + std::size_t(g) * std::size_t(group_size);
        float* out = y + std::size_t(g) * std::size_t(group_size);
        float largest = in[0];
        for (int i = 1; i < group_size; ++i) largest = std::max(largest, in[i]);
        float sum = 0.0f;
        for (int i = 0; i < group_size; ++i) {
            out[i] = std::exp((in[i] - largest) / temperature);
            sum += out[i];
        }
        for (int i = 0; i < group_size; ++i) out[i] /= sum;
    }
}

void multiply_reference(const float* src, const float* factor, std::size_t n, float* dst) {
    for (std::size_t i = 0; i < n; ++i) dst[i] = src[i] * factor[i];
}

void multiply_add_reference(const float* src, const float* factor, std::size_t n, float* dst) {
    for (std::size_t i = 0; i < n; ++i) dst[i] += src[i] * factor[i];
}

void add_reference(const float* src, std::size_t n, float* dst) {
    for (std::size_t i = 0; i < n; ++i) dst[i] += src[i];
}

void copy_reference(const float* src, std::size_t n, float* dst) {
    if (n > 0) std::memcpy(dst, src, n * sizeof(float));
}

}  // namespace kernels
}  // namespace lenet
