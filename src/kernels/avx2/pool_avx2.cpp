// 2x2, stride-2 max pooling with AVX2 (windows start at 0 and never overlap). The reference spends
// its time on an unpredictable branch per comparison; here 8 windows are compared at once with
// blends, in the reference's scan order (top-left, top-right, bottom-left, bottom-right) and with
// its strict '>' (an ordered compare, so a NaN never wins unless it comes first), which makes the
// outputs and argmax bit-identical. A window hanging over an odd right or bottom edge is done in
// scalar code.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "kernels/avx2/avx2.h"
#include "kernels/ops/pool.h"

namespace lenet::kernels {
namespace {

// One window at output column x; `bottom` is null when the window's second row is off the image,
// `two_columns` false when its second column is.
inline void pool_window(const float* top, const float* bottom, bool two_columns, int x, std::int32_t index_top,
                        int width, float* out, std::int32_t* argmax) {
    const int ix = 2 * x;
    float best = top[ix];
    std::int32_t index = index_top + ix;
    if (two_columns && top[ix + 1] > best) {
        best = top[ix + 1];
        index = index_top + ix + 1;
    }
    if (bottom) {
        if (bottom[ix] > best) {
            best = bottom[ix];
            index = index_top + width + ix;
        }
        if (two_columns && bottom[ix + 1] > best) {
            best = bottom[ix + 1];
            index = index_top + width + ix + 1;
        }
    }
    out[x] = best;
    argmax[x] = index;
}

// Windows x..x+7 of a full row pair. shuffle_ps splits even and odd columns within 128-bit halves,
// so the lanes hold windows 0 1 4 5 2 3 6 7 until the final permute.
inline void pool8(const float* top, const float* bottom, int x, std::int32_t index_top, int width, float* out,
                  std::int32_t* argmax) {
    const float* t = top + 2 * x;
    const float* b = bottom + 2 * x;
    const __m256 t0 = _mm256_loadu_ps(t), t1 = _mm256_loadu_ps(t + 8);
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    __m256 best = _mm256_shuffle_ps(t0, t1, _MM_SHUFFLE(2, 0, 2, 0));
    __m256 offset = _mm256_setzero_ps();  // the winner's offset in the window, as int32 bits
    const auto take = [&](__m256 value, int value_offset) {
        const __m256 greater = _mm256_cmp_ps(value, best, _CMP_GT_OQ);
        best = _mm256_blendv_ps(best, value, greater);
        offset = _mm256_blendv_ps(offset, _mm256_castsi256_ps(_mm256_set1_epi32(value_offset)), greater);
    };
    take(_mm256_shuffle_ps(t0, t1, _MM_SHUFFLE(3, 1, 3, 1)), 1);
    take(_mm256_shuffle_ps(b0, b1, _MM_SHUFFLE(2, 0, 2, 0)), width);
    take(_mm256_shuffle_ps(b0, b1, _MM_SHUFFLE(3, 1, 3, 1)), width + 1);
    const __m256i order_best = _mm256_permute4x64_epi64(_mm256_castps_si256(best), _MM_SHUFFLE(3, 1, 2, 0));
    const __m256i order_offset = _mm256_permute4x64_epi64(_mm256_castps_si256(offset), _MM_SHUFFLE(3, 1, 2, 0));
    const __m256i first = _mm256_add_epi32(_mm256_set1_epi32(index_top + 2 * x),
                                           _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14));
    _mm256_storeu_ps(out + x, _mm256_castsi256_ps(order_best));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(argmax + x), _mm256_add_epi32(first, order_offset));
}

