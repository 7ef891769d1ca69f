// Pooling over CHW images, one call per batch.
#pragma once
#include <cstdint>

#include "kernels/backend.h"

namespace lenet::kernels {

// Darknet's maxpool geometry: out = (in + padding - size) / stride + 1, the window starting at
// -padding/2. Padding positions never win. `argmax` receives, per output, the index of the chosen
// input within its image (or -1 when the window holds no input).
struct PoolGeometry {
    int channels, height, width;
    int size, stride, padding;
    int out_h() const { return (height + padding - size) / stride + 1; }
    int out_w() const { return (width + padding - size) / stride + 1; }
    // Whether every window holds at least one input (else its output is 0 and argmax -1).
    bool windows_hold_input() const {
        const int first = -(padding / 2);
        return first + size > 0 && (out_h() - 1) * stride + first < height && (out_w() - 1) * stride + first < width;
    }
};

// Reference kernels (the truth). Ties go to the first maximum in (ky, kx) scan order.
void maxpool_forward_reference(const PoolGeometry& g, int batch, const float* in, float* out, std::int32_t* argmax);
void maxpool_backward_add_reference(const PoolGeometry& g, int batch, const float* delta, const std::int32_t* argmax,
                                    float* in_grad);

// The common 2x2, stride 2 pool whose windows start at 0 (padding 0 or 1): windows tile the image
// without overlap, the last row/column of windows may hang over an odd edge.
bool is_maxpool_2x2s2(const PoolGeometry& g);
// A 2x2, stride 1 pool whose windows start at 0 (padding 0 or 1: Darknet's size=2 stride=1, which
// keeps the size with padding 1, the last window holding one column or row).
bool is_maxpool_2x2s1(const PoolGeometry& g);

// in_grad = delta scattered to the argmax winners, 0 everywhere else: what zeroing in_grad and then
// maxpool_backward_add computes, in one pass.
void maxpool_backward_set_reference(const PoolGeometry& g, int batch, const float* delta, const std::int32_t* argmax,
                                    float* in_grad);

// Global average over each channel: out[b][c] = mean of in[b][c][:].
void global_avgpool_forward(int batch, int channels, int spatial, const float* in, float* out);
void global_avgpool_backward_add(int batch, int channels, int spatial, const float* delta, float* in_grad);

}  // namespace lenet::kernels
