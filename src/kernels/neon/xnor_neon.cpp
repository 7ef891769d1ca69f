// XNOR kernels with NEON (the reference's algorithms, kernels/reference/xnor.cpp, with the counting
// and the sign packing vectorized; integer results, so identical to it).
//   Counting: popcount(w XOR x) 16 bytes at a time: veorq_u8, vcntq_u8 (a count per byte, <= 8),
//   vpadalq_u8 (pairs of byte counts added into 16-bit lanes, <= 16 per step), and every row of
//   taps (or 2048 steps) vpadalq_u16 into 32-bit lanes; one across-vector add per output. Four
//   filters (dense: four rows) share each load of the input words.
//   Packing: 4 floats compared at once (vcgeq/vcgtq by ZeroSign), the all-ones lane masks narrowed
//   to bits: ANDed with each lane's bit and OR-ed into the pixel's word (image, across channels), or
//   narrowed to bytes and summed pairwise into a word (dense inputs, along the vector).
#include <arm_neon.h>

#include <bit>
#include <cstddef>
#include <cstdint>

#include "kernels/neon/neon.h"

namespace lenet::kernels {
namespace {

// Each step adds at most 16 to a 16-bit lane: widened before 65535 / 16 steps.
constexpr std::size_t kStepsPerWiden = 2048;

inline uint32x4_t sign_mask(float32x4_t v, ZeroSign zero) {
    return zero == ZeroSign::positive ? vcgeq_f32(v, vdupq_n_f32(0.0f)) : vcgtq_f32(v, vdupq_n_f32(0.0f));
}

inline BitWord sign_bit(float x, ZeroSign zero) { return sign_bit_of(x, zero) ? 1 : 0; }

// acc[j] += popcount(x XOR w[j]) over `words` words, in 32-bit lanes.
template <int Filters>
inline void count_run(const BitWord* x, const BitWord* const* w, std::size_t words, uint32x4_t* acc) {
    std::size_t i = 0;
    while (i + 2 <= words) {
        uint16x8_t sums[Filters];
        for (int j = 0; j < Filters; ++j) sums[j] = vdupq_n_u16(0);
        const std::size_t end = i + 2 * kStepsPerWiden < words ? i + 2 * kStepsPerWiden : words - words % 2;
        for (; i < end; i += 2) {
            const uint8x16_t xv = vld1q_u8(reinterpret_cast<const std::uint8_t*>(x + i));
#pragma GCC unroll 4
            for (int j = 0; j < Filters; ++j)
                sums[j] = vpadalq_u8(sums[j],
                                     vcntq_u8(veorq_u8(xv, vld1q_u8(reinterpret_cast<const std::uint8_t*>(w[j] + i)))));
        }
        for (int j = 0; j < Filters; ++j) acc[j] = vpadalq_u16(acc[j], sums[j]);
    }
    if (i < words) {
        const uint8x8_t xv = vld1_u8(reinterpret_cast<const std::uint8_t*>(x + i));
        for (int j = 0; j < Filters; ++j) {
            const uint8x8_t counts = vcnt_u8(veor_u8(xv, vld1_u8(reinterpret_cast<const std::uint8_t*>(w[j] + i))));
            acc[j] = vpadalq_u16(acc[j], vpaddlq_u8(vcombine_u8(counts, vdup_n_u8(0))));
        }
    }
}

// Filters [f, f + Filters) at output position p of the reference's walk.
template <int Filters>
inline void conv_position(const ConvGeometry& g, const PackedFilters& filters, const BitWord* hwc, int f, int y0,
                          int x0, int ky_lo, int ky_hi, int kx_lo, int kx_hi, int n, float* out, std::size_t spatial) {
    const std::size_t words = std::size_t(filters.channel_words);
    const std::size_t run = std::size_t(kx_hi - kx_lo) * words;
    uint32x4_t acc[Filters];
    for (int j = 0; j < Filters; ++j) acc[j] = vdupq_n_u32(0);
    for (int ky = ky_lo; ky < ky_hi; ++ky) {
        const BitWord* x =
            hwc + (std::size_t(y0 + ky) * std::size_t(g.width) + std::size_t(x0 + kx_lo)) * words;
        const BitWord* w[Filters];
        for (int j = 0; j < Filters; ++j)
            w[j] = filters.bits.data() + std::size_t(f + j) * std::size_t(filters.row_words) +
                   std::size_t(ky * g.size + kx_lo) * words;
        count_run<Filters>(x, w, run, acc);
    }
    for (int j = 0; j < Filters; ++j)
        out[std::size_t(f + j) * spatial] = float(n - 2 * int(vaddvq_u32(acc[j])));
}

// Taps k of a window starting at `start` that land in [0, extent).
struct TapRange {
    int lo, hi;
};
inline TapRange tap_range(int start, int size, int extent) {
    int lo = start < 0 ? -start : 0, hi = extent - start < size ? extent - start : size;
    if (hi < lo) hi = lo;
    return {lo, hi};
}

}  // namespace

void pack_signs_neon(const float* x, std::size_t n, ZeroSign zero, BitWord* bits) {
    // Lane i of a 16-lane group carries bit i % 8 of its byte.
    const uint8x16_t lane_bits = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    std::size_t w = 0;
    for (; (w + 1) * 64 <= n; ++w) {
        const float* v = x + w * 64;
        uint8x16_t bytes[4];
        for (int q = 0; q < 4; ++q) {
            const float* s = v + 16 * q;
            const uint16x8_t lo = vcombine_u16(vmovn_u32(sign_mask(vld1q_f32(s), zero)),
                                               vmovn_u32(sign_mask(vld1q_f32(s + 4), zero)));
            const uint16x8_t hi = vcombine_u16(vmovn_u32(sign_mask(vld1q_f32(s + 8), zero)),
                                               vmovn_u32(sign_mask(vld1q_f32(s + 12), zero)));
            bytes[q] = vandq_u8(vcombine_u8(vmovn_u16(lo), vmovn_u16(hi)), lane_bits);
        }
        // Three rounds of pairwise adds: byte k of the result sums lanes 8k..8k+7 of the 64.
        const uint8x16_t pairs = vpaddq_u8(vpaddq_u8(bytes[0], bytes[1]), vpaddq_u8(bytes[2], bytes[3]));
        bits[w] = vgetq_lane_u64(vreinterpretq_u64_u8(vpaddq_u8(pairs, pairs)), 0);
    }
    if (w * 64 < n) {
        BitWord word = 0;
        for (std::size_t i = w * 64; i < n; ++i) word |= sign_bit(x[i], zero) << (i % 64);
        bits[w] = word;
    }
}

std::uint64_t xor_popcount_neon(const BitWord* a, const BitWord* b, std::size_t words) {
    uint32x4_t acc = vdupq_n_u32(0);
    const BitWord* w[1] = {b};
    count_run<1>(a, w, words, &acc);
    return vaddvq_u32(acc);
}

void pack_image_neon(const ConvGeometry& g, const float* image, ZeroSign zero, BitWord* hwc) {
    const std::size_t pixels = std::size_t(g.height) * std::size_t(g.width);
    const std::size_t words = std::size_t((g.channels + 63) / 64);
    std::size_t px = 0;
    for (; px + 4 <= pixels; px += 4)
        for (std::size_t cw = 0; cw < words; ++cw) {
            uint32x4_t lo = vdupq_n_u32(0), hi = vdupq_n_u32(0);
            const int c_end = int(cw) * 64 + 64 < g.channels ? int(cw) * 64 + 64 : g.channels;
            for (int c = int(cw) * 64; c < c_end; ++c) {
                const uint32x4_t mask = sign_mask(vld1q_f32(image + std::size_t(c) * pixels + px), zero);
                const uint32x4_t bit = vandq_u32(mask, vdupq_n_u32(1u << (c % 32)));
                if (c % 64 < 32)
                    lo = vorrq_u32(lo, bit);
                else
                    hi = vorrq_u32(hi, bit);
            }
            // (lo, hi) lane pairs are the four pixels' 64-bit words.
            const uint64x2_t first = vreinterpretq_u64_u32(vzip1q_u32(lo, hi));
            const uint64x2_t second = vreinterpretq_u64_u32(vzip2q_u32(lo, hi));
            hwc[px * words + cw] = vgetq_lane_u64(first, 0);
            hwc[(px + 1) * words + cw] = vgetq_lane_u64(first, 1);
            hwc[(px + 2) * words + cw] = vgetq_lane_u64(second, 0);
            hwc[(px + 3) * words + cw] = vgetq_lane_u64(second, 1);
        }
    for (; px < pixels; ++px)
        for (std::size_t cw = 0; cw < words; ++cw) {
            BitWord word = 0;
            for (int c = int(cw) * 64; c < g.channels && c < int(cw) * 64 + 64; ++c)
                word |= sign_bit(image[std::size_t(c) * pixels + px], zero) << (c % 64);
            hwc[px * words + cw] = word;
        }
}

void xnor_conv_neon(const ConvGeometry& g, const PackedFilters& filters, const BitWord* hwc, float* dots,
                    int first_position, int last_position) {
    const int out_w = g.out_w();
    const std::size_t spatial = std::size_t(g.out_h()) * std::size_t(out_w);
    for (int p = first_position; p < last_position; ++p) {
        const int oy = p / out_w, ox = p % out_w;
        const int y0 = oy * g.stride - g.pad, x0 = ox * g.stride - g.pad;
        const TapRange ys = tap_range(y0, g.size, g.height), xs = tap_range(x0, g.size, g.width);
        const int n = g.channels * (ys.hi - ys.lo) * (xs.hi - xs.lo);
        float* out = dots + std::size_t(p);
        int f = 0;
        for (; f + 4 <= filters.filters; f += 4)
            conv_position<4>(g, filters, hwc, f, y0, x0, ys.lo, ys.hi, xs.lo, xs.hi, n, out, spatial);
        for (; f < filters.filters; ++f)
            conv_position<1>(g, filters, hwc, f, y0, x0, ys.lo, ys.hi, xs.lo, xs.hi, n, out, spatial);
    }
}

void xnor_dense_neon(const PackedRows& rows, const BitWord* packed_input, int batch, float* dots, int first_row,
                     int last_row) {
    const std::size_t words = std::size_t(rows.row_words);
    for (int b = 0; b < batch; ++b) {
        const BitWord* x = packed_input + std::size_t(b) * words;
        float* out = dots + std::size_t(b) * std::size_t(rows.rows);
        int r = first_row;
        for (; r + 4 <= last_row; r += 4) {
            uint32x4_t acc[4];
            const BitWord* w[4];
            for (int j = 0; j < 4; ++j) {
                acc[j] = vdupq_n_u32(0);
                w[j] = rows.bits.data() + std::size_t(r + j) * words;
            }
            count_run<4>(x, w, words, acc);
            for (int j = 0; j < 4; ++j) out[r + j] = float(rows.columns - 2 * int(vaddvq_u32(acc[j])));
        }
        for (; r < last_row; ++r)
            out[r] = float(rows.columns - 2 * int(xor_popcount_neon(rows.bits.data() + std::size_t(r) * words, x, words)));
    }
}

}  // namespace lenet::kernels