// Windows x..x+3 of a full row pair (SSE shuffles keep the natural order).
inline void pool4(const float* top, const float* bottom, int x, std::int32_t index_top, int width, float* out,
                  std::int32_t* argmax) {
    const float* t = top + 2 * x;
    const float* b = bottom + 2 * x;
    const __m128 t0 = _mm_loadu_ps(t), t1 = _mm_loadu_ps(t + 4);
    const __m128 b0 = _mm_loadu_ps(b), b1 = _mm_loadu_ps(b + 4);
    __m128 best = _mm_shuffle_ps(t0, t1, _MM_SHUFFLE(2, 0, 2, 0));
    __m128 offset = _mm_setzero_ps();
    const auto take = [&](__m128 value, int value_offset) {
        const __m128 greater = _mm_cmp_ps(value, best, _CMP_GT_OQ);
        best = _mm_blendv_ps(best, value, greater);
        offset = _mm_blendv_ps(offset, _mm_castsi128_ps(_mm_set1_epi32(value_offset)), greater);
    };
    take(_mm_shuffle_ps(t0, t1, _MM_SHUFFLE(3, 1, 3, 1)), 1);
    take(_mm_shuffle_ps(b0, b1, _MM_SHUFFLE(2, 0, 2, 0)), width);
    take(_mm_shuffle_ps(b0, b1, _MM_SHUFFLE(3, 1, 3, 1)), width + 1);
    const __m128i first = _mm_add_epi32(_mm_set1_epi32(index_top + 2 * x), _mm_setr_epi32(0, 2, 4, 6));
    _mm_storeu_ps(out + x, best);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(argmax + x), _mm_add_epi32(first, _mm_castps_si128(offset)));
}

// One output row. full_x windows have both columns on the image. A ragged tail of full windows is
// done by one more block ending at full_x: it overlaps the previous block, recomputing the same values.
void pool_row(const float* top, const float* bottom, std::int32_t index_top, int width, int ow, int full_x,
              float* out, std::int32_t* argmax) {
    int x = 0;
    if (bottom) {
        for (; x + 8 <= full_x; x += 8) pool8(top, bottom, x, index_top, width, out, argmax);
        if (x < full_x && full_x >= 8) {
            pool8(top, bottom, full_x - 8, index_top, width, out, argmax);
            x = full_x;
        }
        for (; x + 4 <= full_x; x += 4) pool4(top, bottom, x, index_top, width, out, argmax);
        if (x < full_x && full_x >= 4) {
            pool4(top, bottom, full_x - 4, index_top, width, out, argmax);
            x = full_x;
        }
    }
    for (; x < ow; ++x) pool_window(top, bottom, x < full_x, x, index_top, width, out, argmax);
}

// Backward, windows x..x+7 of a full row pair: each of the 2x2 positions gets its window's delta
// where it is the argmax, else 0 (0 + delta, as the reference forms it: -0 becomes +0).
inline void unpool8(const float* delta, const std::int32_t* argmax, std::int32_t index_top, int width, int x,
                    float* top, float* bottom) {
    const __m256 d = _mm256_loadu_ps(delta + x);
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(argmax + x));
    const __m256i first = _mm256_add_epi32(_mm256_set1_epi32(index_top + 2 * x),
                                           _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14));
    const __m256 zero = _mm256_setzero_ps();
    const auto pick = [&](int offset) {
        const __m256i hit = _mm256_cmpeq_epi32(a, _mm256_add_epi32(first, _mm256_set1_epi32(offset)));
        return _mm256_add_ps(zero, _mm256_and_ps(d, _mm256_castsi256_ps(hit)));
    };
    // unpacklo/hi interleave within 128-bit halves; permute2f128 puts the halves in order.
    const auto store_row = [](float* row, __m256 even, __m256 odd) {
        const __m256 lo = _mm256_unpacklo_ps(even, odd), hi = _mm256_unpackhi_ps(even, odd);
        _mm256_storeu_ps(row, _mm256_permute2f128_ps(lo, hi, 0x20));
        _mm256_storeu_ps(row + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
    };
    store_row(top + 2 * x, pick(0), pick(1));
    store_row(bottom + 2 * x, pick(width), pick(width + 1));
}

