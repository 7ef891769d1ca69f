// Sums of scaled rows with AVX2, shared by the pooled weight-gradient kernels (include only from
// *_avx2.cpp files):
//   grad[0 .. valid) += sum over terms t of value_t * row_t[0 .. valid)
// where term(t, narrow, value, row) gives term t's value and row and returns false for a term that
// adds nothing. Rows are `width` floats (a multiple of 8), done in blocks of 8, 4, 2 and 1 vectors.
// A narrow block would leave the FMAs waiting on each other, so its terms are dealt round-robin to
// 8 / W sets of accumulators, added together at the end (`narrow` tells the term it is in one: a
// branch to skip a zero value costs more there than the FMAs it saves).
#pragma once
#include <immintrin.h>

#include <algorithm>

namespace lenet::kernels {

template <int W, class Term>
inline void accumulate_block(int terms, const Term& term, int offset, int valid, float* grad) {
    constexpr int kSets = W >= 8 ? 1 : 8 / W;
    __m256 acc[kSets][W];
#pragma GCC unroll 8
    for (int s = 0; s < kSets; ++s)
#pragma GCC unroll 8
        for (int w = 0; w < W; ++w) acc[s][w] = _mm256_setzero_ps();
    const auto add = [&](int t, int set) {
        float value;
        const float* row;
        if (!term(t, W < 4, value, row)) return;
        const __m256 g = _mm256_set1_ps(value);
        row += offset;
#pragma GCC unroll 8
        for (int w = 0; w < W; ++w) acc[set][w] = _mm256_fmadd_ps(g, _mm256_loadu_ps(row + 8 * w), acc[set][w]);
    };
    int t = 0;
    for (; t + kSets <= terms; t += kSets) {
#pragma GCC unroll 8
        for (int set = 0; set < kSets; ++set) add(t + set, set);
    }
    for (; t < terms; ++t) add(t, 0);
    for (int s = 1; s < kSets; ++s)
        for (int w = 0; w < W; ++w) acc[0][w] = _mm256_add_ps(acc[0][w], acc[s][w]);
    if (valid == 8 * W) {
        for (int w = 0; w < W; ++w)
            _mm256_storeu_ps(grad + 8 * w, _mm256_add_ps(_mm256_loadu_ps(grad + 8 * w), acc[0][w]));
        return;
    }
    alignas(32) float sums[8 * W];
    for (int w = 0; w < W; ++w) _mm256_store_ps(sums + 8 * w, acc[0][w]);
    for (int i = 0; i < valid; ++i) grad[i] += sums[i];
}

template <class Term>
inline void accumulate_rows(int terms, const Term& term, int width, int valid, float* grad) {
    for (int p = 0; p < width;) {
        const int vectors = (width - p) / 8, left = valid - p;
        if (vectors >= 8) {
            accumulate_block<8>(terms, term, p, std::min(left, 64), grad + p);
            p += 64;
        } else if (vectors >= 4) {
            accumulate_block<4>(terms, term, p, std::min(left, 32), grad + p);
            p += 32;
        } else if (vectors >= 2) {
            accumulate_block<2>(terms, term, p, std::min(left, 16), grad + p);
            p += 16;
        } else {
            accumulate_block<1>(terms, term, p, std::min(left, 8), grad + p);
            p += 8;
        }
    }
}

}  // namespace lenet::kernels
