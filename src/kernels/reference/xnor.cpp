// Portable XNOR kernels (the truth the AVX2 ones are tested against) and the packers. Each output
// of a convolution walks its window's taps that fall inside the image, XORs the filter's channel
// words with the pixel's and counts the disagreements d; the dot is channels * taps - 2 * d.
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "kernels/binary/xnor.h"

namespace lenet::kernels {

namespace {

inline BitWord sign_bit(float x, ZeroSign zero) { return sign_bit_of(x, zero) ? 1 : 0; }

// Taps k of a window starting at `start` (= o * stride - pad) that land in [0, extent).
struct TapRange {
    int lo, hi;
};
inline TapRange tap_range(int start, int size, int extent) {
    int lo = start < 0 ? -start : 0, hi = extent - start < size ? extent - start : size;
    if (hi < lo) hi = lo;
    return {lo, hi};
}

}  // namespace

PackedFilters pack_filters(const float* weights, int filters, int channels, int size, ZeroSign zero) {
    LENET_CHECK(filters > 0 && channels > 0 && size > 0, "filters=", filters, " channels=", channels, " size=", size);
    PackedFilters p;
    p.filters = filters;
    p.channels = channels;
    p.size = size;
    p.zero = zero;
    const int taps = size * size;
    p.channel_words = (channels + 63) / 64;
    p.row_words = taps * p.channel_words;
    p.bits.assign(std::size_t(filters) * std::size_t(p.row_words), 0);
    p.quads = (filters + 3) / 4;
    p.steps = (channels + 7) / 8;
    p.tables.assign(std::size_t(p.quads) * std::size_t(taps) * std::size_t(p.steps) * 8, Block16{});
    for (int f = 0; f < filters; ++f) {
        BitWord* row = p.bits.data() + std::size_t(f) * std::size_t(p.row_words);
        for (int c = 0; c < channels; ++c)
            for (int t = 0; t < taps; ++t) {
                const BitWord bit = sign_bit(weights[(std::size_t(f) * std::size_t(channels) + std::size_t(c)) * std::size_t(taps) + std::size_t(t)], zero);
                row[std::size_t(t) * std::size_t(p.channel_words) + std::size_t(c / 64)] |= bit << (c % 64);
            }
    }
    // Each table from its filter nibble w (missing channels and filters: 0 bits).
    for (int f = 0; f < p.quads * 4; ++f)
        for (int t = 0; t < taps; ++t)
            for (int s = 0; s < p.steps; ++s)
                for (int h = 0; h < 2; ++h) {
                    unsigned w = 0;
                    for (int j = 0; j < 4; ++j) {
                        const int c = 8 * s + 4 * h + j;
                        if (f < filters && c < channels)
                            w |= unsigned((p.bits[std::size_t(f) * std::size_t(p.row_words) + std::size_t(t) * std::size_t(p.channel_words) +
                                                  std::size_t(c / 64)] >> (c % 64)) & 1) << j;
                    }
                    Block16& table = p.tables[(((std::size_t(f / 4) * std::size_t(taps) + std::size_t(t)) * std::size_t(p.steps) +
                                                std::size_t(s)) * 4 + std::size_t(f % 4)) * 2 + std::size_t(h)];
                    for (unsigned x = 0; x < 16; ++x) table.bytes[x] = std::uint8_t(std::popcount(x ^ w));
                }
    return p;
}

void unpack_filters(const PackedFilters& packed, float* signs) {
    const int taps = packed.size * packed.size;
    for (int f = 0; f < packed.filters; ++f)
        for (int c = 0; c < packed.channels; ++c)
            for (int t = 0; t < taps; ++t) {
                const BitWord word = packed.bits[std::size_t(f) * std::size_t(packed.row_words) +
                                                 std::size_t(t) * std::size_t(packed.channel_words) + std::size_t(c / 64)];
                signs[(std::size_t(f) * std::size_t(packed.channels) + std::size_t(c)) * std::size_t(taps) + std::size_t(t)] =
                    (word >> (c % 64)) & 1 ? 1.0f : -1.0f;
            }
}

PackedRows pack_rows(const float* weights, int rows, int columns, ZeroSign zero) {
    LENET_CHECK(rows > 0 && columns > 0, "rows=", rows, " columns=", columns);
    PackedRows p;
    p.rows = rows;
    p.columns = columns;
    p.zero = zero;
    p.row_words = (columns + 63) / 64;
    p.bits.assign(std::size_t(rows) * std::size_t(p.row_words), 0);
    for (int r = 0; r < rows; ++r)
        pack_signs_reference(weights + std::size_t(r) * std::size_t(columns), std::size_t(columns), zero,
                             p.bits.data() + std::size_t(r) * std::size_t(p.row_words));
    return p;
}

void unpack_rows(const PackedRows& packed, float* signs) {
    for (int r = 0; r < packed.rows; ++r) {
        const BitWord* row = packed.bits.data() + std::size_t(r) * std::size_t(packed.row_words);
        for (int i = 0; i < packed.columns; ++i)
            signs[std::size_t(r) * std::size_t(packed.columns) + std::size_t(i)] = (row[i / 64] >> (i % 64)) & 1 ? 1.0f : -1.0f;
    }
}

void pack_signs_reference(const float* x, std::size_t n, ZeroSign zero, BitWord* bits) {
    for (std::size_t w = 0; w < (n + 63) / 64; ++w) {
        BitWord word = 0;
        for (std::size_t i = w * 64; i < n && i < w * 64 + 64; ++i) word |= sign_bit(x[i], zero) << (i % 64);
        bits[w] = word;
    }
}

std::uint64_t xor_popcount_reference(const BitWord* a, const BitWord* b, std::size_t words) {
    std::uint64_t count = 0;
    for (std::size_t i = 0; i < words; ++i) count += std::uint64_t(std::popcount(a[i] ^ b[i]));
    return count;
}

std::size_t pack_image_words(const ConvGeometry& g) {
    return std::size_t(g.height) * std::size_t(g.width) * std::size_t((g.channels + 63) / 64);
}

void pack_image_reference(const ConvGeometry& g, const float* image, ZeroSign zero, BitWord* hwc) {
    const std::size_t pixels = std::size_t(g.height) * std::size_t(g.width);
    const std::size_t words = std::size_t((g.channels + 63) / 64);
    for (std::size_t i = 0; i < pixels * words; ++i) hwc[i] = 0;
    for (int c = 0; c < g.channels; ++c) {
        const float* plane = image + std::size_t(c) * pixels;
        for (std::size_t px = 0; px < pixels; ++px) hwc[px * words + std::size_t(c / 64)] |= sign_bit(plane[px], zero) << (c % 64);
    }
}

namespace {

// The exact dot of filter f with output position p's window (taps in the padding left out).
int window_dot(const ConvGeometry& g, const PackedFilters& filters, const BitWord* hwc, int p, int f) {
    const int out_w = g.out_w();
    const std::size_t words = std::size_t(filters.channel_words);
    const int oy = p / out_w, ox = p % out_w;
    const int y0 = oy * g.stride - g.pad, x0 = ox * g.stride - g.pad;
    const TapRange ys = tap_range(y0, g.size, g.height), xs = tap_range(x0, g.size, g.width);
    const int n = g.channels * (ys.hi - ys.lo) * (xs.hi - xs.lo);
    const BitWord* row = filters.bits.data() + std::size_t(f) * std::size_t(filters.row_words);
    std::uint64_t d = 0;
    for (int ky = ys.lo; ky < ys.hi; ++ky)
        for (int kx = xs.lo; kx < xs.hi; ++kx) {
            const BitWord* w = row + std::size_t(ky * g.size + kx) * words;
            const BitWord* x = hwc + (std::size_t(y0 + ky) * std::size_t(g.width) + std::size_t(x0 + kx)) * words;
            d += xor_popcount_reference(w, x, words);
        }
    return n - 2 * int(d);
}

}  // namespace

void xnor_conv_reference(const ConvGeometry& g, const PackedFilters& filters, const BitWord* hwc, float* dots,
                         int first_position, int last_position) {
    const std::size_t spatial = std::size_t(g.out_h()) * std::size_t(g.out_w());
    for (int p = first_position; p < last_position; ++p)
        for (int f = 0; f < filters.filters; ++f)
            dots[std::size_t(f) * spatial + std::size_t(p)] = float(window_dot(g, filters, hwc, p, f));
}

void xnor_conv_signs_reference(const ConvGeometry& g, const PackedFilters& filters, const BitWord* hwc,
                               const SignThresholds& thresholds, std::uint8_t* out_planes, int first_position,
                               int last_position) {
    const std::size_t spatial = std::size_t(g.out_h()) * std::size_t(g.out_w());
    for (int p = first_position; p < last_position; ++p)
        for (int s = 0; s < sign_plane_count(filters.filters); ++s) {
            unsigned byte = 0;
            for (int f = 8 * s; f < std::min(8 * s + 8, filters.filters); ++f)
                if (thresholds.bit(f, window_dot(g, filters, hwc, p, f))) byte |= 1u << (f - 8 * s);
            out_planes[std::size_t(s) * spatial + std::size_t(p)] = std::uint8_t(byte);
        }
}

void sign_planes_to_hwc_reference(const ConvGeometry& g, const std::uint8_t* planes, BitWord* hwc) {
    const std::size_t pixels = std::size_t(g.height) * std::size_t(g.width);
    const std::size_t words = std::size_t((g.channels + 63) / 64);
    for (std::size_t i = 0; i < pixels * words; ++i) hwc[i] = 0;
    for (int s = 0; s < sign_plane_count(g.channels); ++s)
        for (std::size_t px = 0; px < pixels; ++px)
            hwc[px * words + std::size_t(s / 8)] |= BitWord(planes[std::size_t(s) * pixels + px]) << (8 * (s % 8));
}

void xnor_dense_reference(const PackedRows& rows, const BitWord* packed_input, int batch, float* dots, int first_row,
                          int last_row) {
    const std::size_t words = std::size_t(rows.row_words);
    for (int b = 0; b < batch; ++b)
        for (int r = first_row; r < last_row; ++r) {
            const std::uint64_t d = xor_popcount_reference(rows.bits.data() + std::size_t(r) * words,
                                                           packed_input + std::size_t(b) * words, words);
            dots[std::size_t(b) * std::size_t(rows.rows) + std::size_t(r)] = float(rows.columns - 2 * int(d));
        }
}

}  // namespace lenet::kernels
