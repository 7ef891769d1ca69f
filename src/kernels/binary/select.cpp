// Picks the XNOR kernels for a backend and splits them between threads: the AVX2 kernels where
// they cover the shape, else the reference (so -backend reference runs only portable code). Every
// split writes disjoint outputs with integer results, so any thread count gives the same floats.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/binary/xnor.h"

namespace lenet::kernels {

namespace {

// Threads take output positions in multiples of this.
constexpr std::size_t kPositionBlock = 64;
// Below this many bit-products a dense layer is not worth waking the workers.
constexpr double kMinParallelBits = 1 << 20;

inline void* align64(void* p) {
    const auto address = reinterpret_cast<std::uintptr_t>(p);
    return reinterpret_cast<void*>((address + 63) & ~std::uintptr_t(63));
}

std::size_t reference_bytes(const ConvGeometry& g) { return pack_image_words(g) * sizeof(BitWord) + 64; }

void check_shape(const ConvGeometry& g, const PackedFilters& filters) {
    LENET_CHECK(filters.channels == g.channels && filters.size == g.size, "packed filters ", filters.channels, "x",
                filters.size, "x", filters.size, " for a ", g.channels, "-channel ", g.size, "x", g.size, " convolution");
}

[[maybe_unused]] bool use_avx2(Backend backend, const ConvGeometry& g) {
#ifdef LENET_HAVE_AVX2
    return backend == Backend::avx2 && xnor_conv_avx2_covers(g);
#else
    (void)backend;
    (void)g;
    return false;
#endif
}

// body(first, last) over [0, count) in multiples of `block`, one range per thread; chunk is the thread.
template <class Body>
void for_ranges(ThreadPool& pool, std::size_t count, std::size_t block, Body body) {
    pool.parallel_for((count + block - 1) / block, [&](std::size_t begin, std::size_t end, int chunk) {
        body(int(begin * block), int(std::min(end * block, count)), chunk);
    });
}

}  // namespace

std::size_t xnor_conv_workspace_bytes(const ConvGeometry& g, const PackedFilters& filters) {
    return xnor_conv_pool_workspace_bytes(g, filters, 1);
}

std::size_t xnor_conv_pool_workspace_bytes(const ConvGeometry& g, const PackedFilters& filters, int threads) {
    (void)filters;
    std::size_t bytes = reference_bytes(g);
#ifdef LENET_HAVE_AVX2
    bytes = std::max(bytes, 64 + xnor_conv_planes_bytes_avx2(g) + std::size_t(std::max(threads, 1)) * xnor_conv_scratch_bytes_avx2(g));
#else
    (void)threads;
#endif
    return bytes;
}

void xnor_conv_single(Backend backend, const ConvGeometry& g, const PackedFilters& filters, const float* image,
                      float* dots, void* workspace) {
    check_shape(g, filters);
    if (g.out_h() <= 0 || g.out_w() <= 0) return;
    const int spatial = g.out_h() * g.out_w();
#ifdef LENET_HAVE_AVX2
    if (use_avx2(backend, g)) {
        auto* planes = static_cast<std::uint8_t*>(align64(workspace));
        xnor_pack_planes_avx2(g, image, planes, 0, filters.steps);
        return xnor_conv_planes_avx2(g, filters, planes, dots, planes + xnor_conv_planes_bytes_avx2(g), 0, spatial);
    }
#endif
    (void)backend;
    auto* hwc = static_cast<BitWord*>(align64(workspace));
    pack_image_reference(g, image, hwc);
    xnor_conv_reference(g, filters, hwc, dots, 0, spatial);
}

void xnor_conv(const Compute& compute, const ConvGeometry& g, const PackedFilters& filters, const float* image,
               float* dots, void* workspace) {
    if (!compute.pool || compute.pool->size() == 1) return xnor_conv_single(compute.backend, g, filters, image, dots, workspace);
    check_shape(g, filters);
    if (g.out_h() <= 0 || g.out_w() <= 0) return;
    ThreadPool& pool = *compute.pool;
    const std::size_t spatial = std::size_t(g.out_h()) * std::size_t(g.out_w());
#ifdef LENET_HAVE_AVX2
    if (use_avx2(compute.backend, g)) {
        // The planes are shared (each thread packs some steps); each thread has its own scratch.
        auto* planes = static_cast<std::uint8_t*>(align64(workspace));
        std::uint8_t* scratch = planes + xnor_conv_planes_bytes_avx2(g);
        const std::size_t bytes = xnor_conv_scratch_bytes_avx2(g);
        for_ranges(pool, std::size_t(filters.steps), 1,
                   [&](int first, int last, int) { xnor_pack_planes_avx2(g, image, planes, first, last); });
        for_ranges(pool, spatial, kPositionBlock, [&](int first, int last, int chunk) {
            xnor_conv_planes_avx2(g, filters, planes, dots, scratch + std::size_t(chunk) * bytes, first, last);
        });
        return;
    }
#endif
    auto* hwc = static_cast<BitWord*>(align64(workspace));
    pack_image_reference(g, image, hwc);
    for_ranges(pool, spatial, kPositionBlock,
               [&](int first, int last, int) { xnor_conv_reference(g, filters, hwc, dots, first, last); });
}

std::size_t xnor_dense_workspace_bytes(const PackedRows& rows, int batch) {
    return std::size_t(std::max(batch, 1)) * std::size_t(rows.row_words) * sizeof(BitWord) + 64;
}

void xnor_dense(const Compute& compute, const PackedRows& rows, const float* input, int batch, float* dots,
                void* workspace) {
    if (batch <= 0) return;
    auto* packed = static_cast<BitWord*>(align64(workspace));
    const std::size_t words = std::size_t(rows.row_words), columns = std::size_t(rows.columns);
    [[maybe_unused]] const bool avx2 = compute.backend == Backend::avx2;
    for (int b = 0; b < batch; ++b) {
#ifdef LENET_HAVE_AVX2
        if (avx2) {
            pack_signs_avx2(input + std::size_t(b) * columns, columns, packed + std::size_t(b) * words);
            continue;
        }
#endif
        pack_signs_reference(input + std::size_t(b) * columns, columns, packed + std::size_t(b) * words);
    }
    auto rows_kernel = [&](int first, int last) {
#ifdef LENET_HAVE_AVX2
        if (avx2) return xnor_dense_avx2(rows, packed, batch, dots, first, last);
#endif
        xnor_dense_reference(rows, packed, batch, dots, first, last);
    };
    const double work = double(rows.rows) * double(columns) * batch;
    if (!compute.pool || compute.pool->size() == 1 || work < kMinParallelBits || rows.rows < 2)
        return rows_kernel(0, rows.rows);
    for_ranges(*compute.pool, std::size_t(rows.rows), 1, [&](int first, int last, int) { rows_kernel(first, last); });
}

}  // namespace lenet::kernels
