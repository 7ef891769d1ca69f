// AVX2 XNOR kernels.
//
// Convolution: a table lookup per 4 bits instead of XOR + popcount, with the roles chosen so that
// nothing is built per image but byte planes and the counts come out along output rows.
//
// The image is packed into byte planes of sign nibbles: for each step of 8 channels, a plane of the
// low nibbles (channels 8s..8s+3) and one of the high nibbles, one byte per padded pixel, padding
// 0x80 (vpshufb returns 0 for it: padded taps count nothing and are left out of n). A stride S is
// split into S x S phase planes (pixel (y, x) in plane (y % S, x % S) at (y / S, x / S)), so that
// for every tap the inputs of consecutive output positions are consecutive bytes. Output positions
// run over "virtual" rows as wide as a plane row (Wq >= out_w; the extra lanes are thrown away), so
// one 32-byte load gives tap t's input nibbles for 32 positions at once, across row ends.
//
// The filters are 16-byte tables T(w)[x] = popcount(w XOR x), one per filter nibble w, made by
// pack_filters. A vpshufb of a (broadcast) table by a vector of input nibbles gives 32 positions'
// disagreement counts for 4 channels of one filter: 128 bit-products per shuffle and byte add.
//
// Register tile: 4 filters x 2 vectors of 32 positions: 8 byte accumulators, 4 input vectors (low
// and high planes) and the tables. A step (8 channels) is 4 + 8 loads, 16 shuffles and 16 adds.
// Each byte gains at most 8 per step, so the accumulators are widened to 16-bit sums every 31
// steps. The outputs are written per filter, 8 positions at a time: the lanes of a virtual row's
// end are squeezed out by a permute.
//
// Quads are the outer loop: a quad's tables (18 KB at 128 channels) stay in L1 while the tiles
// pass, and its 4 output rows are written in order. Measured and dropped: tiles outside quads
// (all tables streamed per tile), a quad's steps in L1-sized chunks over all tiles, one plane copy
// per tap column (no lanes thrown away, but 3x the bytes per tile: ~20% slower), packing rows
// while the first quad passes, pre-broadcast 32-byte tables.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/avx2/avx2.h"
#include "kernels/binary/xnor.h"

namespace lenet::kernels {

namespace {

constexpr int kF = 4;        // filters per register tile (a quad of PackedFilters::tables)
constexpr int kPv = 2;       // vectors of 32 positions per register tile
constexpr int kTile = 32 * kPv;
constexpr int kMaxRun = 31;  // steps a byte accumulator takes before it could pass 255 (8 per step)
constexpr std::uint8_t kPadNibble = 0x80;

inline std::size_t round64(std::size_t n) { return (n + 63) & ~std::size_t(63); }

// All-ones lanes where s(x) = +1: x >= 0 or x > 0 (ordered: NaN is -1, as in sign_bit_of).
template <ZeroSign Zero>
inline __m256 positive8(__m256 x) {
    if constexpr (Zero == ZeroSign::positive) return _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ);
    else return _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GT_OQ);
}

// Bits s(x[i]) for 8 floats.
template <ZeroSign Zero>
inline unsigned signs8(const float* x) {
    return unsigned(_mm256_movemask_ps(positive8<Zero>(_mm256_loadu_ps(x))));
}

int steps_of(const ConvGeometry& g) { return (g.channels + 7) / 8; }

// The plane geometry: S x S phases of hq x wq bytes, each plane `len` bytes (room for the reads
// of the last tile past the end).
struct Planes {
    int s, hq, wq;
    std::size_t len;
    std::size_t phase_bytes(int steps) const { return std::size_t(steps) * 2 * len; }
};
Planes planes_of(const ConvGeometry& g) {
    Planes p;
    p.s = g.stride;
    p.hq = (g.height + 2 * g.pad + g.stride - 1) / g.stride;
    p.wq = (g.width + 2 * g.pad + g.stride - 1) / g.stride;
    // At stride 1 a row's right padding can be the next row's left padding (all 0x80): rows
    // W + pad wide (no narrower than the outputs), one lane fewer thrown away per output row.
    if (g.stride == 1) p.wq = std::max(g.width + g.pad, g.out_w());
    // A read reaches at most out_h * wq + kTile (the last tile) + the tap's offset, which is at most
    // (hq - out_h + 1) * wq.
    p.len = round64(std::size_t(p.hq + 1) * std::size_t(p.wq) + kTile + 32);
    // An odd number of cache lines: the steps' planes (2 * len apart) then fall in different L1
    // sets; at 1024 bytes (256 channels at 28x28) they would all share a few and take 30% longer.
    if (p.len / 64 % 2 == 0) p.len += 64;
    return p;
}

