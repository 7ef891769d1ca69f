// Bit-packed XNOR kernels (DESIGN.md §4): exact integer dots of sign vectors,
//   s(x) = +1 (bit 1) for x > 0, -1 (bit 0) for x < 0, s(0) by the packed weights' ZeroSign (the
//   layer's: +1 for xnor_scale=k, -1 for Darknet's xnor_scale=none; the inputs use the same rule),
// for a binary convolution (zero padding contributes 0, exactly as a float convolution of the
// signed, zero-padded image) and a binary connected layer.
//
// For n real bits, dot = n - 2 * popcount(a XOR b). Unused bits are 0 in both operands, so they
// never count; padded taps are skipped (their count n excludes them), so border outputs are exact
// without any correction term.
//
// Two layouts of the same filters are kept: `bits` (64-bit words per filter, used by the reference
// kernels and for export) and `tables` (the AVX2 kernel's). The AVX2 convolution looks up
// popcount(w XOR x) for 32 output positions' 4-bit input nibbles x at once in a 16-entry table
// built from one filter nibble w (vpshufb): a shuffle and an add per 128 bit-products, the tables
// made once when the filters are packed, the counts landing along output rows (see avx2/xnor_avx2.cpp).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/backend.h"
#include "kernels/ops/binarize.h"
#include "kernels/ops/im2col.h"
#include "kernels/ops/sign_planes.h"

