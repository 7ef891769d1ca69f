// AVX2 XNOR kernels.
//
// Convolution: a table lookup per 4 bits instead of XOR + popcount. For each pixel and each 8
// channels (one "step") the image is expanded into 32 bytes: for the channels' low nibble x, the
// 16-byte table T(x)[w] = popcount(w XOR x), and the same for the high nibble. The filters are
// stored as nibbles, 16 filters per 128-bit lane (PackedFilters::nibbles). One vpshufb of a pixel's
// table by a vector of filter nibbles yields 32 disagreement counts: 16 filters x 8 channels, 128
// bit-products for one shuffle and one byte add. Zen's two shuffle ports bound the kernel at 256
// bit-products per cycle (an XOR + nibble-LUT popcount costs ~8 vector ops per 256).
//
// A register tile of kFv x 16 filters by kP output positions keeps kFv*kP byte accumulators (at
// most 4 per byte per step: flushed to 16-bit sums every 63 steps). Taps of a window that fall in
// the padding read an all-zero table (they add no disagreement) and are left out of the count n, so
// border outputs are exact. Missing channels are 0 in both the table index and the filter nibble.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "kernels/binary/xnor.h"

namespace lenet::kernels {

namespace {

constexpr int kFv = 2;       // filter vectors (16 filters each) per register tile
constexpr int kP = 6;        // output positions per register tile
constexpr int kMaxRun = 63;  // steps a byte accumulator takes before it could pass 255 (4 per step)

// lut[b] = [T(b & 15) | T(b >> 4)], T(x)[w] = popcount(w XOR x).
constexpr std::array<Block32, 256> make_table_lut() {
    std::array<Block32, 256> lut{};
    for (int b = 0; b < 256; ++b)
        for (int w = 0; w < 16; ++w) {
            lut[std::size_t(b)].bytes[w] = std::uint8_t(std::popcount(unsigned((b & 15) ^ w)));
            lut[std::size_t(b)].bytes[16 + w] = std::uint8_t(std::popcount(unsigned((b >> 4) ^ w)));
        }
    return lut;
}
constexpr std::array<Block32, 256> kTableLut = make_table_lut();

inline void* align64(void* p) {
    const auto address = reinterpret_cast<std::uintptr_t>(p);
    return reinterpret_cast<void*>((address + 63) & ~std::uintptr_t(63));
}

// Byte r of x holds row r (bit c = column c); returns the transpose (byte c, bit r).
inline std::uint64_t transpose_8x8(std::uint64_t x) {
    std::uint64_t t = (x ^ (x >> 7)) & 0x00AA00AA00AA00AAull;
    x = x ^ t ^ (t << 7);
    t = (x ^ (x >> 14)) & 0x0000CCCC0000CCCCull;
    x = x ^ t ^ (t << 14);
    t = (x ^ (x >> 28)) & 0x00000000F0F0F0F0ull;
    return x ^ t ^ (t << 28);
}

// Bits s(x[i]) for 8 floats.
inline unsigned signs8(const float* x) {
    return unsigned(_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x), _mm256_setzero_ps(), _CMP_GE_OQ)));
}

int steps_of(const ConvGeometry& g) { return (g.channels + 7) / 8; }
std::size_t pixels_of(const ConvGeometry& g) { return std::size_t(g.height) * std::size_t(g.width); }

// The kFv x kP tile's disagreement counts: d[i * fv * 16 + f] for position i and filter f of the
// tile. w: the tile's first filter group (groups group_stride blocks apart); pixels[t * kP + i]:
// position i's table at tap t.
template <int FV>
void count_tile(const Block32* w, std::size_t group_stride, const Block32* const* pixels, int taps, int steps,
                std::uint16_t* d) {
    __m256i acc[FV][kP], lo[FV][kP], hi[FV][kP];
    for (int f = 0; f < FV; ++f)
        for (int i = 0; i < kP; ++i) acc[f][i] = lo[f][i] = hi[f][i] = _mm256_setzero_si256();
    const __m256i zero = _mm256_setzero_si256();
    auto flush = [&] {
        for (int f = 0; f < FV; ++f)
            for (int i = 0; i < kP; ++i) {
                lo[f][i] = _mm256_add_epi16(lo[f][i], _mm256_unpacklo_epi8(acc[f][i], zero));
                hi[f][i] = _mm256_add_epi16(hi[f][i], _mm256_unpackhi_epi8(acc[f][i], zero));
                acc[f][i] = zero;
            }
    };
    int pending = 0;
    for (int t = 0; t < taps; ++t) {
        const Block32* px[kP];
        for (int i = 0; i < kP; ++i) px[i] = pixels[t * kP + i];
        const Block32* wt = w + std::size_t(t) * std::size_t(steps);
        for (int s = 0; s < steps;) {
            const int end = s + std::min(steps - s, kMaxRun - pending);
            pending += end - s;
            for (; s < end; ++s) {
                __m256i wv[FV];
                for (int f = 0; f < FV; ++f)
                    wv[f] = _mm256_load_si256(reinterpret_cast<const __m256i*>(wt + std::size_t(f) * group_stride + s));
                for (int i = 0; i < kP; ++i) {
                    const __m256i table = _mm256_load_si256(reinterpret_cast<const __m256i*>(px[i] + s));
                    for (int f = 0; f < FV; ++f)
                        acc[f][i] = _mm256_add_epi8(acc[f][i], _mm256_shuffle_epi8(table, wv[f]));
                }
            }
            if (pending == kMaxRun) {
                flush();
                pending = 0;
            }
        }
    }
    flush();
    // lo = [filters 0-7, low nibbles | filters 0-7, high nibbles], hi the same for filters 8-15.
    for (int f = 0; f < FV; ++f)
        for (int i = 0; i < kP; ++i) {
            const __m256i sum = _mm256_add_epi16(_mm256_permute2x128_si256(lo[f][i], hi[f][i], 0x20),
                                                 _mm256_permute2x128_si256(lo[f][i], hi[f][i], 0x31));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + (i * FV + f) * 16), sum);
        }
}

}  // namespace

