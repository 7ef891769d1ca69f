// Direct stride-1 convolution with AVX2 (kernels/ops/conv_direct.h). Register tile: 4 filters x 3
// vectors of 8 positions along an output row (12 accumulators): per tap 3 input loads and 4
// broadcast weights for 12 FMAs. Each accumulator starts at 0 and takes the taps in order, as the
// GEMM's does, so the results are the same bits. The padded rows a range reads are copied once.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "kernels/avx2/avx2.h"
#include "kernels/ops/conv_direct.h"

namespace lenet::kernels {
namespace {

constexpr int kF = 4;

// Outputs x0 .. x0 + 8 NV of one row for filters f .. f + 3: `in` is the padded input at the row's
// first tap row and column x0, offsets[t] tap t's place relative to it, `w` filter f's weights.
// One flat loop over the taps, the accumulators named one by one: with an array of them (or
// nested channel and kernel loops) GCC 12 stored every accumulator to the stack on each tap.
template <int NV>
[[gnu::noinline]] void conv_block(const float* in, const std::ptrdiff_t* offsets, const float* w, int taps, float* out,
                                  std::size_t spatial) {
    static_assert(NV == 1 || NV == 3);
    const std::size_t stride = std::size_t(taps);
    const float* w0 = w;
    const float* w1 = w + stride;
    const float* w2 = w + 2 * stride;
    const float* w3 = w + 3 * stride;
    __m256 a00 = _mm256_setzero_ps(), a10 = a00, a20 = a00, a30 = a00;
    __m256 a01 = a00, a11 = a00, a21 = a00, a31 = a00;
    __m256 a02 = a00, a12 = a00, a22 = a00, a32 = a00;
    // 12 accumulators, 3 inputs and one broadcast weight at a time: the 16 registers.
    for (int t = 0; t < taps; ++t) {
        const float* x = in + offsets[t];
        const __m256 x0 = _mm256_loadu_ps(x);
        if constexpr (NV == 1) {
            a00 = _mm256_fmadd_ps(_mm256_broadcast_ss(w0 + t), x0, a00);
            a10 = _mm256_fmadd_ps(_mm256_broadcast_ss(w1 + t), x0, a10);
            a20 = _mm256_fmadd_ps(_mm256_broadcast_ss(w2 + t), x0, a20);
            a30 = _mm256_fmadd_ps(_mm256_broadcast_ss(w3 + t), x0, a30);
        } else {
            const __m256 x1 = _mm256_loadu_ps(x + 8), x2 = _mm256_loadu_ps(x + 16);
            __m256 b = _mm256_broadcast_ss(w0 + t);
            a00 = _mm256_fmadd_ps(b, x0, a00);
            a01 = _mm256_fmadd_ps(b, x1, a01);
            a02 = _mm256_fmadd_ps(b, x2, a02);
            b = _mm256_broadcast_ss(w1 + t);
            a10 = _mm256_fmadd_ps(b, x0, a10);
            a11 = _mm256_fmadd_ps(b, x1, a11);
            a12 = _mm256_fmadd_ps(b, x2, a12);
            b = _mm256_broadcast_ss(w2 + t);
            a20 = _mm256_fmadd_ps(b, x0, a20);
            a21 = _mm256_fmadd_ps(b, x1, a21);
            a22 = _mm256_fmadd_ps(b, x2, a22);
            b = _mm256_broadcast_ss(w3 + t);
            a30 = _mm256_fmadd_ps(b, x0, a30);
            a31 = _mm256_fmadd_ps(b, x1, a31);
            a32 = _mm256_fmadd_ps(b, x2, a32);
        }
    }
    _mm256_storeu_ps(out, a00);
    _mm256_storeu_ps(out + spatial, a10);
    _mm256_storeu_ps(out + 2 * spatial, a20);
    _mm256_storeu_ps(out + 3 * spatial, a30);
    if constexpr (NV == 3) {
        _mm256_storeu_ps(out + 8, a01);
        _mm256_storeu_ps(out + spatial + 8, a11);
        _mm256_storeu_ps(out + 2 * spatial + 8, a21);
        _mm256_storeu_ps(out + 3 * spatial + 8, a31);
        _mm256_storeu_ps(out + 16, a02);
        _mm256_storeu_ps(out + spatial + 16, a12);
        _mm256_storeu_ps(out + 2 * spatial + 16, a22);
        _mm256_storeu_ps(out + 3 * spatial + 16, a32);
    }
}

}  // namespace

void conv_direct_avx2(const ConvGeometry& g, int filters, const float* weights, const float* image, int first_row,
                      int last_row, float* out, std::size_t filter_stride, float* scratch) {
    if (first_row >= last_row) return;
    const int ow = g.out_w(), pw = g.width + 2 * g.pad, taps = g.channels * g.size * g.size;
    const int rows = last_row - first_row + g.size - 1;  // padded input rows read
    const std::size_t plane = std::size_t(rows) * std::size_t(pw);
    for (int c = 0; c < g.channels; ++c)
        for (int r = 0; r < rows; ++r) {
            float* line = scratch + std::size_t(c) * plane + std::size_t(r) * std::size_t(pw);
            const int iy = first_row + r - g.pad;
            if (iy < 0 || iy >= g.height) {
                std::fill(line, line + pw, 0.0f);
                continue;
            }
            std::fill(line, line + g.pad, 0.0f);
            std::memcpy(line + g.pad, image + (std::size_t(c) * std::size_t(g.height) + std::size_t(iy)) * std::size_t(g.width),
                        std::size_t(g.width) * sizeof(float));
            std::fill(line + g.pad + g.width, line + pw, 0.0f);
        }
    std::ptrdiff_t offsets[kConvDirectMaxTaps];
    for (int c = 0, t = 0; c < g.channels; ++c)
        for (int ky = 0; ky < g.size; ++ky)
            for (int kx = 0; kx < g.size; ++kx, ++t)
                offsets[t] = std::ptrdiff_t(std::size_t(c) * plane + std::size_t(ky) * std::size_t(pw)) + kx;
    for (int y = first_row; y < last_row; ++y) {
        const float* in_row = scratch + std::size_t(y - first_row) * std::size_t(pw);
        for (int f = 0; f < filters; f += kF) {
            const float* w = weights + std::size_t(f) * std::size_t(taps);
            float* o = out + std::size_t(f) * filter_stride + std::size_t(y - first_row) * std::size_t(ow);
            int x = 0;
            for (; x + 24 <= ow; x += 24) conv_block<3>(in_row + x, offsets, w, taps, o + x, filter_stride);
            for (; x + 8 <= ow; x += 8) conv_block<1>(in_row + x, offsets, w, taps, o + x, filter_stride);
            // A ragged tail: one more block ending at the row's end, recomputing the same values.
            if (x < ow) conv_block<1>(in_row + ow - 8, offsets, w, taps, o + ow - 8, filter_stride);
        }
    }
}

}  // namespace lenet::kernels