// The same for windows x..x+3 (SSE).
inline void unpool4(const float* delta, const std::int32_t* argmax, std::int32_t index_top, int width, int x,
                    float* top, float* bottom) {
    const __m128 d = _mm_loadu_ps(delta + x);
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(argmax + x));
    const __m128i first = _mm_add_epi32(_mm_set1_epi32(index_top + 2 * x), _mm_setr_epi32(0, 2, 4, 6));
    const __m128 zero = _mm_setzero_ps();
    const auto pick = [&](int offset) {
        const __m128i hit = _mm_cmpeq_epi32(a, _mm_add_epi32(first, _mm_set1_epi32(offset)));
        return _mm_add_ps(zero, _mm_and_ps(d, _mm_castsi128_ps(hit)));
    };
    const auto store_row = [](float* row, __m128 even, __m128 odd) {
        _mm_storeu_ps(row, _mm_unpacklo_ps(even, odd));
        _mm_storeu_ps(row + 4, _mm_unpackhi_ps(even, odd));
    };
    store_row(top + 2 * x, pick(0), pick(1));
    store_row(bottom + 2 * x, pick(width), pick(width + 1));
}

}  // namespace

void maxpool_2x2s2_backward_set_avx2(const PoolGeometry& g, int batch, const float* delta, const std::int32_t* argmax,
                                     float* in_grad) {
    const int height = g.height, width = g.width, oh = g.out_h(), ow = g.out_w();
    const int full_x = ow < width / 2 ? ow : width / 2;
    const int full_y = oh < height / 2 ? oh : height / 2;
    const std::size_t plane = std::size_t(height) * width, out_plane = std::size_t(oh) * ow;
    for (int b = 0; b < batch; ++b)
        for (int c = 0; c < g.channels; ++c) {
            const std::size_t p = std::size_t(b) * g.channels + c;
            float* image = in_grad + p * plane;
            for (int y = 0; y < oh; ++y) {
                float* top = image + std::size_t(2 * y) * width;
                float* bottom = 2 * y + 1 < height ? top + width : nullptr;
                const std::int32_t index_top = std::int32_t((c * height + 2 * y) * width);
                const float* d = delta + p * out_plane + std::size_t(y) * ow;
                const std::int32_t* a = argmax + p * out_plane + std::size_t(y) * ow;
                int x = 0;
                // A ragged end is one more block ending at full_x, rewriting the same values.
                if (y < full_y && full_x >= 8) {
                    for (; x + 8 <= full_x; x += 8) unpool8(d, a, index_top, width, x, top, bottom);
                    if (x < full_x) unpool8(d, a, index_top, width, full_x - 8, top, bottom);
                    x = full_x;
                } else if (y < full_y && full_x >= 4) {
                    for (; x + 4 <= full_x; x += 4) unpool4(d, a, index_top, width, x, top, bottom);
                    if (x < full_x) unpool4(d, a, index_top, width, full_x - 4, top, bottom);
                    x = full_x;
                }
                for (; x < ow; ++x)
                    for (int dy = 0; dy < 2; ++dy) {
                        float* row = dy ? bottom : top;
                        if (!row) continue;
                        for (int dx = 0; dx < 2 && 2 * x + dx < width; ++dx) {
                            const std::int32_t index = index_top + dy * width + 2 * x + dx;
                            row[2 * x + dx] = a[x] == index ? 0.0f + d[x] : 0.0f;
                        }
                    }
                // Columns no window reaches (an odd width without padding).
                for (int ix = 2 * ow; ix < width; ++ix) {
                    top[ix] = 0.0f;
                    if (bottom) bottom[ix] = 0.0f;
                }
            }
            // Rows no window reaches.
            for (int iy = 2 * oh; iy < height; ++iy)
                for (int ix = 0; ix < width; ++ix) image[std::size_t(iy) * width + ix] = 0.0f;
        }
}

void maxpool_2x2s2_avx2(const PoolGeometry& g, int batch, const float* in, float* out, std::int32_t* argmax) {
    const int height = g.height, width = g.width, oh = g.out_h(), ow = g.out_w();
    const int full_x = ow < width / 2 ? ow : width / 2;
    const int full_y = oh < height / 2 ? oh : height / 2;
    const std::size_t plane = std::size_t(height) * width, out_plane = std::size_t(oh) * ow;
    for (int b = 0; b < batch; ++b)
        for (int c = 0; c < g.channels; ++c) {
            const std::size_t p = std::size_t(b) * g.channels + c;
            const float* image = in + p * plane;
            for (int y = 0; y < oh; ++y) {
                const float* top = image + std::size_t(2 * y) * width;
                const std::size_t o = p * out_plane + std::size_t(y) * ow;
                pool_row(top, y < full_y ? top + width : nullptr, std::int32_t((c * height + 2 * y) * width), width,
                         ow, full_x, out + o, argmax + o);
            }
        }
}

