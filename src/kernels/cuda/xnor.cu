// Bit-packed XNOR kernels (binary/xnor.h): the same bit layouts and the same integer dots as the
// reference, one output per thread, popcounts with __popcll. The filters' bits (host vectors of
// PackedFilters/PackedRows) are copied to device scratch each call.
#include <cstdint>

#include "core/error.h"
#include "kernels/cuda/kernels.h"
#include "kernels/cuda/runtime.h"

namespace lenet::kernels::cuda {

namespace {

#define LENET_GRID_LOOP(i, n) \
    for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < (n); i += std::size_t(gridDim.x) * blockDim.x)

__device__ inline BitWord sign_bit(float x, ZeroSign zero) {
    return (zero == ZeroSign::positive ? x >= 0.0f : x > 0.0f) ? 1 : 0;
}

// Rows of `columns` values, each packed into `words` words (bits past `columns` 0).
__global__ void pack_rows_kernel(const float* x, std::size_t columns, std::size_t words, ZeroSign zero, BitWord* bits,
                                 std::size_t n) {
    LENET_GRID_LOOP(i, n) {
        const std::size_t row = i / words, w = i % words;
        const float* values = x + row * columns;
        BitWord word = 0;
        for (std::size_t j = w * 64; j < columns && j < w * 64 + 64; ++j) word |= sign_bit(values[j], zero) << (j % 64);
        bits[i] = word;
    }
}

// hwc[px * words + w]: channels 64w..64w+63 of pixel px.
__global__ void pack_image_kernel(const float* image, std::size_t pixels, int channels, std::size_t words,
                                  ZeroSign zero, BitWord* hwc, std::size_t n) {
    LENET_GRID_LOOP(i, n) {
        const std::size_t px = i / words, w = i % words;
        BitWord word = 0;
        for (int c = int(w * 64); c < channels && c < int(w * 64 + 64); ++c)
            word |= sign_bit(image[std::size_t(c) * pixels + px], zero) << (c % 64);
        hwc[i] = word;
    }
}

__device__ inline void tap_range(int start, int size, int extent, int& lo, int& hi) {
    lo = start < 0 ? -start : 0;
    hi = extent - start < size ? extent - start : size;
    if (hi < lo) hi = lo;
}

// One thread per (filter, output position); neighbouring threads share the filter.
__global__ void xnor_conv_kernel(ConvGeometry g, int out_w, std::size_t spatial, int filters, int row_words,
                                 int channel_words, const BitWord* filter_bits, const BitWord* hwc, float* dots) {
    LENET_GRID_LOOP(i, std::size_t(filters) * spatial) {
        const int f = int(i / spatial), p = int(i % spatial);
        const int y0 = (p / out_w) * g.stride - g.pad, x0 = (p % out_w) * g.stride - g.pad;
        int ylo, yhi, xlo, xhi;
        tap_range(y0, g.size, g.height, ylo, yhi);
        tap_range(x0, g.size, g.width, xlo, xhi);
        const int n = g.channels * (yhi - ylo) * (xhi - xlo);
        const BitWord* row = filter_bits + std::size_t(f) * std::size_t(row_words);
        int d = 0;
        for (int ky = ylo; ky < yhi; ++ky)
            for (int kx = xlo; kx < xhi; ++kx) {
                const BitWord* w = row + std::size_t(ky * g.size + kx) * std::size_t(channel_words);
                const BitWord* x =
                    hwc + (std::size_t(y0 + ky) * std::size_t(g.width) + std::size_t(x0 + kx)) * std::size_t(channel_words);
                for (int k = 0; k < channel_words; ++k) d += __popcll(w[k] ^ x[k]);
            }
        dots[i] = float(n - 2 * d);
    }
}

// One thread per (sample, output row).
__global__ void xnor_dense_kernel(int rows, int columns, int words, const BitWord* row_bits, const BitWord* packed,
                                  float* dots, std::size_t n) {
    LENET_GRID_LOOP(i, n) {
        const std::size_t b = i / std::size_t(rows), r = i % std::size_t(rows);
        const BitWord* w = row_bits + r * std::size_t(words);
        const BitWord* x = packed + b * std::size_t(words);
        int d = 0;
        for (int k = 0; k < words; ++k) d += __popcll(w[k] ^ x[k]);
        dots[i] = float(columns - 2 * d);
    }
}

BitWord* aligned_words(void* workspace) {
    const auto address = reinterpret_cast<std::uintptr_t>(workspace);
    return reinterpret_cast<BitWord*>((address + 63) & ~std::uintptr_t(63));
}

// The bits on the device, in scratch slot `slot`.
const BitWord* upload(int slot, const std::vector<BitWord>& bits, const char* op) {
    const std::size_t bytes = bits.size() * sizeof(BitWord);
    void* device = scratch(slot, bytes > 0 ? bytes : sizeof(BitWord));
    if (bytes > 0) check(cudaMemcpyAsync(device, bits.data(), bytes, cudaMemcpyHostToDevice, stream()), op);
    return static_cast<const BitWord*>(device);
}

}  // namespace

