// Pooling over CHW images, one call per batch.
#pragma once
#include <cstdint>

namespace lenet::kernels {

// Darknet's maxpool geometry: out = (in + padding - size) / stride + 1, the window starting at
// -padding/2. Padding positions never win. `argmax` receives, per output, the index of the chosen
// input within its image (or -1 when the window holds no input).
struct PoolGeometry {
    int channels, height, width;
    int size, stride, padding;
    int out_h() const { return (height + padding - size) / stride + 1; }
    int out_w() const { return (width + padding - size) / stride + 1; }
};

void maxpool_forward(const PoolGeometry& g, int batch, const float* in, float* out, std::int32_t* argmax);
void maxpool_backward_add(const PoolGeometry& g, int batch, const float* delta, const std::int32_t* argmax,
                          float* in_grad);

// Global average over each channel: out[b][c] = mean of in[b][c][:].
void global_avgpool_forward(int batch, int channels, int spatial, const float* in, float* out);
void global_avgpool_backward_add(int batch, int channels, int spatial, const float* delta, float* in_grad);

}  // namespace lenet::kernels
