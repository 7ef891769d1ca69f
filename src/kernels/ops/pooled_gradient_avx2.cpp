// Pooled weight gradient with AVX2. Step 1 turns columns [patch x spatial] into rows [spatial x
// width] (width = patch rounded up to 8, zero-padded) with 8x8 register transposes, so each term
// delta * columns[:, q] is whole vectors. Step 2 runs, per filter and per block of up to 8 vectors of
// the patch, over the pooled outputs: broadcast delta, FMA the winner's row into the accumulators.
// A narrow patch (LeNet's first layer: 9 -> 2 vectors) would leave the FMAs waiting on each other,
// so the outputs are dealt round-robin to 8 / W sets of accumulators, added together at the end.
#include <immintrin.h>

#include <algorithm>

#include "kernels/ops/pooled_gradient.h"
#include "kernels/transpose_avx2.h"

namespace lenet::kernels {
namespace {

// rows[q][p] = columns[p][q], rows `width` floats apart, p in [patch, width) zero.
void transpose_columns(const float* columns, int patch, int spatial, int width, float* rows) {
    for (int p0 = 0; p0 < width; p0 += 8) {
        const int valid = std::min(8, patch - p0);
        int q = 0;
        for (; q + 8 <= spatial; q += 8) {
            __m256 r[8];
            for (int i = 0; i < 8; ++i)
                r[i] = i < valid ? _mm256_loadu_ps(columns + std::size_t(p0 + i) * spatial + q) : _mm256_setzero_ps();
            transpose_8x8(r);
            for (int i = 0; i < 8; ++i) _mm256_storeu_ps(rows + std::size_t(q + i) * width + p0, r[i]);
        }
        for (; q < spatial; ++q)
            for (int i = 0; i < 8; ++i)
                rows[std::size_t(q) * width + p0 + i] = i < valid ? columns[std::size_t(p0 + i) * spatial + q] : 0.0f;
    }
}

// grad[0 .. count) += sum over the filter's pooled outputs of delta * row[winner][0 .. count), for
// W vectors (count <= 8 W) starting at `rows`, `width` floats per row.
template <int W>
void accumulate(const float* delta, const std::int32_t* argmax, int pooled, std::int32_t first, const float* rows,
                int width, int count, float* grad) {
    constexpr int kSets = W >= 8 ? 1 : 8 / W;
    __m256 acc[kSets][W];
#pragma GCC unroll 8
    for (int s = 0; s < kSets; ++s)
#pragma GCC unroll 8
        for (int w = 0; w < W; ++w) acc[s][w] = _mm256_setzero_ps();
    // One term into accumulator set `set` (a constant after unrolling, so the sets stay in registers).
    const auto term = [&](int o, int set) {
        // A zero delta (relu) adds nothing: skipping it pays when the term is long.
        if (argmax[o] < 0 || (W >= 4 && delta[o] == 0.0f)) return;
        const __m256 g = _mm256_set1_ps(delta[o]);
        const float* row = rows + std::size_t(argmax[o] - first) * width;
#pragma GCC unroll 8
        for (int w = 0; w < W; ++w) acc[set][w] = _mm256_fmadd_ps(g, _mm256_loadu_ps(row + 8 * w), acc[set][w]);
    };
    int o = 0;
    for (; o + kSets <= pooled; o += kSets) {
#pragma GCC unroll 8
        for (int set = 0; set < kSets; ++set) term(o + set, set);
    }
    for (; o < pooled; ++o) term(o, 0);
    for (int s = 1; s < kSets; ++s)
        for (int w = 0; w < W; ++w) acc[0][w] = _mm256_add_ps(acc[0][w], acc[s][w]);
    alignas(32) float sums[8 * W];
    for (int w = 0; w < W; ++w) _mm256_store_ps(sums + 8 * w, acc[0][w]);
    for (int i = 0; i < count; ++i) grad[i] += sums[i];
}

}  // namespace

void pooled_weight_gradient_avx2(const PooledGradientShape& s, const float* delta, const std::int32_t* argmax,
                                 const float* columns, float* grad, float* scratch) {
    const int width = (s.patch + 7) / 8 * 8;
    transpose_columns(columns, s.patch, s.spatial, width, scratch);
    for (int f = 0; f < s.filters; ++f) {
        const float* d = delta + std::size_t(f) * s.pooled;
        const std::int32_t* a = argmax + std::size_t(f) * s.pooled;
        const std::int32_t first = f * s.spatial;
        float* g = grad + std::size_t(f) * s.patch;
        // Blocks of 8 vectors, then 4, 2, 1.
        for (int p = 0; p < width;) {
            const int vectors = (width - p) / 8, left = s.patch - p;
            if (vectors >= 8) {
                accumulate<8>(d, a, s.pooled, first, scratch + p, width, std::min(left, 64), g + p);
                p += 64;
            } else if (vectors >= 4) {
                accumulate<4>(d, a, s.pooled, first, scratch + p, width, std::min(left, 32), g + p);
                p += 32;
            } else if (vectors >= 2) {
                accumulate<2>(d, a, s.pooled, first, scratch + p, width, std::min(left, 16), g + p);
                p += 16;
            } else {
                accumulate<1>(d, a, s.pooled, first, scratch + p, width, std::min(left, 8), g + p);
                p += 8;
            }
        }
    }
}

}  // namespace lenet::kernels
