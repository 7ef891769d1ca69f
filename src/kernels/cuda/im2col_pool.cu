// im2col / col2im for one CHW image and max pooling over a batch. col2im gathers (one thread per
// image value sums the columns that read it), so no atomics and a fixed summation order.
#include <cfloat>

#include "kernels/cuda/kernels.h"
#include "kernels/cuda/runtime.h"

namespace lenet::kernels::cuda {

namespace {

#define LENET_GRID_LOOP(i, n) \
    for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < (n); i += std::size_t(gridDim.x) * blockDim.x)

// One thread per column entry: row (c, ky, kx), output position (y, x).
__global__ void im2col_kernel(ConvGeometry g, int oh, int ow, const float* image, float* columns, std::size_t n) {
    LENET_GRID_LOOP(i, n) {
        const std::size_t positions = std::size_t(oh) * std::size_t(ow);
        const int row = int(i / positions), p = int(i % positions);
        const int kx = row % g.size, ky = (row / g.size) % g.size, c = row / (g.size * g.size);
        const int iy = (p / ow) * g.stride + ky - g.pad, ix = (p % ow) * g.stride + kx - g.pad;
        columns[i] = iy >= 0 && iy < g.height && ix >= 0 && ix < g.width
                         ? image[(std::size_t(c) * g.height + iy) * g.width + ix]
                         : 0.0f;
    }
}

// One thread per image value: the taps (ky, kx) whose output position lands on a whole stride.
__global__ void col2im_kernel(ConvGeometry g, int oh, int ow, const float* columns, float* image, std::size_t n) {
    LENET_GRID_LOOP(i, n) {
        const int ix = int(i % std::size_t(g.width)), iy = int((i / std::size_t(g.width)) % std::size_t(g.height));
        const int c = int(i / (std::size_t(g.width) * std::size_t(g.height)));
        float sum = 0.0f;
        for (int ky = 0; ky < g.size; ++ky) {
            const int ty = iy + g.pad - ky;
            if (ty < 0 || ty % g.stride != 0 || ty / g.stride >= oh) continue;
            for (int kx = 0; kx < g.size; ++kx) {
                const int tx = ix + g.pad - kx;
                if (tx < 0 || tx % g.stride != 0 || tx / g.stride >= ow) continue;
                const std::size_t row = (std::size_t(c) * g.size + ky) * g.size + kx;
                sum += columns[row * std::size_t(oh) * ow + std::size_t(ty / g.stride) * ow + std::size_t(tx / g.stride)];
            }
        }
        image[i] += sum;
    }
}

__global__ void maxpool_kernel(PoolGeometry g, int oh, int ow, const float* in, float* out, std::int32_t* argmax,
                               std::size_t n) {
    LENET_GRID_LOOP(o, n) {
        const int x = int(o % std::size_t(ow)), y = int((o / std::size_t(ow)) % std::size_t(oh));
        const std::size_t plane = o / (std::size_t(ow) * std::size_t(oh));  // b * channels + c
        const int c = int(plane % std::size_t(g.channels));
        const std::size_t b = plane / std::size_t(g.channels);
        const float* image = in + b * std::size_t(g.channels) * g.height * g.width;
        const int offset = -g.padding / 2;
        float best = -FLT_MAX;
        std::int32_t best_index = -1;
        for (int ky = 0; ky < g.size; ++ky) {
            const int iy = y * g.stride + ky + offset;
            if (iy < 0 || iy >= g.height) continue;
            for (int kx = 0; kx < g.size; ++kx) {
                const int ix = x * g.stride + kx + offset;
                if (ix < 0 || ix >= g.width) continue;
                const std::int32_t index = std::int32_t((c * g.height + iy) * g.width + ix);
                if (best_index < 0 || image[index] > best) {
                    best = image[index];
                    best_index = index;
                }
            }
        }
        out[o] = best_index < 0 ? 0.0f : best;
        argmax[o] = best_index;
    }
}

// One thread per input value: the windows that may hold it and chose it (a gather, in window order
// as the reference's scatter adds them).
__global__ void maxpool_backward_kernel(PoolGeometry g, int oh, int ow, const float* delta, const std::int32_t* argmax,
                                        bool set, float* in_grad, std::size_t n) {
    LENET_GRID_LOOP(i, n) {
        const std::size_t image = std::size_t(g.channels) * g.height * g.width;
        const std::size_t b = i / image;
        const std::int32_t index = std::int32_t(i % image);
        const int ix = index % g.width, iy = (index / g.width) % g.height, c = index / (g.width * g.height);
        const int offset = -g.padding / 2;
        // Windows y with y * stride + offset <= iy <= y * stride + offset + size - 1.
        const int y_hi = min((iy - offset) / g.stride, oh - 1), x_hi = min((ix - offset) / g.stride, ow - 1);
        float sum = 0.0f;
        for (int y = max(0, (iy - offset - g.size + g.stride) / g.stride); y <= y_hi; ++y)
            for (int x = max(0, (ix - offset - g.size + g.stride) / g.stride); x <= x_hi; ++x) {
                const std::size_t o = ((b * g.channels + c) * oh + y) * ow + x;
                if (argmax[o] == index) sum += delta[o];
            }
        in_grad[i] = set ? sum : in_grad[i] + sum;
    }
}

void maxpool_backward(const PoolGeometry& g, int batch, const float* delta, const std::int32_t* argmax, bool set,
                      float* in_grad, const char* name) {
    const std::size_t n = std::size_t(batch) * std::size_t(g.channels) * g.height * g.width;
    if (n == 0) return;
    maxpool_backward_kernel<<<blocks_for(n), kThreads, 0, stream()>>>(g, g.out_h(), g.out_w(), delta, argmax, set,
                                                                      in_grad, n);
    finish(name);
}

}  // namespace

