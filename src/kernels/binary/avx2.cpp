// AVX2 XNOR kernels.
//
// Convolution: a table lookup per 4 bits instead of XOR + popcount. For each pixel and each 8
// channels (one "step") the image is expanded into 32 bytes: for the channels' low nibble x, the
// 16-byte table T(x)[w] = popcount(w XOR x), and the same for the high nibble (one load from a
// 256-entry LUT indexed by the 8 signs). The filters are stored as nibbles, 16 filters per 128-bit
// lane (PackedFilters::nibbles). One vpshufb of a pixel's table by a vector of filter nibbles yields
// 32 disagreement counts, 16 filters x 8 channels: 128 bit-products for a shuffle and a byte add,
// where XOR + nibble-LUT popcount costs ~8 vector ops per 256. Zen's two shuffle ports bound it at
// 256 bit-products per cycle.
//
// Register tile: 2 x 16 filters by 6 output positions, 12 byte accumulators + 2 filter vectors + a
// table + a temporary: all 16 ymm registers. A step is 8 loads, 12 shuffles and 12 adds (~6 cycles
// on the two shuffle ports, the 6-wide dispatch nearly full); 2 x 5 measured ~3% slower. Each byte gains at most 4
// per step, so the accumulators are widened to 16-bit sums every 63 steps.
//
// Taps of a window in the padding read an all-zero table (no disagreement) and are left out of the
// count n, so border outputs are exact; missing channels are 0 in both the table index and the
// filter nibble. The tables are kept for the few image rows the current tile reaches (a ring in
// the per-thread workspace, written just before it is read, so it stays in L2).
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

// Bits s(x[i]) for 8 floats.
inline unsigned signs8(const float* x) {
    return unsigned(_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x), _mm256_setzero_ps(), _CMP_GE_OQ)));
}

int steps_of(const ConvGeometry& g) { return (g.channels + 7) / 8; }
std::size_t pixels_of(const ConvGeometry& g) { return std::size_t(g.height) * std::size_t(g.width); }

// Adds to wide the byte sums of steps [k_begin, k_end) (at most kMaxRun; step k is step k % steps
// of tap k / steps) for a tile of FV x 16 filters by kP positions: w is the tile's first filter
// group (groups group_stride blocks apart), pixels[t * kP + i] position i's table at tap t. The
// first run overwrites wide. Not inlined: inside a larger function GCC spills the accumulators.
template <int FV>
[[gnu::noinline]] void count_run(const Block32* w, std::size_t group_stride, const Block32* const* pixels, int steps,
                                 int k_begin, int k_end, bool first, __m256i* wide) {
    const __m256i zero = _mm256_setzero_si256();
    __m256i acc[FV][kP];
    for (int f = 0; f < FV; ++f)
        for (int i = 0; i < kP; ++i) acc[f][i] = zero;
    for (int t = k_begin / steps; t * steps < k_end; ++t) {
        const int s_begin = std::max(0, k_begin - t * steps), s_end = std::min(steps, k_end - t * steps);
        const Block32* px[kP];
        for (int i = 0; i < kP; ++i) px[i] = pixels[t * kP + i] + s_begin;
        const Block32* wt = w + std::size_t(t) * std::size_t(steps) + s_begin;
#pragma GCC unroll 2
        for (int s = 0; s < s_end - s_begin; ++s) {
            __m256i nib[FV];
            for (int f = 0; f < FV; ++f)
                nib[f] = _mm256_load_si256(reinterpret_cast<const __m256i*>(wt + std::size_t(f) * group_stride + s));
            for (int i = 0; i < kP; ++i) {
                __m256i table = _mm256_load_si256(reinterpret_cast<const __m256i*>(px[i] + s));
                // Keeps GCC from loading the table again for each filter vector (one load, FV shuffles).
                __asm__("" : "+x"(table));
                for (int f = 0; f < FV; ++f) acc[f][i] = _mm256_add_epi8(acc[f][i], _mm256_shuffle_epi8(table, nib[f]));
            }
        }
    }
    for (int f = 0; f < FV; ++f)
        for (int i = 0; i < kP; ++i) {
            __m256i* sum = wide + 2 * (f * kP + i);
            const __m256i lo = _mm256_unpacklo_epi8(acc[f][i], zero), hi = _mm256_unpackhi_epi8(acc[f][i], zero);
            sum[0] = first ? lo : _mm256_add_epi16(sum[0], lo);
            sum[1] = first ? hi : _mm256_add_epi16(sum[1], hi);
        }
}

