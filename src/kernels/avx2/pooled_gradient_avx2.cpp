// Pooled weight gradient with AVX2. Step 1 turns columns [patch x spatial] into rows [spatial x
// width] (width = patch rounded up to 8, zero-padded) with 8x8 register transposes, so each term
// delta * columns[:, q] is whole vectors. Step 2 runs, per filter and per block of up to 8 vectors of
// the patch, over the pooled outputs: broadcast delta, FMA the winner's row into the accumulators
// (kernels/accumulate_avx2.h).
#include <immintrin.h>

#include <algorithm>

#include "kernels/avx2/avx2.h"
#include "kernels/avx2/accumulate_avx2.h"
#include "kernels/ops/pooled_gradient.h"
#include "kernels/avx2/transpose_avx2.h"

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
        // A zero delta (relu) adds nothing: skipped where the term is long enough to pay.
        const auto term = [&](int o, bool narrow, float& value, const float*& row) {
            if (a[o] < 0 || (!narrow && d[o] == 0.0f)) return false;
            value = d[o];
            row = scratch + std::size_t(a[o] - first) * width;
            return true;
        };
        accumulate_rows(s.pooled, term, width, s.patch, g);
    }
}

}  // namespace lenet::kernels
