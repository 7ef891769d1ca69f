// Small AVX2 helpers shared by kernels compiled with -mavx2 (include only from *_avx2.cpp / avx2.cpp).
#pragma once
#include <immintrin.h>

#include <cstddef>

namespace lenet::kernels {

// Transposes an 8x8 block of floats held as 8 row vectors, in place.
inline void transpose_8x8(__m256 r[8]) {
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const __m256 s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
    const __m256 s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
    const __m256 s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
    const __m256 s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
    const __m256 s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
    const __m256 s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
    const __m256 s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
    const __m256 s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
    r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
    r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
    r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
    r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
    r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

// dst[p * dst_stride + i] = src[i * src_stride + p] for 8 rows i and n columns p: eight CHW
// channel rows into n channels-last pixels (or any 8 x n block turned on its side).
inline void transpose_8xn(const float* src, std::size_t src_stride, int n, float* dst, std::size_t dst_stride) {
    int p = 0;
    for (; p + 8 <= n; p += 8) {
        __m256 r[8];
        for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + i * src_stride + p);
        transpose_8x8(r);
        for (int i = 0; i < 8; ++i) _mm256_storeu_ps(dst + std::size_t(p + i) * dst_stride, r[i]);
    }
    for (; p < n; ++p)
        for (int i = 0; i < 8; ++i) dst[std::size_t(p) * dst_stride + i] = src[i * src_stride + p];
}

// The way back: dst[i * dst_stride + p] = src[p * src_stride + i] for n pixels p and 8 channels i.
inline void transpose_nx8(const float* src, std::size_t src_stride, int n, float* dst, std::size_t dst_stride) {
    int p = 0;
    for (; p + 8 <= n; p += 8) {
        __m256 r[8];
        for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + std::size_t(p + i) * src_stride);
        transpose_8x8(r);
        for (int i = 0; i < 8; ++i) _mm256_storeu_ps(dst + i * dst_stride + p, r[i]);
    }
    for (; p < n; ++p)
        for (int i = 0; i < 8; ++i) dst[i * dst_stride + p] = src[std::size_t(p) * src_stride + i];
}

}  // namespace lenet::kernels