// The disagreement counts of the tile: d[i * FV * 16 + f] for position i and filter f; wide:
// 2 * FV * kP vectors of scratch for the 16-bit sums.
template <int FV>
void count_tile(const Block32* w, std::size_t group_stride, const Block32* const* pixels, int taps, int steps,
                __m256i* wide, std::uint16_t* d) {
    for (int k = 0; k < taps * steps; k += kMaxRun)
        count_run<FV>(w, group_stride, pixels, steps, k, std::min(taps * steps, k + kMaxRun), k == 0, wide);
    // sum[0] = [filters 0-7, low nibbles | filters 0-7, high nibbles], sum[1] the same for 8-15.
    for (int f = 0; f < FV; ++f)
        for (int i = 0; i < kP; ++i) {
            const __m256i* sum = wide + 2 * (f * kP + i);
            const __m256i total = _mm256_add_epi16(_mm256_permute2x128_si256(sum[0], sum[1], 0x20),
                                                   _mm256_permute2x128_si256(sum[0], sum[1], 0x31));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + (i * FV + f) * 16), total);
        }
}

// 8x8 float transpose: rows r[0..7] become columns.
inline void transpose_8x8_ps(__m256 r[8]) {
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
    r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
    r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
    r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
    r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

// Writes dots[f * spatial + i] = n[i] - 2 * d[i * stride + f] for f < filters (<= 8), i < np (<= kP).
inline void write_8_filters(const std::uint16_t* d, int stride, const int* n, int np, int filters, float* dots,
                            std::size_t spatial) {
    static_assert(kP <= 8);
    __m256 rows[8];
    for (int i = 0; i < 8; ++i) {
        if (i >= kP) {
            rows[i] = _mm256_setzero_ps();
            continue;
        }
        const __m256i count = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(d + i * stride)));
        rows[i] = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_set1_epi32(n[i]), _mm256_add_epi32(count, count)));
    }
    transpose_8x8_ps(rows);
    if (np == kP) {
        for (int f = 0; f < filters; ++f) {
            float* out = dots + std::size_t(f) * spatial;
            if constexpr (kP == 8) {
                _mm256_storeu_ps(out, rows[f]);
            } else {
                static_assert(kP > 4, "add the store for this tile width");
                _mm_storeu_ps(out, _mm256_castps256_ps128(rows[f]));
                const __m128 rest = _mm256_extractf128_ps(rows[f], 1);
                if constexpr (kP == 5) _mm_store_ss(out + 4, rest);
                if constexpr (kP == 6) _mm_storel_pi(reinterpret_cast<__m64*>(out + 4), rest);
                if constexpr (kP == 7) {
                    _mm_storel_pi(reinterpret_cast<__m64*>(out + 4), rest);
                    _mm_store_ss(out + 6, _mm_movehl_ps(rest, rest));
                }
            }
        }
        return;
    }
    alignas(32) float row[8];
    for (int f = 0; f < filters; ++f) {
        _mm256_store_ps(row, rows[f]);
        std::copy(row, row + np, dots + std::size_t(f) * spatial);
    }
}

}  // namespace

bool xnor_conv_avx2_covers(const ConvGeometry& g) {
    // Per filter and position, d <= taps * steps * 8 must fit the 16-bit sums.
    return std::size_t(g.size) * std::size_t(g.size) * std::size_t(steps_of(g)) * 8 <= 65535;
}