std::size_t xnor_conv_tables_bytes_avx2(const ConvGeometry& g) {
    // One extra all-zero pixel for taps in the padding; 64 bytes to align the start.
    return (pixels_of(g) + 1) * std::size_t(steps_of(g)) * sizeof(Block32) + 64;
}

std::size_t xnor_conv_scratch_bytes_avx2(const ConvGeometry& g) {
    return std::size_t(g.size) * std::size_t(g.size) * kP * sizeof(const Block32*) + 64;
}

bool xnor_conv_avx2_covers(const ConvGeometry& g) {
    // Per filter and position, d <= taps * steps * 8 must fit the 16-bit sums.
    return std::size_t(g.size) * std::size_t(g.size) * std::size_t(steps_of(g)) * 8 <= 65535;
}

void xnor_conv_tables_avx2(const ConvGeometry& g, const float* image, void* workspace, int first_pixel,
                           int last_pixel) {
    auto* tables = static_cast<Block32*>(align64(workspace));
    const std::size_t pixels = pixels_of(g), steps = std::size_t(steps_of(g));
    if (std::size_t(last_pixel) == pixels)
        std::fill(tables + pixels * steps, tables + (pixels + 1) * steps, Block32{});
    const auto* lut = reinterpret_cast<const __m256i*>(kTableLut.data());
    int px = first_pixel;
    for (; px + 8 <= last_pixel; px += 8)
        for (std::size_t s = 0; s < steps; ++s) {
            // Byte ci: the signs of channel 8s + ci at the 8 pixels; transposed, byte j: pixel j's 8 channels.
            std::uint64_t rows = 0;
            for (int ci = 0; ci < 8; ++ci) {
                const int c = int(s) * 8 + ci;
                if (c < g.channels) rows |= std::uint64_t(signs8(image + std::size_t(c) * pixels + std::size_t(px))) << (8 * ci);
            }
            const std::uint64_t cols = transpose_8x8(rows);
            for (int j = 0; j < 8; ++j)
                _mm256_store_si256(reinterpret_cast<__m256i*>(tables + (std::size_t(px + j)) * steps + s),
                                   _mm256_load_si256(lut + ((cols >> (8 * j)) & 0xFF)));
        }
    for (; px < last_pixel; ++px)
        for (std::size_t s = 0; s < steps; ++s) {
            unsigned byte = 0;
            for (int ci = 0; ci < 8; ++ci) {
                const int c = int(s) * 8 + ci;
                if (c < g.channels && image[std::size_t(c) * pixels + std::size_t(px)] >= 0.0f) byte |= 1u << ci;
            }
            _mm256_store_si256(reinterpret_cast<__m256i*>(tables + std::size_t(px) * steps + s), _mm256_load_si256(lut + byte));
        }
}