// Per group of 8 virtual positions: the first valid lane's output index, how many lanes are valid,
// and the permute putting them first. (n, the bits counted per lane, is kept apart.)
struct GroupMeta {
    std::int32_t first;
    std::uint8_t count;
    bool contiguous;  // all 8 lanes valid and in order
    std::uint8_t perm[8];
};

std::size_t max_groups(const ConvGeometry& g) {
    const Planes p = planes_of(g);
    return (std::size_t(std::max(g.out_h(), 1)) * std::size_t(p.wq) + 7) / 8 + 4 * kPv + 1;
}
constexpr std::size_t kTileSums = 2 * kF * kPv;  // 16-bit sums of a tile

// The 16-bit disagreement sums of a tile of kF filters by 32 * PV positions from `planes` into
// wide (2 per filter and vector): w the quad's tables, offsets[t] tap t's place in the planes.
// Byte sums are widened every kMaxRun steps, across taps. Not inlined: inside a larger function
// GCC spills the accumulators.
template <int PV>
[[gnu::noinline]] void count_tile(const Block16* w, const std::uint8_t* planes, const std::ptrdiff_t* offsets,
                                  std::size_t len, int steps, int taps, __m256i* wide) {
    const __m256i zero = _mm256_setzero_si256();
    bool first = true;
    int t = 0, s0 = 0;  // the next step: step s0 of tap t
    while (t < taps) {
        __m256i acc[kF][PV];
        for (int f = 0; f < kF; ++f)
            for (int i = 0; i < PV; ++i) acc[f][i] = zero;
        for (int left = kMaxRun; left > 0 && t < taps;) {
            const int run = std::min(steps - s0, left);
            const std::uint8_t* x = planes + offsets[t] + std::size_t(s0) * 2 * len;
            const Block16* wt = w + (std::size_t(t) * std::size_t(steps) + std::size_t(s0)) * (2 * kF);
            for (int s = 0; s < run; ++s, x += 2 * len, wt += 2 * kF) {
                __m256i lo[PV], hi[PV];
                for (int i = 0; i < PV; ++i) {
                    lo[i] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 32 * i));
                    hi[i] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + len + 32 * i));
                }
                for (int f = 0; f < kF; ++f) {
                    const __m256i tl = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(wt + 2 * f)));
                    const __m256i th = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(wt + 2 * f + 1)));
                    for (int i = 0; i < PV; ++i)
                        acc[f][i] = _mm256_add_epi8(_mm256_add_epi8(acc[f][i], _mm256_shuffle_epi8(tl, lo[i])),
                                                    _mm256_shuffle_epi8(th, hi[i]));
                }
            }
            left -= run;
            s0 += run;
            if (s0 == steps) s0 = 0, ++t;
        }
        for (int f = 0; f < kF; ++f)
            for (int i = 0; i < PV; ++i) {
                __m256i* sum = wide + 2 * (f * PV + i);
                const __m256i a = _mm256_unpacklo_epi8(acc[f][i], zero), b = _mm256_unpackhi_epi8(acc[f][i], zero);
                sum[0] = first ? a : _mm256_add_epi16(sum[0], a);
                sum[1] = first ? b : _mm256_add_epi16(sum[1], b);
            }
        first = false;
    }
}

// Writes 8 positions of one filter: d the disagreement counts of the group's lanes.
inline void write_group(const GroupMeta& m, const std::int32_t* n, __m256i d, float* row, int last_position) {
    __m256 dots = _mm256_cvtepi32_ps(
        _mm256_sub_epi32(_mm256_load_si256(reinterpret_cast<const __m256i*>(n)), _mm256_add_epi32(d, d)));
    if (m.contiguous && m.first + 8 <= last_position) return _mm256_storeu_ps(row + m.first, dots);
    if (m.count == 0) return;
    dots = _mm256_permutevar8x32_ps(dots, _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(m.perm))));
    // The lanes past the valid ones are rewritten by later groups, unless they are past the range.
    if (m.first + 8 <= last_position) return _mm256_storeu_ps(row + m.first, dots);
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, dots);
    std::copy(lanes, lanes + m.count, row + m.first);
}

}  // namespace

