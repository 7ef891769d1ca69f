// How the backends' tables split whole-batch ops over the thread pool: shared by the tables'
// implementations (table.cpp of each backend), never called by layers. Every split writes disjoint
// outputs, and sums are split by channel, so results do not depend on the thread count unless
// said.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "core/thread_pool.h"
#include "kernels/backend.h"
#include "kernels/gemm/gemm.h"
#include "kernels/ops/activation.h"
#include "kernels/ops/graph.h"

namespace lenet::kernels::parallel {

// Below this many elements a whole-batch op is not worth waking the workers.
constexpr std::size_t kMinParallelElements = std::size_t(1) << 16;
// Elementwise ops are split at multiples of this many floats (4 KiB), not mid-vector.
constexpr std::size_t kBlock = 1024;

inline bool worth_splitting(const Compute& compute, std::size_t elements) {
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
    compute.pool->parallel_for(std::size_t(channels),
                               [&](std::size_t begin, std::size_t end, int) { body(int(begin), int(end)); });
}

// body(first, last, thread) over [0, count) in multiples of `block`, one range per thread.
template <class Body>
void for_ranges(ThreadPool& pool, std::size_t count, std::size_t block, Body body) {
    pool.parallel_for((count + block - 1) / block, [&](std::size_t begin, std::size_t end, int chunk) {
        body(int(begin * block), int(std::min(end * block, count)), chunk);
    });
}

// C split into row or column blocks, one per thread (deterministic for a given thread count);
// small products stay on the calling thread.
template <void (*Kernel)(const GemmArgs&)>
void gemm_single(const GemmArgs& args) {
    if (args.m <= 0 || args.n <= 0) return;
    Kernel(args);
}

template <void (*Kernel)(const GemmArgs&)>
void gemm(const Compute& compute, const GemmArgs& args) {
    const int threads = compute.pool ? compute.pool->size() : 1;
    const double work = double(args.m) * args.n * args.k;
    if (threads == 1 || work < 64.0 * 1024) return gemm_single<Kernel>(args);
    const bool split_rows = args.m >= args.n;
    const int extent = split_rows ? args.m : args.n;
    compute.pool->parallel_for(std::size_t(extent), [&](std::size_t begin, std::size_t end, int) {
        GemmArgs part = args;
        const int first = int(begin), count = int(end - begin);
        if (split_rows) {
            part.m = count;
            part.a = args.trans_a ? args.a + first : args.a + std::size_t(first) * args.lda;
            part.c = args.c + std::size_t(first) * args.ldc;
        } else {
            part.n = count;
            part.b = args.trans_b ? args.b + std::size_t(first) * args.ldb : args.b + first;
            part.c = args.c + first;
        }
        gemm_single<Kernel>(part);
    });
}

// Large arrays split in blocks; linear is a no-op and stays on the calling thread.
template <void (*Kernel)(Activation, float*, std::size_t)>
void activate(const Compute& compute, Activation activation, float* x, std::size_t n) {
    if (activation != Activation::linear && worth_splitting(compute, n))
        return for_blocks(compute, n,
                          [&](std::size_t first, std::size_t count) { Kernel(activation, x + first, count); });
    Kernel(activation, x, n);
}

template <void (*Kernel)(Activation, const float*, float*, std::size_t)>
void activation_gradient(const Compute& compute, Activation activation, const float* y, float* delta, std::size_t n) {
    if (activation != Activation::linear && worth_splitting(compute, n))
        return for_blocks(compute, n, [&](std::size_t first, std::size_t count) {
            Kernel(activation, y + first, delta + first, count);
        });
    Kernel(activation, y, delta, n);
}

// Per-channel sums over channels [first, last), split by channel.
using ChannelSum = void (*)(const float* delta, int batch, int channels, int spatial, int first, int last, float* grad);
using ChannelProductSum = void (*)(const float* delta, const float* x_norm, int batch, int channels, int spatial,
                                   int first, int last, float* grad);

template <ChannelSum Kernel>
void bias_gradient_single(const float* delta, int batch, int channels, int spatial, float* grad) {
    Kernel(delta, batch, channels, spatial, 0, channels, grad);
}

template <ChannelSum Kernel>
void bias_gradient(const Compute& compute, const float* delta, int batch, int channels, int spatial, float* grad) {
    if (channels > 1 && worth_splitting(compute, std::size_t(batch) * channels * spatial))
        return for_channels(compute, channels,
                            [&](int first, int last) { Kernel(delta, batch, channels, spatial, first, last, grad); });
    Kernel(delta, batch, channels, spatial, 0, channels, grad);
}

template <ChannelProductSum Kernel>
void scale_gradient(const Compute& compute, const float* delta, const float* x_norm, int batch, int channels,
                    int spatial, float* grad) {
    if (channels > 1 && worth_splitting(compute, std::size_t(batch) * channels * spatial))
        return for_channels(compute, channels, [&](int first, int last) {
            Kernel(delta, x_norm, batch, channels, spatial, first, last, grad);
        });
    Kernel(delta, x_norm, batch, channels, spatial, 0, channels, grad);
}

// [upsample]'s planes split between the threads (each plane is computed alone).
using UpsamplePlanes = void (*)(const UpsampleGeometry& g, std::size_t planes, const float* from, float* to);

template <UpsamplePlanes Kernel, bool Forward>
void upsample(const Compute& compute, const UpsampleGeometry& g, std::size_t planes, const float* from, float* to) {
    const std::size_t in_plane = std::size_t(g.height) * std::size_t(g.width);
    const std::size_t out_plane = std::size_t(g.out_h()) * std::size_t(g.out_w());
    if (planes < 2 || !worth_splitting(compute, planes * std::max(in_plane, out_plane)))
        return Kernel(g, planes, from, to);
    const std::size_t from_plane = Forward ? in_plane : out_plane, to_plane = Forward ? out_plane : in_plane;
    compute.pool->parallel_for(planes, [&](std::size_t begin, std::size_t end, int) {
        Kernel(g, end - begin, from + begin * from_plane, to + begin * to_plane);
    });
}

}  // namespace lenet::kernels::parallel