void xnor_conv_positions_avx2(const ConvGeometry& g, const PackedFilters& filters, float* dots, const void* workspace,
                              void* thread_scratch, int first_position, int last_position) {
    const auto* tables = static_cast<const Block32*>(align64(const_cast<void*>(workspace)));
    auto** pointers = static_cast<const Block32**>(align64(thread_scratch));
    const int steps = steps_of(g), taps = g.size * g.size, out_w = g.out_w();
    const std::size_t spatial = std::size_t(g.out_h()) * std::size_t(out_w);
    const Block32* zero_pixel = tables + pixels_of(g) * std::size_t(steps);
    const std::size_t group_stride = std::size_t(taps) * std::size_t(steps);
    alignas(32) std::uint16_t d[kFv * 16 * kP];
    int n[kP];
    for (int p0 = first_position; p0 < last_position; p0 += kP) {
        const int np = std::min(kP, last_position - p0);
        // Positions past the range read zero tables; their sums are not written.
        for (int i = 0; i < kP; ++i) {
            if (i >= np) {
                for (int t = 0; t < taps; ++t) pointers[t * kP + i] = zero_pixel;
                continue;
            }
            const int oy = (p0 + i) / out_w, ox = (p0 + i) % out_w;
            const int y0 = oy * g.stride - g.pad, x0 = ox * g.stride - g.pad;
            int valid = 0;
            for (int ky = 0; ky < g.size; ++ky)
                for (int kx = 0; kx < g.size; ++kx) {
                    const int y = y0 + ky, x = x0 + kx;
                    const bool inside = y >= 0 && y < g.height && x >= 0 && x < g.width;
                    valid += inside;
                    pointers[(ky * g.size + kx) * kP + i] =
                        inside ? tables + (std::size_t(y) * std::size_t(g.width) + std::size_t(x)) * std::size_t(steps)
                               : zero_pixel;
                }
            n[i] = valid * g.channels;
        }
        for (int g0 = 0; g0 < filters.groups; g0 += kFv) {
            const int fv = std::min(kFv, filters.groups - g0);
            const Block32* w = filters.nibbles.data() + std::size_t(g0) * group_stride;
            if (fv == 2)
                count_tile<2>(w, group_stride, pointers, taps, steps, d);
            else
                count_tile<1>(w, group_stride, pointers, taps, steps, d);
            const int f_end = std::min(filters.filters, (g0 + fv) * 16);
            for (int f = g0 * 16; f < f_end; ++f) {
                float* out = dots + std::size_t(f) * spatial + std::size_t(p0);
                const int column = f - g0 * 16;
                for (int i = 0; i < np; ++i) out[i] = float(n[i] - 2 * int(d[i * fv * 16 + column]));
            }
        }
    }
}

void pack_signs_avx2(const float* x, std::size_t n, BitWord* bits) {
    std::size_t w = 0;
    for (; (w + 1) * 64 <= n; ++w) {
        BitWord word = 0;
        for (int j = 0; j < 8; ++j) word |= BitWord(signs8(x + w * 64 + std::size_t(j) * 8)) << (8 * j);
        bits[w] = word;
    }
    if (w * 64 < n) {
        BitWord word = 0;
        for (std::size_t i = w * 64; i < n; ++i) word |= BitWord(x[i] >= 0.0f) << (i % 64);
        bits[w] = word;
    }
}

std::uint64_t xor_popcount_avx2(const BitWord* a, const BitWord* b, std::size_t words) {
    const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,  //
                                         0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i low = _mm256_set1_epi8(0x0F);
    __m256i total = _mm256_setzero_si256();
    std::size_t i = 0;
    while (i + 4 <= words) {
        // At most 8 per byte per vector: 31 vectors fit a byte.
        const std::size_t end = i + 4 * std::min<std::size_t>(31, (words - i) / 4);
        __m256i bytes = _mm256_setzero_si256();
        for (; i < end; i += 4) {
            const __m256i v = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i)),
                                               _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i)));
            const __m256i count = _mm256_add_epi8(_mm256_shuffle_epi8(lut, _mm256_and_si256(v, low)),
                                                  _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(v, 4), low)));
            bytes = _mm256_add_epi8(bytes, count);
        }
        total = _mm256_add_epi64(total, _mm256_sad_epu8(bytes, _mm256_setzero_si256()));
    }
    const __m128i half = _mm_add_epi64(_mm256_castsi256_si128(total), _mm256_extracti128_si256(total, 1));
    std::uint64_t count = std::uint64_t(_mm_cvtsi128_si64(half)) + std::uint64_t(_mm_extract_epi64(half, 1));
    for (; i < words; ++i) count += std::uint64_t(_mm_popcnt_u64(a[i] ^ b[i]));
    return count;
}

void xnor_dense_avx2(const PackedRows& rows, const BitWord* packed_input, int batch, float* dots, int first_row,
                     int last_row) {
    const std::size_t words = std::size_t(rows.row_words);
    for (int r = first_row; r < last_row; ++r) {
        const BitWord* w = rows.bits.data() + std::size_t(r) * words;
        for (int b = 0; b < batch; ++b) {
            const std::uint64_t d = xor_popcount_avx2(w, packed_input + std::size_t(b) * words, words);
            dots[std::size_t(b) * std::size_t(rows.rows) + std::size_t(r)] = float(rows.columns - 2 * int(d));
        }
    }
}

}  // namespace lenet::kernels