bool xnor_conv_avx2_covers(const ConvGeometry& g) {
    // Per filter and position, d <= taps * steps * 8 must fit the 16-bit sums.
    return std::size_t(g.size) * std::size_t(g.size) * std::size_t(steps_of(g)) * 8 <= 65535;
}

std::size_t xnor_conv_planes_bytes_avx2(const ConvGeometry& g) {
    const Planes p = planes_of(g);
    return std::size_t(p.s) * std::size_t(p.s) * p.phase_bytes(steps_of(g));
}

std::size_t xnor_conv_scratch_bytes_avx2(const ConvGeometry& g) {
    return round64(max_groups(g) * (sizeof(GroupMeta) + 8 * sizeof(std::int32_t)) +
                   std::size_t(g.size) * std::size_t(g.size) * sizeof(std::ptrdiff_t));
}

namespace {

template <ZeroSign Zero>
void pack_planes(const ConvGeometry& g, const float* image, std::uint8_t* planes, int first_step, int last_step) {
    const Planes p = planes_of(g);
    const int steps = steps_of(g);
    const std::size_t pixels = std::size_t(g.height) * std::size_t(g.width);
    // Plane of (phase, step, half).
    auto plane = [&](int ry, int rx, int s, int h) {
        return planes + std::size_t(ry * p.s + rx) * p.phase_bytes(steps) + (std::size_t(s) * 2 + std::size_t(h)) * p.len;
    };
    for (int ry = 0; ry < p.s; ++ry)
        for (int rx = 0; rx < p.s; ++rx)
            std::memset(plane(ry, rx, first_step, 0), kPadNibble, std::size_t(last_step - first_step) * 2 * p.len);
    // Byte of (y, x) in its phase plane.
    auto place = [&](int y, int x) {
        const int yp = y + g.pad, xp = x + g.pad;
        return std::pair<std::size_t, std::size_t>(
            std::size_t((yp % p.s) * p.s + xp % p.s) * p.phase_bytes(steps),
            std::size_t(yp / p.s) * std::size_t(p.wq) + std::size_t(xp / p.s));
    };
    for (int s = first_step; s < last_step; ++s) {
        const int channels = std::min(8, g.channels - s * 8);
        const float* first = image + std::size_t(s) * 8 * pixels;
        const std::size_t lo_plane = std::size_t(s) * 2 * p.len, hi_plane = lo_plane + p.len;
        for (int y = 0; y < g.height; ++y) {
            const float* line = first + std::size_t(y) * std::size_t(g.width);
            auto eight = [&](int x) {  // pixels x..x+7
                __m256i bits = _mm256_setzero_si256();
                for (int ci = 0; ci < channels; ++ci) {
                    const __m256 ge =
                        positive8<Zero>(_mm256_loadu_ps(line + std::size_t(ci) * pixels + std::size_t(x)));
                    bits = _mm256_or_si256(bits, _mm256_and_si256(_mm256_castps_si256(ge), _mm256_set1_epi32(1 << ci)));
                }
                const __m256i lo = _mm256_and_si256(bits, _mm256_set1_epi32(15)), hi = _mm256_srli_epi32(bits, 4);
                // [lo 0-3, hi 0-3 | lo 4-7, hi 4-7] as bytes (twice per lane), then lo 0-7, hi 0-7.
                const __m256i words = _mm256_packus_epi32(lo, hi), bytes = _mm256_packus_epi16(words, words);
                const __m128i both = _mm256_castsi256_si128(
                    _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 0, 0, 0, 0)));
                const std::uint64_t lows = std::uint64_t(_mm_cvtsi128_si64(both)), highs = std::uint64_t(_mm_extract_epi64(both, 1));
                if (p.s == 1) {
                    const auto [phase, at] = place(y, x);
                    std::memcpy(planes + phase + lo_plane + at, &lows, 8);
                    std::memcpy(planes + phase + hi_plane + at, &highs, 8);
                    return;
                }
                for (int j = 0; j < 8; ++j) {
                    const auto [phase, at] = place(y, x + j);
                    planes[phase + lo_plane + at] = std::uint8_t(lows >> (8 * j));
                    planes[phase + hi_plane + at] = std::uint8_t(highs >> (8 * j));
                }
            };
            if (g.width >= 8) {
                for (int x = 0; x + 8 <= g.width; x += 8) eight(x);
                if (g.width % 8) eight(g.width - 8);  // overlaps the previous group, rewriting the same bytes
                continue;
            }
            for (int x = 0; x < g.width; ++x) {
                unsigned byte = 0;
                for (int ci = 0; ci < channels; ++ci)
                    if (sign_bit_of(line[std::size_t(ci) * pixels + std::size_t(x)], Zero)) byte |= 1u << ci;
                const auto [phase, at] = place(y, x);
                planes[phase + lo_plane + at] = std::uint8_t(byte & 15);
                planes[phase + hi_plane + at] = std::uint8_t(byte >> 4);
            }
        }
    }
}

