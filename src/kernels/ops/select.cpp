// Picks each op's kernel for a backend: the ISA kernel where one covers the arguments, else the
// reference (so -backend reference runs only reference kernels).
#include <cstddef>

#include "core/thread_pool.h"
#include "kernels/ops/activation.h"
#include "kernels/ops/batchnorm.h"
#include "kernels/ops/im2col.h"
#include "kernels/ops/pool.h"

namespace lenet::kernels {

namespace {

// Below this many elements a whole-batch op is not worth waking the workers.
constexpr std::size_t kMinParallelElements = std::size_t(1) << 16;
// Elementwise ops are split at multiples of this many floats (4 KiB), not mid-vector.
constexpr std::size_t kBlock = 1024;

[[maybe_unused]] bool worth_splitting(const Compute& compute, std::size_t elements) {
    return compute.pool && compute.pool->size() > 1 && elements >= kMinParallelElements;
}

// body(first, count) over [0, n) in kBlock-aligned parts, one per thread.
template <class Body>
void for_blocks(const Compute& compute, std::size_t n, Body body) {
    compute.pool->parallel_for((n + kBlock - 1) / kBlock, [&](std::size_t begin, std::size_t end, int) {
        const std::size_t first = begin * kBlock, last = end * kBlock < n ? end * kBlock : n;
        body(first, last - first);
    });
}

// body(first, last) over the channels, one range per thread.
template <class Body>
void for_channels(const Compute& compute, int channels, Body body) {
    compute.pool->parallel_for(std::size_t(channels), [&](std::size_t begin, std::size_t end, int) {
        body(int(begin), int(end));
    });
}

}  // namespace

void activate(Backend backend, Activation activation, float* x, std::size_t n) {
#ifdef LENET_HAVE_AVX2
    if (backend == Backend::avx2) return activate_avx2(activation, x, n);
#endif
    (void)backend;
    activate_reference(activation, x, n);
}

void activation_gradient(Backend backend, Activation activation, const float* y, float* delta, std::size_t n) {
#ifdef LENET_HAVE_AVX2
    if (backend == Backend::avx2) return activation_gradient_avx2(activation, y, delta, n);
#endif
    (void)backend;
    activation_gradient_reference(activation, y, delta, n);
}

void activate(const Compute& compute, Activation activation, float* x, std::size_t n) {
#ifdef LENET_HAVE_AVX2
    if (compute.backend == Backend::avx2 && activation != Activation::linear && worth_splitting(compute, n))
        return for_blocks(compute, n, [&](std::size_t first, std::size_t count) {
            activate_avx2(activation, x + first, count);
        });
#endif
    activate(compute.backend, activation, x, n);
}

void activation_gradient(const Compute& compute, Activation activation, const float* y, float* delta, std::size_t n) {
#ifdef LENET_HAVE_AVX2
    if (compute.backend == Backend::avx2 && activation != Activation::linear && worth_splitting(compute, n))
        return for_blocks(compute, n, [&](std::size_t first, std::size_t count) {
            activation_gradient_avx2(activation, y + first, delta + first, count);
        });
#endif
    activation_gradient(compute.backend, activation, y, delta, n);
}

void scale_add_bias(Backend backend, float* x, const float* scales, const float* biases, int batch, int channels,
                    int spatial) {
#ifdef LENET_HAVE_AVX2
    if (backend == Backend::avx2) return scale_add_bias_avx2(x, scales, biases, batch, channels, spatial);
#endif
    (void)backend;
    scale_add_bias_reference(x, scales, biases, batch, channels, spatial);
}

void bias_gradient(Backend backend, const float* delta, int batch, int channels, int spatial, float* grad) {
#ifdef LENET_HAVE_AVX2
    if (backend == Backend::avx2) return bias_gradient_avx2(delta, batch, channels, spatial, 0, channels, grad);
#endif
    (void)backend;
    bias_gradient_reference(delta, batch, channels, spatial, grad);
}

void scale_gradient(Backend backend, const float* delta, const float* x_norm, int batch, int channels, int spatial,
                    float* grad) {
#ifdef LENET_HAVE_AVX2
    if (backend == Backend::avx2)
        return scale_gradient_avx2(delta, x_norm, batch, channels, spatial, 0, channels, grad);
#endif
    (void)backend;
    scale_gradient_reference(delta, x_norm, batch, channels, spatial, grad);
}

void bias_gradient(const Compute& compute, const float* delta, int batch, int channels, int spatial, float* grad) {
#ifdef LENET_HAVE_AVX2
    if (compute.backend == Backend::avx2 && channels > 1 &&
        worth_splitting(compute, std::size_t(batch) * channels * spatial))
        return for_channels(compute, channels, [&](int first, int last) {
            bias_gradient_avx2(delta, batch, channels, spatial, first, last, grad);
        });
#endif
    bias_gradient(compute.backend, delta, batch, channels, spatial, grad);
}

void scale_gradient(const Compute& compute, const float* delta, const float* x_norm, int batch, int channels,
                    int spatial, float* grad) {
#ifdef LENET_HAVE_AVX2
    if (compute.backend == Backend::avx2 && channels > 1 &&
        worth_splitting(compute, std::size_t(batch) * channels * spatial))
        return for_channels(compute, channels, [&](int first, int last) {
            scale_gradient_avx2(delta, x_norm, batch, channels, spatial, first, last, grad);
        });
#endif
    scale_gradient(compute.backend, delta, x_norm, batch, channels, spatial, grad);
}

void im2col(Backend backend, const ConvGeometry& g, const float* image, float* columns) {
#ifdef LENET_HAVE_AVX2
    if (backend == Backend::avx2 && g.stride == 1) return im2col_s1_avx2(g, image, columns);
#endif
    (void)backend;
    im2col_reference(g, image, columns);
}

void col2im_add(Backend backend, const ConvGeometry& g, const float* columns, float* image) {
#ifdef LENET_HAVE_AVX2
    if (backend == Backend::avx2 && g.stride == 1) return col2im_add_s1_avx2(g, columns, image);
#endif
    (void)backend;
    col2im_add_reference(g, columns, image);
}

bool is_maxpool_2x2s2(const PoolGeometry& g) {
    return g.size == 2 && g.stride == 2 && (g.padding == 0 || g.padding == 1);
}

void maxpool_forward(Backend backend, const PoolGeometry& g, int batch, const float* in, float* out,
                     std::int32_t* argmax) {
#ifdef LENET_HAVE_AVX2
    if (backend == Backend::avx2 && is_maxpool_2x2s2(g)) return maxpool_2x2s2_avx2(g, batch, in, out, argmax);
#endif
    (void)backend;
    maxpool_forward_reference(g, batch, in, out, argmax);
}

void maxpool_backward_set(Backend backend, const PoolGeometry& g, int batch, const float* delta,
                          const std::int32_t* argmax, float* in_grad) {
#ifdef LENET_HAVE_AVX2
    if (backend == Backend::avx2 && is_maxpool_2x2s2(g))
        return maxpool_2x2s2_backward_set_avx2(g, batch, delta, argmax, in_grad);
#endif
    (void)backend;
    maxpool_backward_set_reference(g, batch, delta, argmax, in_grad);
}

void maxpool_backward_add(Backend backend, const PoolGeometry& g, int batch, const float* delta,
                          const std::int32_t* argmax, float* in_grad) {
    (void)backend;
    maxpool_backward_add_reference(g, batch, delta, argmax, in_grad);
}

}  // namespace lenet::kernels