void pack_signs(const float* x, std::size_t n, ZeroSign zero, BitWord* bits) {
    const std::size_t words = (n + 63) / 64;
    if (words == 0) return;
    pack_rows_kernel<<<blocks_for(words), kThreads, 0, stream()>>>(x, n, words, zero, bits, words);
    finish("pack_signs");
}

void pack_image(const ConvGeometry& g, const float* image, ZeroSign zero, BitWord* hwc) {
    const std::size_t pixels = std::size_t(g.height) * std::size_t(g.width);
    const std::size_t words = std::size_t((g.channels + 63) / 64);
    if (pixels * words == 0) return;
    pack_image_kernel<<<blocks_for(pixels * words), kThreads, 0, stream()>>>(image, pixels, g.channels, words, zero,
                                                                            hwc, pixels * words);
    finish("pack_image");
}

std::size_t xnor_conv_workspace(const ConvGeometry& g, int /*threads*/) {
    return pack_image_words(g) * sizeof(BitWord) + 64;
}

void xnor_conv(const ConvGeometry& g, const PackedFilters& filters, const float* image, float* dots, void* workspace) {
    check_packed_shape(g, filters);
    const int oh = g.out_h(), ow = g.out_w();
    if (oh <= 0 || ow <= 0) return;
    BitWord* hwc = aligned_words(workspace);
    pack_image(g, image, filters.zero, hwc);
    const BitWord* bits = upload(0, filters.bits, "xnor_conv (filters)");
    const std::size_t spatial = std::size_t(oh) * std::size_t(ow);
    xnor_conv_kernel<<<blocks_for(std::size_t(filters.filters) * spatial), kThreads, 0, stream()>>>(
        g, ow, spatial, filters.filters, filters.row_words, filters.channel_words, bits, hwc, dots);
    finish("xnor_conv");
}

void xnor_dense(const PackedRows& rows, const float* input, int batch, float* dots, void* workspace) {
    if (batch <= 0) return;
    BitWord* packed = aligned_words(workspace);
    const std::size_t words = std::size_t(rows.row_words);
    const std::size_t packed_words = std::size_t(batch) * words;
    pack_rows_kernel<<<blocks_for(packed_words), kThreads, 0, stream()>>>(input, std::size_t(rows.columns), words,
                                                                         rows.zero, packed, packed_words);
    const BitWord* bits = upload(1, rows.bits, "xnor_dense (rows)");
    const std::size_t n = std::size_t(batch) * std::size_t(rows.rows);
    xnor_dense_kernel<<<blocks_for(n), kThreads, 0, stream()>>>(rows.rows, rows.columns, rows.row_words, bits, packed,
                                                               dots, n);
    finish("xnor_dense");
}

}  // namespace lenet::kernels::cuda