template <ZeroSign Zero>
void pack_signs(const float* x, std::size_t n, BitWord* bits) {
    std::size_t w = 0;
    for (; (w + 1) * 64 <= n; ++w) {
        BitWord word = 0;
        for (int j = 0; j < 8; ++j) word |= BitWord(signs8<Zero>(x + w * 64 + std::size_t(j) * 8)) << (8 * j);
        bits[w] = word;
    }
    if (w * 64 < n) {
        BitWord word = 0;
        for (std::size_t i = w * 64; i < n; ++i) word |= BitWord(sign_bit_of(x[i], Zero)) << (i % 64);
        bits[w] = word;
    }
}

}  // namespace

void xnor_pack_planes_avx2(const ConvGeometry& g, const float* image, ZeroSign zero, std::uint8_t* planes,
                           int first_step, int last_step) {
    if (zero == ZeroSign::positive) return pack_planes<ZeroSign::positive>(g, image, planes, first_step, last_step);
    pack_planes<ZeroSign::negative>(g, image, planes, first_step, last_step);
}

namespace {

// The convolution of positions [first_position, last_position); write(q, v, pv, wide, meta, n)
// stores quad q's sums of the tile at vector v (pv vectors).
template <class Write>
void conv_planes(const ConvGeometry& g, const PackedFilters& filters, const std::uint8_t* planes, void* scratch,
                 int first_position, int last_position, int first_quad, int last_quad, Write write) {
    if (first_position >= last_position) return;
    const Planes p = planes_of(g);
    const int steps = steps_of(g), taps = g.size * g.size, out_w = g.out_w();
    auto* n = static_cast<std::int32_t*>(scratch);  // per lane of the groups
    auto* meta = reinterpret_cast<GroupMeta*>(n + 8 * max_groups(g));
    auto* offsets = reinterpret_cast<std::ptrdiff_t*>(meta + max_groups(g));
    for (int ky = 0; ky < g.size; ++ky)
        for (int kx = 0; kx < g.size; ++kx)
            offsets[ky * g.size + kx] = std::ptrdiff_t(((ky % p.s) * p.s + kx % p.s)) * std::ptrdiff_t(p.phase_bytes(steps)) +
                                        std::ptrdiff_t(ky / p.s) * p.wq + kx / p.s;
    // Virtual positions v = oy * wq + ox of the range, in groups of 8.
    const int v_begin = (first_position / out_w) * p.wq + first_position % out_w;
    const int v_end = ((last_position - 1) / out_w) * p.wq + (last_position - 1) % out_w + 1;
    const int vectors = (v_end - v_begin + 31) / 32;
    {
        int oy = v_begin / p.wq, ox = v_begin % p.wq;
        // Taps of a window inside the image along one axis.
        auto inside = [&](int start, int extent) {
            return std::max(0, std::min(g.size, extent - start) - std::max(0, -start));
        };
        int rows = inside(oy * g.stride - g.pad, g.height);
        for (int gi = 0; gi < vectors * 4; ++gi) {
            GroupMeta& m = meta[gi];
            m.count = 0;
            m.first = 0;
            for (int j = 0; j < 8; ++j) {
                const int v = v_begin + 8 * gi + j;
                n[8 * gi + j] = 0;
                m.perm[j] = 0;
                if (v < v_end && ox < out_w) {
                    n[8 * gi + j] = g.channels * rows * inside(ox * g.stride - g.pad, g.width);
                    if (m.count == 0) m.first = oy * out_w + ox;
                    m.perm[m.count++] = std::uint8_t(j);
                }
                if (++ox == p.wq) ox = 0, ++oy, rows = inside(oy * g.stride - g.pad, g.height);
            }
            m.contiguous = m.count == 8 && m.perm[7] == 7;
        }
    }
    const std::size_t quad_tables = std::size_t(taps) * std::size_t(steps) * 2 * kF;
    // Quads outside: a quad's tables stay in L1 (at 128 channels) while the tiles pass, and its 4
    // output rows are written in order.
    __m256i wide[kTileSums];
    for (int q = first_quad; q < std::min(last_quad, filters.quads); ++q) {
        const Block16* w = filters.tables.data() + std::size_t(q) * quad_tables;
        for (int v = 0; v < vectors; v += kPv) {
            const int pv = std::min(kPv, vectors - v);
            const std::uint8_t* x = planes + v_begin + 32 * v;
            if (pv == kPv)
                count_tile<kPv>(w, x, offsets, p.len, steps, taps, wide);
            else
                count_tile<1>(w, x, offsets, p.len, steps, taps, wide);
            write(q, v, pv, wide, meta, n);
        }
    }
}

// The 8 disagreement counts of group j (positions 8j..8j+7 of a vector) from its two 16-bit sums:
// sum[0] holds positions [0-7 | 16-23], sum[1] [8-15 | 24-31].
inline __m256i group_counts(const __m256i* sum, int j) {
    const __m256i s = sum[j & 1];
    return _mm256_cvtepu16_epi32(j < 2 ? _mm256_castsi256_si128(s) : _mm256_extracti128_si256(s, 1));
}

// kSpread[m]: byte j = bit j of m (8 positions' bits of one filter, one byte per position).
constexpr std::array<std::uint64_t, 256> make_spread() {
    std::array<std::uint64_t, 256> table{};
    for (unsigned m = 0; m < 256; ++m)
        for (unsigned j = 0; j < 8; ++j) table[m] |= std::uint64_t((m >> j) & 1) << (8 * j);
    return table;
}
constexpr std::array<std::uint64_t, 256> kSpread = make_spread();

// Stores 8 positions' bytes (lane j in byte j) of one sign plane: the valid lanes, in order; with
// merge, ORed into what the even quad wrote.
inline void write_group_signs(const GroupMeta& m, std::uint64_t bytes, std::uint8_t* plane, bool merge) {
    if (m.count == 0) return;
    if (m.contiguous) {
        if (merge) {
            std::uint64_t old;
            std::memcpy(&old, plane + m.first, 8);
            bytes |= old;
        }
        std::memcpy(plane + m.first, &bytes, 8);
        return;
    }
    for (int k = 0; k < m.count; ++k) {
        const auto b = std::uint8_t(bytes >> (8 * m.perm[k]));
        plane[m.first + k] = merge ? std::uint8_t(plane[m.first + k] | b) : b;
    }
}

}  // namespace