namespace {

// Input rows a tile of kP consecutive positions can reach at once: the tables are kept for that
// many rows only (a ring, row y in slot y % rows), which stays in L2 while it is written and read.
int ring_rows(const ConvGeometry& g) {
    const int out_w = std::max(1, g.out_w());
    return std::max(1, std::min(g.height, g.stride * ((kP - 1 + out_w - 1) / out_w) + g.size));
}

// Writes the tables of image row y to row (steps blocks per pixel).
void build_row(const ConvGeometry& g, const float* image, int y, Block32* row) {
    const std::size_t pixels = pixels_of(g), steps = std::size_t(steps_of(g));
    const float* line = image + std::size_t(y) * std::size_t(g.width);
    const auto* lut_bytes = reinterpret_cast<const char*>(kTableLut.data());
    auto group = [&](int x, std::size_t s) {  // pixels x..x+7, channels 8s..8s+7
        {
            // Lane j: pixel j's table offset in the LUT, sizeof(Block32) * (its 8 signs, bit ci = channel 8s + ci).
            const float* first = line + s * 8 * pixels + std::size_t(x);
            auto sign_offsets = [&](int ci) {
                const __m256 ge = _mm256_cmp_ps(_mm256_loadu_ps(first + std::size_t(ci) * pixels), _mm256_setzero_ps(), _CMP_GE_OQ);
                return _mm256_and_si256(_mm256_castps_si256(ge), _mm256_set1_epi32(int(sizeof(Block32)) << ci));
            };
            const int channels = std::min(8, g.channels - int(s) * 8);
            // Too many planes for the hardware prefetcher: fetch the next row's floats (each line
            // once), a row of tiles ahead of their use.
            if (x % 16 == 0 && y + 1 < g.height)
                for (int ci = 0; ci < channels; ++ci)
                    _mm_prefetch(reinterpret_cast<const char*>(first + std::size_t(ci) * pixels + std::size_t(g.width)),
                                 _MM_HINT_T0);
            __m256i offsets = sign_offsets(0);
            if (channels == 8) {
                for (int ci = 1; ci < 8; ++ci) offsets = _mm256_or_si256(offsets, sign_offsets(ci));
            } else {
                for (int ci = 1; ci < channels; ++ci) offsets = _mm256_or_si256(offsets, sign_offsets(ci));
            }
            // Through general registers, not a store and 32-bit reloads (which would not forward).
            const __m128i low = _mm256_castsi256_si128(offsets), high = _mm256_extracti128_si256(offsets, 1);
            const std::uint64_t pairs[4] = {std::uint64_t(_mm_cvtsi128_si64(low)), std::uint64_t(_mm_extract_epi64(low, 1)),
                                            std::uint64_t(_mm_cvtsi128_si64(high)), std::uint64_t(_mm_extract_epi64(high, 1))};
            for (int j = 0; j < 8; ++j) {
                const std::uint32_t offset = std::uint32_t(pairs[j / 2] >> (32 * (j % 2)));
                _mm256_store_si256(reinterpret_cast<__m256i*>(row + std::size_t(x + j) * steps + s),
                                   _mm256_load_si256(reinterpret_cast<const __m256i*>(lut_bytes + offset)));
            }
        }
    };
    if (g.width >= 8) {
        // Along the rows of 8 planes at a time, for the hardware prefetcher.
        for (std::size_t s = 0; s < steps; ++s) {
            for (int x = 0; x + 8 <= g.width; x += 8) group(x, s);
            if (g.width % 8) group(g.width - 8, s);  // overlaps the previous group, rewriting the same tables
        }
        return;
    }
    for (int x = 0; x < g.width; ++x)
        for (std::size_t s = 0; s < steps; ++s) {
            unsigned byte = 0;
            for (int ci = 0; ci < 8; ++ci) {
                const int c = int(s) * 8 + ci;
                if (c < g.channels && line[std::size_t(c) * pixels + std::size_t(x)] >= 0.0f) byte |= 1u << ci;
            }
            row[std::size_t(x) * steps + s] = kTableLut[byte];
        }
}

}  // namespace

std::size_t xnor_conv_workspace_bytes_avx2(const ConvGeometry& g) {
    // The ring of table rows, one all-zero pixel for taps in the padding, the tile's tap pointers,
    // each image row's place in the ring, and 64 bytes to align the start.
    const std::size_t steps = std::size_t(steps_of(g));
    return (std::size_t(ring_rows(g)) * std::size_t(g.width) + 1) * steps * sizeof(Block32) +
           (std::size_t(g.size) * std::size_t(g.size) * kP + std::size_t(g.height)) * sizeof(const Block32*) + 64;
}

