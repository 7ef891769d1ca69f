// Stride-1 im2col / col2im_add with NEON. With stride 1, output row y of a column-matrix row
// (c, ky, kx) is one contiguous segment of image row y + ky - pad, so the reference's per-element
// bounds tests become row and column ranges computed once per (ky, kx): zeros (or nothing) outside
// them, a block copy (or add) inside, as in im2col_avx2.cpp.
#include <arm_neon.h>

#include <cstddef>

#include "kernels/neon/neon.h"
#include "kernels/ops/im2col.h"

namespace lenet::kernels {
namespace {

// Outputs o in [lo, hi) of [0, outputs) read input o + k - pad inside [0, extent).
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

// Copies `rows` rows of n floats. A ragged end of n >= 4 is one more vector ending at the row's
// end, overlapping the previous one (it rewrites the same values).
inline void copy_rows(float* dst, std::size_t dst_stride, const float* src, std::size_t src_stride, int rows, int n) {
    for (int y = 0; y < rows; ++y, dst += dst_stride, src += src_stride) {
        if (n < 4) {
            for (int i = 0; i < n; ++i) dst[i] = src[i];
            continue;
        }
        for (int i = 0; i + 4 < n; i += 4) vst1q_f32(dst + i, vld1q_f32(src + i));
        vst1q_f32(dst + n - 4, vld1q_f32(src + n - 4));
    }
}

inline void zero_floats(float* dst, int n) {
    for (int i = 0; i < n; ++i) dst[i] = 0.0f;
}

// Adds `rows` rows of n floats of src into dst, each element once.
inline void add_rows(float* dst, std::size_t dst_stride, const float* src, std::size_t src_stride, int rows, int n) {
    for (int y = 0; y < rows; ++y, dst += dst_stride, src += src_stride) {
        int i = 0;
        for (; i + 4 <= n; i += 4) vst1q_f32(dst + i, vaddq_f32(vld1q_f32(dst + i), vld1q_f32(src + i)));
        for (; i < n; ++i) dst[i] += src[i];
    }
}

}  // namespace

void im2col_s1_neon(const ConvGeometry& g, const float* image, float* columns) {
    const int oh = g.out_h(), ow = g.out_w();
    for (int c = 0; c < g.channels; ++c) {
        const float* plane = image + std::size_t(c) * std::size_t(g.height) * std::size_t(g.width);
        for (int ky = 0; ky < g.size; ++ky) {
            const Range rows = valid_range(ky, g.pad, g.height, oh);
            for (int kx = 0; kx < g.size; ++kx) {
                float* block = columns + (std::size_t(c * g.size + ky) * std::size_t(g.size) + std::size_t(kx)) *
                                             std::size_t(oh) * std::size_t(ow);
                const Range cols = valid_range(kx, g.pad, g.width, ow);
                zero_floats(block, rows.lo * ow);
                zero_floats(block + std::size_t(rows.hi) * std::size_t(ow), (oh - rows.hi) * ow);
                if (cols.lo > 0 || cols.hi < ow)
                    for (int y = rows.lo; y < rows.hi; ++y) {
                        zero_floats(block + std::size_t(y) * std::size_t(ow), cols.lo);
                        zero_floats(block + std::size_t(y) * std::size_t(ow) + std::size_t(cols.hi), ow - cols.hi);
                    }
                if (rows.hi > rows.lo && cols.hi > cols.lo)
                    copy_rows(block + std::size_t(rows.lo) * std::size_t(ow) + std::size_t(cols.lo), std::size_t(ow),
                              plane + std::size_t(rows.lo + ky - g.pad) * std::size_t(g.width) +
                                  std::size_t(cols.lo + kx - g.pad),
                              std::size_t(g.width), rows.hi - rows.lo, cols.hi - cols.lo);
            }
        }
    }
}

// The reference's order of adds per image element: channel, then ky, then kx, then rows.
void col2im_add_s1_neon(const ConvGeometry& g, const float* columns, float* image) {
    const int oh = g.out_h(), ow = g.out_w();
    for (int c = 0; c < g.channels; ++c) {
        float* plane = image + std::size_t(c) * std::size_t(g.height) * std::size_t(g.width);
        for (int ky = 0; ky < g.size; ++ky) {
            const Range rows = valid_range(ky, g.pad, g.height, oh);
            for (int kx = 0; kx < g.size; ++kx) {
                const float* block = columns + (std::size_t(c * g.size + ky) * std::size_t(g.size) + std::size_t(kx)) *
                                                   std::size_t(oh) * std::size_t(ow);
                const Range cols = valid_range(kx, g.pad, g.width, ow);
                if (rows.hi > rows.lo && cols.hi > cols.lo)
                    add_rows(plane + std::size_t(rows.lo + ky - g.pad) * std::size_t(g.width) +
                                 std::size_t(cols.lo + kx - g.pad),
                             std::size_t(g.width),
                             block + std::size_t(rows.lo) * std::size_t(ow) + std::size_t(cols.lo), std::size_t(ow),
                             rows.hi - rows.lo, cols.hi - cols.lo);
            }
        }
    }
}

}  // namespace lenet::kernels