void xnor_conv_planes_avx2(const ConvGeometry& g, const PackedFilters& filters, const std::uint8_t* planes,
                           float* dots, void* scratch, int first_position, int last_position, int first_quad,
                           int last_quad) {
    const std::size_t spatial = std::size_t(g.out_h()) * std::size_t(g.out_w());
    conv_planes(g, filters, planes, scratch, first_position, last_position, first_quad, last_quad,
                [&](int q, int v, int pv, const __m256i* wide, const GroupMeta* meta, const std::int32_t* n) {
                    // wide[2 * (f * pv + i)] = positions [0-7 | 16-23] of vector i, the next [8-15 | 24-31].
                    for (int f = 0; f < std::min(kF, filters.filters - q * kF); ++f) {
                        float* row = dots + std::size_t(q * kF + f) * spatial;
                        for (int i = 0; i < pv; ++i) {
                            const __m256i* sum = wide + 2 * (f * pv + i);
                            const GroupMeta* m = meta + 4 * (v + i);
                            const std::int32_t* ni = n + 32 * (v + i);
                            for (int j = 0; j < 4; ++j)
                                write_group(m[j], ni + 8 * j, group_counts(sum, j), row, last_position);
                        }
                    }
                });
}

void xnor_conv_planes_signs_avx2(const ConvGeometry& g, const PackedFilters& filters, const std::uint8_t* planes,
                                 const SignThresholds& thresholds, std::uint8_t* out_planes, void* scratch,
                                 int first_position, int last_position, int first_quad, int last_quad) {
    const std::size_t spatial = std::size_t(g.out_h()) * std::size_t(g.out_w());
    conv_planes(g, filters, planes, scratch, first_position, last_position, first_quad, last_quad,
                [&](int q, int v, int pv, const __m256i* wide, const GroupMeta* meta, const std::int32_t* n) {
                    // Quad q is the low (even q) or high nibble of sign plane q / 2.
                    std::uint8_t* plane = out_planes + std::size_t(q / 2) * spatial;
                    const int valid = std::min(kF, filters.filters - q * kF);
                    for (int i = 0; i < pv; ++i) {
                        const GroupMeta* m = meta + 4 * (v + i);
                        const std::int32_t* ni = n + 32 * (v + i);
                        for (int j = 0; j < 4; ++j) {
                            if (m[j].count == 0) continue;
                            const __m256i lanes = _mm256_load_si256(reinterpret_cast<const __m256i*>(ni + 8 * j));
                            std::uint64_t bytes = 0;
                            for (int f = 0; f < valid; ++f) {
                                const int filter = q * kF + f;
                                const __m256i d = group_counts(wide + 2 * (f * pv + i), j);
                                const __m256i dot = _mm256_sub_epi32(lanes, _mm256_add_epi32(d, d));
                                const __m256i above = _mm256_cmpgt_epi32(dot, _mm256_set1_epi32(thresholds.above[filter]));
                                const unsigned mask = unsigned(_mm256_movemask_ps(_mm256_castsi256_ps(above))) ^
                                                      (thresholds.invert[filter] ? 0xFFu : 0u);
                                bytes |= kSpread[mask] << f;
                            }
                            write_group_signs(m[j], bytes << (4 * (q % 2)), plane, q % 2 == 1);
                        }
                    }
                });
}

