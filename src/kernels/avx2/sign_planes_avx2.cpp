// AVX2 kernels of sign planes (ops/sign_planes.h): 32 bytes (32 positions x 8 channels) a vector.
// Pooling ORs bytes (an AND channel is flipped before and after); row ends go byte by byte.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/avx2/avx2.h"

namespace lenet::kernels {

namespace {

inline __m256i load32(const std::uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
inline void store32(std::uint8_t* p, __m256i v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }

}  // namespace

void maxpool_signs_2x2s2_avx2(const PoolGeometry& g, const std::uint8_t* and_bits, const std::uint8_t* in,
                              std::uint8_t* out) {
    const int oh = g.out_h(), ow = g.out_w();
    const __m256i even = _mm256_set1_epi16(0x00FF);
    for (int c = 0; c < g.channels; ++c) {
        const std::uint8_t flip = and_bits ? and_bits[c] : 0;
        const __m256i flips = _mm256_set1_epi8(char(flip));
        const std::uint8_t* plane = in + std::size_t(c) * std::size_t(g.height) * std::size_t(g.width);
        std::uint8_t* dst = out + std::size_t(c) * std::size_t(oh) * std::size_t(ow);
        for (int oy = 0; oy < oh; ++oy) {
            const std::uint8_t* r0 = plane + std::size_t(2 * oy) * std::size_t(g.width);
            const std::uint8_t* r1 = 2 * oy + 1 < g.height ? r0 + g.width : r0;  // a last odd row pools alone
            std::uint8_t* o = dst + std::size_t(oy) * std::size_t(ow);
            int ox = 0;
            for (; 2 * ox + 64 <= g.width && ox + 32 <= ow; ox += 32) {
                const __m256i a = _mm256_or_si256(_mm256_xor_si256(load32(r0 + 2 * ox), flips),
                                                  _mm256_xor_si256(load32(r1 + 2 * ox), flips));
                const __m256i b = _mm256_or_si256(_mm256_xor_si256(load32(r0 + 2 * ox + 32), flips),
                                                  _mm256_xor_si256(load32(r1 + 2 * ox + 32), flips));
                // Each pair's OR in its even byte, then the even bytes packed in order.
                const __m256i pa = _mm256_and_si256(_mm256_or_si256(a, _mm256_srli_epi16(a, 8)), even);
                const __m256i pb = _mm256_and_si256(_mm256_or_si256(b, _mm256_srli_epi16(b, 8)), even);
                const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi16(pa, pb), 0xD8);
                store32(o + ox, _mm256_xor_si256(packed, flips));
            }
            for (; ox < ow; ++ox) {
                const int x = 2 * ox;
                unsigned bits = unsigned(r0[x] ^ flip) | unsigned(r1[x] ^ flip);
                if (x + 1 < g.width) bits |= unsigned(r0[x + 1] ^ flip) | unsigned(r1[x + 1] ^ flip);
                o[ox] = std::uint8_t(bits ^ flip);
            }
        }
    }
}

void maxpool_signs_2x2s1_avx2(const PoolGeometry& g, const std::uint8_t* and_bits, const std::uint8_t* in,
                              std::uint8_t* out) {
    const int oh = g.out_h(), ow = g.out_w();
    for (int c = 0; c < g.channels; ++c) {
        const std::uint8_t flip = and_bits ? and_bits[c] : 0;
        const __m256i flips = _mm256_set1_epi8(char(flip));
        const std::uint8_t* plane = in + std::size_t(c) * std::size_t(g.height) * std::size_t(g.width);
        std::uint8_t* dst = out + std::size_t(c) * std::size_t(oh) * std::size_t(ow);
        for (int oy = 0; oy < oh; ++oy) {
            const std::uint8_t* r0 = plane + std::size_t(oy) * std::size_t(g.width);
            const std::uint8_t* r1 = oy + 1 < g.height ? r0 + g.width : r0;
            std::uint8_t* o = dst + std::size_t(oy) * std::size_t(ow);
            int x = 0;
            for (; x + 33 <= g.width && x + 32 <= ow; x += 32) {
                const __m256i a = _mm256_or_si256(_mm256_xor_si256(load32(r0 + x), flips),
                                                  _mm256_xor_si256(load32(r1 + x), flips));
                const __m256i b = _mm256_or_si256(_mm256_xor_si256(load32(r0 + x + 1), flips),
                                                  _mm256_xor_si256(load32(r1 + x + 1), flips));
                store32(o + x, _mm256_xor_si256(_mm256_or_si256(a, b), flips));
            }
            for (; x < ow; ++x) {
                unsigned bits = unsigned(r0[x] ^ flip) | unsigned(r1[x] ^ flip);
                if (x + 1 < g.width) bits |= unsigned(r0[x + 1] ^ flip) | unsigned(r1[x + 1] ^ flip);
                o[x] = std::uint8_t(bits ^ flip);
            }
        }
    }
}

void upsample_signs_2x_avx2(const UpsampleGeometry& g, std::size_t planes, const std::uint8_t* in, std::uint8_t* out) {
    const int ow = g.out_w();
    for (std::size_t p = 0; p < planes; ++p) {
        const std::uint8_t* src = in + p * std::size_t(g.height) * std::size_t(g.width);
        std::uint8_t* dst = out + p * std::size_t(g.out_h()) * std::size_t(ow);
        for (int y = 0; y < g.height; ++y) {
            const std::uint8_t* line = src + std::size_t(y) * std::size_t(g.width);
            std::uint8_t* o = dst + std::size_t(2 * y) * std::size_t(ow);
            int x = 0;
            for (; x + 16 <= g.width; x += 16) {
                const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(line + x));
                const __m256i both = _mm256_set_m128i(_mm_unpackhi_epi8(b, b), _mm_unpacklo_epi8(b, b));
                store32(o + 2 * x, both);
                store32(o + ow + 2 * x, both);
            }
            for (; x < g.width; ++x) o[2 * x] = o[2 * x + 1] = o[ow + 2 * x] = o[ow + 2 * x + 1] = line[x];
        }
    }
}

}  // namespace lenet::kernels