namespace {

// One window of a 2x2 stride-1 pool at (y, x), taps off the image skipped, in the reference's scan
// order and with its rule (the first tap on the image, then a strict '>').
inline void pool_window_s1(const float* image, int height, int width, int y, int x, std::int32_t index_plane,
                           float* out, std::int32_t* argmax) {
    float best = 0.0f;
    std::int32_t index = -1;
    for (int iy = y; iy < y + 2 && iy < height; ++iy)
        for (int ix = x; ix < x + 2 && ix < width; ++ix) {
            const float v = image[std::size_t(iy) * width + ix];
            if (index < 0 || v > best) {
                best = v;
                index = index_plane + iy * width + ix;
            }
        }
    *out = index < 0 ? 0.0f : best;
    *argmax = index;
}

// Windows x..x+7 of output row y, all four taps on the image.
inline void pool8_s1(const float* top, int width, int x, std::int32_t index_top, float* out, std::int32_t* argmax) {
    const float* t = top + x;
    const float* b = t + width;
    __m256 best = _mm256_loadu_ps(t);
    __m256 offset = _mm256_setzero_ps();  // the winner's offset in the window, as int32 bits
    const auto take = [&](__m256 value, int value_offset) {
        const __m256 greater = _mm256_cmp_ps(value, best, _CMP_GT_OQ);
        best = _mm256_blendv_ps(best, value, greater);
        offset = _mm256_blendv_ps(offset, _mm256_castsi256_ps(_mm256_set1_epi32(value_offset)), greater);
    };
    take(_mm256_loadu_ps(t + 1), 1);
    take(_mm256_loadu_ps(b), width);
    take(_mm256_loadu_ps(b + 1), width + 1);
    const __m256i first = _mm256_add_epi32(_mm256_set1_epi32(index_top + x), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    _mm256_storeu_ps(out + x, best);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(argmax + x), _mm256_add_epi32(first, _mm256_castps_si256(offset)));
}

}  // namespace

void maxpool_2x2s1_avx2(const PoolGeometry& g, int batch, const float* in, float* out, std::int32_t* argmax) {
    const int height = g.height, width = g.width, oh = g.out_h(), ow = g.out_w();
    // Windows with both columns (x + 1 < width) and both rows on the image.
    const int full_x = std::min(ow, width - 1), full_y = std::min(oh, height - 1);
    const std::size_t plane = std::size_t(height) * width, out_plane = std::size_t(oh) * ow;
    for (int b = 0; b < batch; ++b)
        for (int c = 0; c < g.channels; ++c) {
            const std::size_t p = std::size_t(b) * g.channels + c;
            const float* image = in + p * plane;
            const auto index_plane = std::int32_t(std::size_t(c) * plane);
            for (int y = 0; y < oh; ++y) {
                const std::size_t o = p * out_plane + std::size_t(y) * ow;
                int x = 0;
                if (y < full_y && full_x >= 8) {
                    const float* top = image + std::size_t(y) * width;
                    const std::int32_t index_top = index_plane + y * width;
                    for (; x + 8 <= full_x; x += 8) pool8_s1(top, width, x, index_top, out + o, argmax + o);
                    // A ragged tail: one more block ending at full_x, recomputing the same values.
                    if (x < full_x) pool8_s1(top, width, full_x - 8, index_top, out + o, argmax + o);
                    x = full_x;
                }
                for (; x < ow; ++x) pool_window_s1(image, height, width, y, x, index_plane, out + o + x, argmax + o + x);
            }
        }
}

}  // namespace lenet::kernels
