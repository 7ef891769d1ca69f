// Activation functions and their gradients. Gradients are computed from the activation's output
// (as Darknet does), so layers need not keep their pre-activation values.
#pragma once
#include <cstddef>
#include <string_view>

#include "kernels/backend.h"

namespace lenet {

enum class Activation { linear, relu, leaky, logistic, tanh };

const char* activation_name(Activation activation);
// Returns false for an unknown name.
bool parse_activation(std::string_view name, Activation& out);

namespace kernels {
// Reference kernels (the truth).
void activate_reference(Activation activation, float* x, std::size_t n);
// delta[i] *= f'(x) where y = f(x) is given.
void activation_gradient_reference(Activation activation, const float* y, float* delta, std::size_t n);

// y[g] = softmax(x[g] / temperature) for each of `groups` consecutive groups of group_size values
// (the largest value subtracted first).
void softmax_reference(const float* x, int groups, int group_size, float temperature, float* y);
// dst[i] = src[i] * factor[i]; dst[i] += src[i] * factor[i]; dst[i] += src[i].
void multiply_reference(const float* src, const float* factor, std::size_t n, float* dst);
void multiply_add_reference(const float* src, const float* factor, std::size_t n, float* dst);
void add_reference(const float* src, std::size_t n, float* dst);
// dst[i] = src[i].
void copy_reference(const float* src, std::size_t n, float* dst);
}  // namespace kernels

}  // namespace lenet
