// NEON single-precision GEMM in the BLIS/GotoBLAS layout of gemm_6x16_avx2.cpp, sized for AArch64's
// 32 q registers: op(B) packed a kc x nc panel at a time into column slivers of 12, op(A) an mc x kc
// block at a time into row slivers of 8, and an 8x12 micro-kernel (24 accumulators, 2 A and 3 B
// vectors: 29 registers) that issues 24 by-lane FMAs (vfmaq_laneq_f32) per 5 loads. Packing turns
// every transpose case into one contiguous, zero-padded layout; only the final write to C knows
// about partial tiles.
#include <arm_neon.h>

#include <algorithm>
#include <cstddef>

#include "kernels/gemm/blocking.h"
#include "kernels/gemm/gemm.h"
#include "kernels/neon/neon.h"

namespace lenet::kernels {
namespace {

constexpr int kMr = 8;   // rows of a micro-tile (two q vectors of A)
constexpr int kNr = 12;  // columns of a micro-tile (three q vectors of B)
// Cortex-A72 (32 KiB L1d, 1-2 MiB shared L2): a kc x 12 B sliver (12 KiB) stays in L1 while the A
// slivers stream past it, the mc x kc A block (128 KiB) and the B panel in L2.
constexpr int kKc = 256;
constexpr int kMc = 128;
constexpr int kNc = 2040;

using gemm_blocking::PackBuffer;
using gemm_blocking::balanced_block;
using gemm_blocking::offset;
using gemm_blocking::round_up;

thread_local PackBuffer packed_a_buffer;
thread_local PackBuffer packed_b_buffer;

// B not transposed (k x n, rows contiguous in n): each sliver row is a 12-float copy of a B row.
void pack_b_12(const float* b, int ldb, int kc, int nc, float* dst) {
    for (int j = 0; j < nc; j += kNr, dst += std::size_t(kc) * kNr) {
        const int nr = std::min(kNr, nc - j);
        const float* src = b + j;
        if (nr == kNr) {
            for (int p = 0; p < kc; ++p) {
                const float* row = src + offset(p, ldb);
                vst1q_f32(dst + p * kNr, vld1q_f32(row));
                vst1q_f32(dst + p * kNr + 4, vld1q_f32(row + 4));
                vst1q_f32(dst + p * kNr + 8, vld1q_f32(row + 8));
            }
        } else {
            for (int p = 0; p < kc; ++p)
                for (int jj = 0; jj < kNr; ++jj) dst[p * kNr + jj] = jj < nr ? src[offset(p, ldb) + jj] : 0.0f;
        }
    }
}

// A 4x4 block of a row-major matrix turned on its side: r[q] gets element q of each row.
inline void transpose_4x4(float32x4_t r[4]) {
    const float32x4_t t0 = vtrn1q_f32(r[0], r[1]), t1 = vtrn2q_f32(r[0], r[1]);
    const float32x4_t t2 = vtrn1q_f32(r[2], r[3]), t3 = vtrn2q_f32(r[2], r[3]);
    r[0] = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
    r[1] = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
    r[2] = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
    r[3] = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
}

// `rows` (<= 4) stored rows of 4 consecutive floats from src, the missing rows zero, transposed:
// r[q] holds element q of each row.
inline void load_transposed_4x4(const float* src, int ld, int rows, float32x4_t r[4]) {
    for (int i = 0; i < 4; ++i) r[i] = i < rows ? vld1q_f32(src + offset(i, ld)) : vdupq_n_f32(0.0f);
    transpose_4x4(r);
}

// Slivers of `width` (8 or 12) from a matrix stored with the sliver's index along rows (B
// transposed: n x k; A not transposed: m x k), scaled by `scale`: dst[p * width + i] = scale *
// src[i * ld + p], rows past `count` zero. Done as 4x4 register transposes.
template <int Width>
void pack_transposed(const float* src, int ld, int count, int kc, float scale, float* dst) {
    const float32x4_t vscale = vdupq_n_f32(scale);
    for (int i = 0; i < count; i += Width, dst += std::size_t(kc) * Width) {
        const int rows = std::min(Width, count - i);
        const float* block = src + offset(i, ld);
        int p = 0;
        for (; p + 4 <= kc; p += 4)
            for (int quarter = 0; quarter < Width / 4; ++quarter) {
                float32x4_t r[4];
                load_transposed_4x4(block + offset(quarter * 4, ld) + p, ld, std::clamp(rows - quarter * 4, 0, 4), r);
                for (int q = 0; q < 4; ++q) vst1q_f32(dst + (p + q) * Width + quarter * 4, vmulq_f32(r[q], vscale));
            }
        for (; p < kc; ++p)
            for (int ii = 0; ii < Width; ++ii) dst[p * Width + ii] = ii < rows ? scale * block[offset(ii, ld) + p] : 0.0f;
    }
}

// A transposed (stored k x m, rows contiguous in m): each sliver row is 8 consecutive floats.
void pack_at_8(const float* a, int lda, int mc, int kc, float alpha, float* dst) {
    const float32x4_t valpha = vdupq_n_f32(alpha);
    for (int i = 0; i < mc; i += kMr, dst += std::size_t(kc) * kMr) {
        const int mr = std::min(kMr, mc - i);
        const float* src = a + i;
        if (mr == kMr) {
            for (int p = 0; p < kc; ++p) {
                const float* row = src + offset(p, lda);
                vst1q_f32(dst + p * kMr, vmulq_f32(vld1q_f32(row), valpha));
                vst1q_f32(dst + p * kMr + 4, vmulq_f32(vld1q_f32(row + 4), valpha));
            }
        } else {
            for (int p = 0; p < kc; ++p)
                for (int ii = 0; ii < kMr; ++ii) dst[p * kMr + ii] = ii < mr ? alpha * src[offset(p, lda) + ii] : 0.0f;
        }
    }
}

// One 8x12 tile: acc = Ap * Bp over kc (both packed, zero-padded), then C[mr x nr] = acc + beta * C
// (beta == 0 never reads C). The loop body is the 24 FMAs mca_neon.sh measures.
[[gnu::noinline]] void sgemm_kernel_8x12_neon(int kc, const float* __restrict ap, const float* __restrict bp, float* c,
                                              int ldc, float beta, int mr, int nr) {
    float32x4_t acc[kMr][3];
#pragma GCC unroll 8
    for (int r = 0; r < kMr; ++r) acc[r][0] = acc[r][1] = acc[r][2] = vdupq_n_f32(0.0f);

    for (int p = 0; p < kc; ++p) {
        const float32x4_t a0 = vld1q_f32(ap), a1 = vld1q_f32(ap + 4);
        const float32x4_t b0 = vld1q_f32(bp), b1 = vld1q_f32(bp + 4), b2 = vld1q_f32(bp + 8);
#define LENET_FMA_ROW(r, a, lane)                                 \
    acc[r][0] = vfmaq_laneq_f32(acc[r][0], b0, a, lane);          \
    acc[r][1] = vfmaq_laneq_f32(acc[r][1], b1, a, lane);          \
    acc[r][2] = vfmaq_laneq_f32(acc[r][2], b2, a, lane);
        LENET_FMA_ROW(0, a0, 0)
        LENET_FMA_ROW(1, a0, 1)
        LENET_FMA_ROW(2, a0, 2)
        LENET_FMA_ROW(3, a0, 3)
        LENET_FMA_ROW(4, a1, 0)
        LENET_FMA_ROW(5, a1, 1)
        LENET_FMA_ROW(6, a1, 2)
        LENET_FMA_ROW(7, a1, 3)
#undef LENET_FMA_ROW
        ap += kMr;
        bp += kNr;
    }

    if (mr == kMr && nr == kNr) {
        const float32x4_t vbeta = vdupq_n_f32(beta);
#pragma GCC unroll 8
        for (int r = 0; r < kMr; ++r) {
            float* row = c + offset(r, ldc);
            for (int v = 0; v < 3; ++v) {
                float32x4_t out = acc[r][v];
                if (beta != 0.0f) out = vfmaq_f32(out, vbeta, vld1q_f32(row + 4 * v));
                vst1q_f32(row + 4 * v, out);
            }
        }
        return;
    }
    float tile[kMr][kNr];
    for (int r = 0; r < kMr; ++r)
        for (int v = 0; v < 3; ++v) vst1q_f32(&tile[r][4 * v], acc[r][v]);
    for (int r = 0; r < mr; ++r) {
        float* row = c + offset(r, ldc);
        for (int j = 0; j < nr; ++j) row[j] = beta != 0.0f ? tile[r][j] + beta * row[j] : tile[r][j];
    }
}

// k == 0: the product is empty, so C = beta * C (and beta == 0 clears C without reading it).
void scale_c(const GemmArgs& g) {
    for (int i = 0; i < g.m; ++i) {
        float* row = g.c + offset(i, g.ldc);
        if (g.beta == 0.0f)
            std::fill(row, row + g.n, 0.0f);
        else if (g.beta != 1.0f)
            for (int j = 0; j < g.n; ++j) row[j] *= g.beta;
    }
}

}  // namespace

void gemm_neon(const GemmArgs& g) {
    if (g.m <= 0 || g.n <= 0) return;
    if (g.k <= 0) return scale_c(g);

    const int mc_block = balanced_block(g.m, kMc, kMr);
    const int kc_block = balanced_block(g.k, kKc, 4);
    const int nc_block = balanced_block(g.n, kNc, kNr);
    const std::size_t kc_max = std::size_t(std::min(kc_block, g.k));
    float* packed_a = packed_a_buffer.reserve(std::size_t(round_up(mc_block, kMr)) * kc_max);
    float* packed_b = packed_b_buffer.reserve(std::size_t(round_up(nc_block, kNr)) * kc_max);

    for (int jc = 0; jc < g.n; jc += nc_block) {
        const int nc = std::min(nc_block, g.n - jc);
        for (int pc = 0; pc < g.k; pc += kc_block) {
            const int kc = std::min(kc_block, g.k - pc);
            // Later k blocks accumulate onto what the first one wrote.
            const float beta = pc == 0 ? g.beta : 1.0f;
            if (g.trans_b)
                pack_transposed<kNr>(g.b + offset(jc, g.ldb) + pc, g.ldb, nc, kc, 1.0f, packed_b);
            else
                pack_b_12(g.b + offset(pc, g.ldb) + jc, g.ldb, kc, nc, packed_b);

            for (int ic = 0; ic < g.m; ic += mc_block) {
                const int mc = std::min(mc_block, g.m - ic);
                // alpha is folded into the packed A, so the write to C needs no multiply.
                if (g.trans_a)
                    pack_at_8(g.a + offset(pc, g.lda) + ic, g.lda, mc, kc, g.alpha, packed_a);
                else
                    pack_transposed<kMr>(g.a + offset(ic, g.lda) + pc, g.lda, mc, kc, g.alpha, packed_a);

                // The B sliver stays in L1 while every A sliver of the block streams past it.
                for (int jr = 0; jr < nc; jr += kNr) {
                    const int nr = std::min(kNr, nc - jr);
                    const float* bp = packed_b + std::size_t(jr) * kc;
                    float* c_col = g.c + jc + jr;
                    for (int ir = 0; ir < mc; ir += kMr)
                        sgemm_kernel_8x12_neon(kc, packed_a + std::size_t(ir) * kc, bp, c_col + offset(ic + ir, g.ldc),
                                               g.ldc, beta, std::min(kMr, mc - ir), nr);
                }
            }
        }
    }
}

}  // namespace lenet::kernels