namespace lenet::kernels {

using BitWord = std::uint64_t;

// 16 bytes, aligned for 128-bit loads (a vpshufb table).
struct alignas(16) Block16 {
    std::uint8_t bytes[16];
};

// Signs of a binary convolution's filters, packed along the reduction axis (bit 1 = +1).
// Weights come in Darknet layout [filters][channels][size][size].
struct PackedFilters {
    int filters = 0, channels = 0, size = 0;
    ZeroSign zero = ZeroSign::positive;  // s(0) of the weights, and of the images the kernels pack
    int channel_words = 0;  // ceil(channels / 64)
    int row_words = 0;      // size * size * channel_words: words per filter
    // bits[f * row_words + (ky * size + kx) * channel_words + c / 64], bit c % 64 = s(w[f][c][ky][kx]);
    // bits of channels >= `channels` are 0.
    std::vector<BitWord> bits;
    // AVX2 layout: filter quads, taps t = ky * size + kx, steps of 8 channels, filter i of the quad,
    // half h: tables[(((quad * size*size + t) * steps + s) * 4 + i) * 2 + h].bytes[x] =
    // popcount(x XOR w), w = the signs of channels 8s+4h..8s+4h+3 of filter 4 * quad + i (bit j =
    // channel 8s+4h+j); missing channels are 0 bits, missing filters all-zero weights.
    int quads = 0, steps = 0;  // ceil(filters / 4), ceil(channels / 8)
    std::vector<Block16> tables;
};

PackedFilters pack_filters(const float* weights, int filters, int channels, int size, ZeroSign zero);
// Unpack back to +-1 floats in Darknet layout (for round-trip tests and for export/import).
void unpack_filters(const PackedFilters& packed, float* signs);

// dots[f * out_h*out_w + p] = exact integer dot (as float) of filter f with the window of output
// position p, for one CHW float image (binarized and packed inside: that is part of the cost): the
// ops xnor_conv and xnor_conv_single (kernels/ops.h). The workspace (caller-provided, any
// alignment) holds the packed image and per-thread scratch; none of these allocate. Filters must
// have been packed for g's channels and size. The sizes below cover every backend built, for one
// thread and for a pool of `threads`.
std::size_t xnor_conv_workspace_bytes(const ConvGeometry& g, const PackedFilters& filters);
std::size_t xnor_conv_pool_workspace_bytes(const ConvGeometry& g, const PackedFilters& filters, int threads);
// The reference's ops (the truth), the whole image on the calling thread or split over the pool.
std::size_t xnor_conv_workspace_reference(const ConvGeometry& g, int threads);
void xnor_conv_single_reference(const ConvGeometry& g, const PackedFilters& filters, const float* image, float* dots,
                                void* workspace);
void xnor_conv_threads_reference(const Compute& compute, const ConvGeometry& g, const PackedFilters& filters,
                                 const float* image, float* dots, void* workspace);
// Threads take output positions in multiples of this.
constexpr std::size_t kXnorPositionBlock = 64;
void check_packed_shape(const ConvGeometry& g, const PackedFilters& filters);

// The XNOR convolution of one image with either input and either output (the op xnor_conv_io):
// the input as a float CHW image (binarized and packed inside, as xnor_conv) or as sign planes
// (ops/sign_planes.h, Darknet's sign rule: filters packed with ZeroSign::negative); the output as
// the float dots (as xnor_conv) or as sign planes, filter f's bit by thresholds.bit(f, dot).
// Exactly one of image / in_planes and one of dots / out_planes is set. Same workspace as xnor_conv.
struct XnorConvIo {
    const float* image = nullptr;
    const std::uint8_t* in_planes = nullptr;
    float* dots = nullptr;
    std::uint8_t* out_planes = nullptr;
    SignThresholds thresholds{};
};
void xnor_conv_io_reference(const Compute& compute, const ConvGeometry& g, const PackedFilters& filters,
                            const XnorConvIo& io, void* workspace);
// Sign planes to the reference's HWC words (pack_image_reference's layout).
void sign_planes_to_hwc_reference(const ConvGeometry& g, const std::uint8_t* planes, BitWord* hwc);
// Output positions [first_position, last_position) as sign planes, from the packed image.
void xnor_conv_signs_reference(const ConvGeometry& g, const PackedFilters& filters, const BitWord* hwc,
                               const SignThresholds& thresholds, std::uint8_t* out_planes, int first_position,
                               int last_position);

// Dense (connected) layer: weights [rows = outputs][columns = inputs], Darknet layout.
// bits[r * row_words + i / 64], bit i % 64 = s(w[r][i]); bits past `columns` are 0.
struct PackedRows {
    int rows = 0, columns = 0, row_words = 0;
    ZeroSign zero = ZeroSign::positive;  // s(0) of the weights, and of the inputs the kernels pack
    std::vector<BitWord> bits;
};
PackedRows pack_rows(const float* weights, int rows, int columns, ZeroSign zero);
void unpack_rows(const PackedRows& packed, float* signs);
// dots[b * rows + o] = sum_i s(input[b * columns + i]) * s(w[o][i]) for b < batch: the op
// xnor_dense (kernels/ops.h), rows split between the pool's threads.
std::size_t xnor_dense_workspace_bytes(const PackedRows& rows, int batch);

// Building blocks, exposed for tests and benchmarks.
// Packs s(x[i]) for i < n into ceil(n / 64) words (bit i % 64 of word i / 64); bits past n are 0.
void pack_signs_reference(const float* x, std::size_t n, ZeroSign zero, BitWord* bits);
// sum over i < words of popcount(a[i] XOR b[i])
std::uint64_t xor_popcount_reference(const BitWord* a, const BitWord* b, std::size_t words);
// The image's signs in HWC order: hwc[(y * width + x) * channel_words + c / 64], bit c % 64.
std::size_t pack_image_words(const ConvGeometry& g);
void pack_image_reference(const ConvGeometry& g, const float* image, ZeroSign zero, BitWord* hwc);
// Output positions [first_position, last_position) of every filter, from the packed image.
void xnor_conv_reference(const ConvGeometry& g, const PackedFilters& filters, const BitWord* hwc, float* dots,
                         int first_position, int last_position);
void xnor_dense_reference(const PackedRows& rows, const BitWord* packed_input, int batch, float* dots,
                          int first_row, int last_row);


}  // namespace lenet::kernels