#include "kernels/binary/xnor.h"

namespace lenet::kernels::parallel {

inline void* align64(void* p) {
    const auto address = reinterpret_cast<std::uintptr_t>(p);
    return reinterpret_cast<void*>((address + 63) & ~std::uintptr_t(63));
}

// Below this many bit-products a dense layer is not worth waking the workers.
constexpr double kMinParallelBits = 1 << 20;

// Inputs packed sample by sample on the calling thread, then the rows split between the threads
// (integer results: any thread count gives the same floats).
template <void (*PackSigns)(const float*, std::size_t, ZeroSign, BitWord*),
          void (*Rows)(const PackedRows&, const BitWord*, int, float*, int, int)>
void xnor_dense(const Compute& compute, const PackedRows& rows, const float* input, int batch, float* dots,
                void* workspace) {
    if (batch <= 0) return;
    auto* packed = static_cast<BitWord*>(align64(workspace));
    const std::size_t words = std::size_t(rows.row_words), columns = std::size_t(rows.columns);
    for (int b = 0; b < batch; ++b)
        PackSigns(input + std::size_t(b) * columns, columns, rows.zero, packed + std::size_t(b) * words);
    const double work = double(rows.rows) * double(columns) * batch;
    if (!compute.pool || compute.pool->size() == 1 || work < kMinParallelBits || rows.rows < 2)
        return Rows(rows, packed, batch, dots, 0, rows.rows);
    for_ranges(*compute.pool, std::size_t(rows.rows), 1,
               [&](int first, int last, int) { Rows(rows, packed, batch, dots, first, last); });
}

}  // namespace lenet::kernels::parallel