void xnor_unpack_sign_planes_avx2(const ConvGeometry& g, const std::uint8_t* sign_planes, std::uint8_t* planes,
                                  int first_step, int last_step) {
    const Planes p = planes_of(g);
    const int steps = steps_of(g);
    const std::size_t pixels = std::size_t(g.height) * std::size_t(g.width);
    for (int ry = 0; ry < p.s; ++ry)
        for (int rx = 0; rx < p.s; ++rx)
            std::memset(planes + std::size_t(ry * p.s + rx) * p.phase_bytes(steps) + std::size_t(first_step) * 2 * p.len,
                        kPadNibble, std::size_t(last_step - first_step) * 2 * p.len);
    const __m256i low = _mm256_set1_epi8(0x0F);
    for (int s = first_step; s < last_step; ++s) {
        const std::uint8_t* source = sign_planes + std::size_t(s) * pixels;
        const std::size_t lo_plane = std::size_t(s) * 2 * p.len, hi_plane = lo_plane + p.len;
        for (int y = 0; y < g.height; ++y) {
            const std::uint8_t* line = source + std::size_t(y) * std::size_t(g.width);
            const int yp = y + g.pad;
            if (p.s == 1) {
                std::uint8_t* lo = planes + lo_plane + std::size_t(yp) * std::size_t(p.wq) + std::size_t(g.pad);
                std::uint8_t* hi = lo + p.len;
                int x = 0;
                for (; x + 32 <= g.width; x += 32) {
                    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(line + x));
                    _mm256_storeu_si256(reinterpret_cast<__m256i*>(lo + x), _mm256_and_si256(b, low));
                    _mm256_storeu_si256(reinterpret_cast<__m256i*>(hi + x), _mm256_and_si256(_mm256_srli_epi16(b, 4), low));
                }
                for (; x < g.width; ++x) {
                    lo[x] = std::uint8_t(line[x] & 15);
                    hi[x] = std::uint8_t(line[x] >> 4);
                }
                continue;
            }
            for (int x = 0; x < g.width; ++x) {
                const int xp = x + g.pad;
                std::uint8_t* at = planes + std::size_t((yp % p.s) * p.s + xp % p.s) * p.phase_bytes(steps) + lo_plane +
                                   std::size_t(yp / p.s) * std::size_t(p.wq) + std::size_t(xp / p.s);
                at[0] = std::uint8_t(line[x] & 15);
                at[hi_plane - lo_plane] = std::uint8_t(line[x] >> 4);
            }
        }
    }
}

void pack_signs_avx2(const float* x, std::size_t n, ZeroSign zero, BitWord* bits) {
    if (zero == ZeroSign::positive) return pack_signs<ZeroSign::positive>(x, n, bits);
    pack_signs<ZeroSign::negative>(x, n, bits);
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