void xnor_conv_positions_avx2(const ConvGeometry& g, const PackedFilters& filters, const float* image, float* dots,
                              void* workspace, int first_position, int last_position) {
    const int steps = steps_of(g), taps = g.size * g.size, out_w = g.out_w(), rows = ring_rows(g);
    const std::size_t spatial = std::size_t(g.out_h()) * std::size_t(out_w);
    const std::size_t row_blocks = std::size_t(g.width) * std::size_t(steps);
    auto* ring = static_cast<Block32*>(align64(workspace));
    Block32* zero_pixel = ring + std::size_t(rows) * row_blocks;
    std::fill(zero_pixel, zero_pixel + steps, Block32{});
    auto** pointers = reinterpret_cast<const Block32**>(zero_pixel + steps);
    const Block32** row_of = pointers + std::size_t(taps) * kP;  // image row y's tables (while in the ring)
    const std::size_t group_stride = std::size_t(taps) * std::size_t(steps);
    alignas(32) std::uint16_t d[kFv * 16 * kP];
    __m256i wide[2 * kFv * kP];
    int n[kP];
    int built = -1;  // image rows [.., built) are in the ring
    int oy = first_position / out_w, ox = first_position % out_w;  // of the next position
    for (int p0 = first_position; p0 < last_position; p0 += kP) {
        const int np = std::min(kP, last_position - p0);
        // The image rows this tile's windows reach, written just before they are read.
        const int first_row = std::max(0, (p0 / out_w) * g.stride - g.pad);
        const int last_row = std::min(g.height, ((p0 + np - 1) / out_w) * g.stride - g.pad + g.size);
        for (int y = std::max(built, first_row); y < last_row; ++y) {
            Block32* slot = ring + std::size_t(y % rows) * row_blocks;
            build_row(g, image, y, slot);
            row_of[y] = slot;
        }
        built = std::max(built, last_row);
        // Positions past the range read zero tables; their sums are not written.
        for (int i = 0; i < kP; ++i) {
            const Block32** tap = pointers + i;  // tap t at tap[t * kP]
            if (i >= np) {
                for (int t = 0; t < taps; ++t) tap[t * kP] = zero_pixel;
                continue;
            }
            const int y0 = oy * g.stride - g.pad, x0 = ox * g.stride - g.pad;
            const int ky_lo = std::max(0, -y0), ky_hi = std::min(g.size, g.height - y0);
            const int kx_lo = std::max(0, -x0), kx_hi = std::min(g.size, g.width - x0);
            n[i] = g.channels * std::max(0, ky_hi - ky_lo) * std::max(0, kx_hi - kx_lo);
            for (int ky = 0; ky < g.size; ++ky) {
                const bool row_inside = ky >= ky_lo && ky < ky_hi;
                const Block32* row = row_inside ? row_of[y0 + ky] : nullptr;
                for (int kx = 0; kx < g.size; ++kx)
                    tap[(ky * g.size + kx) * kP] =
                        row_inside && kx >= kx_lo && kx < kx_hi ? row + std::ptrdiff_t(x0 + kx) * steps : zero_pixel;
            }
            if (++ox == out_w) ox = 0, ++oy;
        }
        for (int g0 = 0; g0 < filters.groups; g0 += kFv) {
            const int fv = std::min(kFv, filters.groups - g0);
            const Block32* w = filters.nibbles.data() + std::size_t(g0) * group_stride;
            if (fv == 2)
                count_tile<2>(w, group_stride, pointers, taps, steps, wide, d);
            else
                count_tile<1>(w, group_stride, pointers, taps, steps, wide, d);
            for (int f = g0 * 16; f < std::min(filters.filters, (g0 + fv) * 16); f += 8)
                write_8_filters(d + (f - g0 * 16), fv * 16, n, np, std::min(8, filters.filters - f),
                                dots + std::size_t(f) * spatial + std::size_t(p0), spatial);
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
