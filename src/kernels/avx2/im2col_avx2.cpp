// Stride-1 im2col / col2im_add with AVX2. With stride 1, output row y of a column-matrix row
// (c, ky, kx) is one contiguous segment of image row y + ky - pad, so the reference's per-element
// bounds tests become row and column ranges computed once per (ky, kx): zeros (or nothing) outside
// them, a block copy (or add) inside. Rows are short (LeNet: 12 and 26 floats), so a compiler loop's
// prologue and scalar epilogue would cost more than the work: whole vectors, then one overlapping
// vector (copy) or a 4-wide step (add), with the case picked once per block.
#include <immintrin.h>

#include <cstddef>

#include "kernels/avx2/avx2.h"
#include "kernels/ops/im2col.h"

namespace lenet::kernels {
namespace {

// Outputs o in [lo, hi) of [0, outputs) read input o + k - pad inside [0, extent) (rows: k = ky,
// columns: k = kx).
struct Range {
    int lo, hi;
};
inline Range valid_range(int k, int pad, int extent, int outputs) {
    int lo = pad - k, hi = extent + pad - k;
    if (lo < 0) lo = 0;
    if (hi > outputs) hi = outputs;
    if (hi < lo) hi = lo;
    return {lo, hi};
}

// Copies `rows` rows of n floats (row starts dst_stride / src_stride floats apart). A ragged end is
// one more vector ending at the row's end, overlapping the previous one (it rewrites the same values).
inline void copy_rows(float* dst, std::size_t dst_stride, const float* src, std::size_t src_stride, int rows, int n) {
    if (n >= 16) {
        for (int y = 0; y < rows; ++y, dst += dst_stride, src += src_stride) {
            for (int i = 0; i + 8 < n; i += 8) _mm256_storeu_ps(dst + i, _mm256_loadu_ps(src + i));
            _mm256_storeu_ps(dst + n - 8, _mm256_loadu_ps(src + n - 8));
        }
    } else if (n >= 8) {
        for (int y = 0; y < rows; ++y, dst += dst_stride, src += src_stride) {
            const __m256 head = _mm256_loadu_ps(src), tail = _mm256_loadu_ps(src + n - 8);
            _mm256_storeu_ps(dst, head);
            _mm256_storeu_ps(dst + n - 8, tail);
        }
    } else if (n >= 4) {
        for (int y = 0; y < rows; ++y, dst += dst_stride, src += src_stride) {
            const __m128 head = _mm_loadu_ps(src), tail = _mm_loadu_ps(src + n - 4);
            _mm_storeu_ps(dst, head);
            _mm_storeu_ps(dst + n - 4, tail);
        }
    } else {
        for (int y = 0; y < rows; ++y, dst += dst_stride, src += src_stride)
            for (int i = 0; i < n; ++i) dst[i] = src[i];
    }
}

inline void zero_floats(float* dst, int n) {
    for (int i = 0; i < n; ++i) dst[i] = 0.0f;
}

// Adds `rows` rows of n floats of src into dst. No overlapping vectors here: each element must get
// exactly one add, and a load straddling an earlier store cannot be forwarded from it (a stall).
inline void add_rows(float* dst, std::size_t dst_stride, const float* src, std::size_t src_stride, int rows, int n) {
    for (int y = 0; y < rows; ++y, dst += dst_stride, src += src_stride) {
        int i = 0;
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(dst + i, _mm256_add_ps(_mm256_loadu_ps(dst + i), _mm256_loadu_ps(src + i)));
        if (i + 4 <= n) {
            _mm_storeu_ps(dst + i, _mm_add_ps(_mm_loadu_ps(dst + i), _mm_loadu_ps(src + i)));
            i += 4;
        }
        for (; i < n; ++i) dst[i] += src[i];
    }
}

}  // namespace

void im2col_s1_avx2(const ConvGeometry& g, const float* image, float* columns) {
    const int oh = g.out_h(), ow = g.out_w();
    for (int c = 0; c < g.channels; ++c) {
        const float* plane = image + std::size_t(c) * g.height * g.width;
        for (int ky = 0; ky < g.size; ++ky) {
            const Range rows = valid_range(ky, g.pad, g.height, oh);
            for (int kx = 0; kx < g.size; ++kx) {
                float* block = columns + (std::size_t(c * g.size + ky) * g.size + kx) * oh * ow;
                const Range cols = valid_range(kx, g.pad, g.width, ow);
                zero_floats(block, rows.lo * ow);
                zero_floats(block + std::size_t(rows.hi) * ow, (oh - rows.hi) * ow);
                if (cols.lo > 0 || cols.hi < ow)
                    for (int y = rows.lo; y < rows.hi; ++y) {
                        zero_floats(block + std::size_t(y) * ow, cols.lo);
                        zero_floats(block + std::size_t(y) * ow + cols.hi, ow - cols.hi);
                    }
                if (rows.hi > rows.lo && cols.hi > cols.lo)
                    copy_rows(block + std::size_t(rows.lo) * ow + cols.lo, std::size_t(ow),
                              plane + std::size_t(rows.lo + ky - g.pad) * g.width + (cols.lo + kx - g.pad),
                              std::size_t(g.width), rows.hi - rows.lo, cols.hi - cols.lo);
            }
        }
    }
}

// Same (c, ky, kx) order as the reference, so every image element receives its terms in the same
// order.
void col2im_add_s1_avx2(const ConvGeometry& g, const float* columns, float* image) {
    const int oh = g.out_h(), ow = g.out_w();
    for (int c = 0; c < g.channels; ++c) {
        float* plane = image + std::size_t(c) * g.height * g.width;
        for (int ky = 0; ky < g.size; ++ky) {
            const Range rows = valid_range(ky, g.pad, g.height, oh);
            if (rows.hi == rows.lo) continue;
            for (int kx = 0; kx < g.size; ++kx) {
                const float* block = columns + (std::size_t(c * g.size + ky) * g.size + kx) * oh * ow;
                const Range cols = valid_range(kx, g.pad, g.width, ow);
                if (cols.hi == cols.lo) continue;
                add_rows(plane + std::size_t(rows.lo + ky - g.pad) * g.width + (cols.lo + kx - g.pad),
                         std::size_t(g.width), block + std::size_t(rows.lo) * ow + cols.lo, std::size_t(ow),
                         rows.hi - rows.lo, cols.hi - cols.lo);
            }
        }
    }
}

}  // namespace lenet::kernels
