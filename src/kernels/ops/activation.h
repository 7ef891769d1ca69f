// Activation functions and their gradients. Gradients are computed from the activation's output
// (as Darknet does), so layers need not keep their pre-activation values.
#pragma once
#include <cstddef>
#include <string_view>

namespace lenet {

enum class Activation { linear, relu, leaky, logistic, tanh };

const char* activation_name(Activation activation);
// Returns false for an unknown name.
bool parse_activation(std::string_view name, Activation& out);

namespace kernels {
void activate(Activation activation, float* x, std::size_t n);
// delta[i] *= f'(x) where y = f(x) is given.
void activation_gradient(Activation activation, const float* y, float* delta, std::size_t n);
}  // namespace kernels

}  // namespace lenet
