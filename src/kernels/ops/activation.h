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

// AVX2: bit-identical to the reference (the same float operations, lane by lane; logistic and
// tanh forward call the same scalar libm functions).
void activate_avx2(Activation activation, float* x, std::size_t n);
void activation_gradient_avx2(Activation activation, const float* y, float* delta, std::size_t n);

// Single-threaded; pick the backend's kernel.
void activate(Backend backend, Activation activation, float* x, std::size_t n);
void activation_gradient(Backend backend, Activation activation, const float* y, float* delta, std::size_t n);
// For whole-batch calls outside a parallel loop: large arrays are split over compute.pool. The
// reference backend stays single-threaded.
void activate(const Compute& compute, Activation activation, float* x, std::size_t n);
void activation_gradient(const Compute& compute, Activation activation, const float* y, float* delta, std::size_t n);
}  // namespace kernels

}  // namespace lenet
