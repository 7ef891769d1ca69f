#include "kernels/ops/activation.h"

#include <cmath>

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

}  // namespace kernels
}  // namespace lenet