void im2col(const ConvGeometry& g, const float* image, float* columns) {
    const int oh = g.out_h(), ow = g.out_w();
    if (oh <= 0 || ow <= 0) return;
    const std::size_t n = std::size_t(g.channels) * g.size * g.size * std::size_t(oh) * ow;
    if (n == 0) return;
    im2col_kernel<<<blocks_for(n), kThreads, 0, stream()>>>(g, oh, ow, image, columns, n);
    finish("im2col");
}

void col2im_add(const ConvGeometry& g, const float* columns, float* image) {
    const int oh = g.out_h(), ow = g.out_w();
    if (oh <= 0 || ow <= 0) return;
    const std::size_t n = std::size_t(g.channels) * g.height * g.width;
    if (n == 0) return;
    col2im_kernel<<<blocks_for(n), kThreads, 0, stream()>>>(g, oh, ow, columns, image, n);
    finish("col2im_add");
}

void maxpool_forward(const PoolGeometry& g, int batch, const float* in, float* out, std::int32_t* argmax) {
    const int oh = g.out_h(), ow = g.out_w();
    if (oh <= 0 || ow <= 0) return;
    const std::size_t n = std::size_t(batch) * std::size_t(g.channels) * std::size_t(oh) * ow;
    if (n == 0) return;
    maxpool_kernel<<<blocks_for(n), kThreads, 0, stream()>>>(g, oh, ow, in, out, argmax, n);
    finish("maxpool_forward");
}

void maxpool_backward_set(const PoolGeometry& g, int batch, const float* delta, const std::int32_t* argmax,
                          float* in_grad) {
    maxpool_backward(g, batch, delta, argmax, true, in_grad, "maxpool_backward_set");
}

void maxpool_backward_add(const PoolGeometry& g, int batch, const float* delta, const std::int32_t* argmax,
                          float* in_grad) {
    maxpool_backward(g, batch, delta, argmax, false, in_grad, "maxpool_backward_add");
}

}  // namespace lenet::kernels::cuda
