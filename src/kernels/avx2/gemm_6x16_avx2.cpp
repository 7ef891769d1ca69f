// AVX2+FMA single-precision GEMM in the BLIS/GotoBLAS layout: op(B) is packed a kc x nc panel at a
// time into column slivers of 16, op(A) an mc x kc block at a time into row slivers of 6, and a
// 6x16 register-blocked micro-kernel (12 ymm accumulators) walks the packed slivers. Packing turns
// every transpose case into the same contiguous, zero-padded layout, so the micro-kernel never
// sees a transpose or a ragged k; only its final write to C knows about partial tiles.
#include <immintrin.h>

#include <cstring>

#include <algorithm>
#include <cstddef>

#include "kernels/avx2/avx2.h"
#include "kernels/gemm/blocking.h"
#include "kernels/gemm/gemm.h"
#include "kernels/avx2/transpose_avx2.h"

namespace lenet::kernels {
namespace {

constexpr int kMr = 6;   // rows of a micro-tile
constexpr int kNr = 16;  // columns of a micro-tile (two ymm)
// Zen3 (32 KiB L1d, 512 KiB L2): a kc x 16 B sliver (16 KiB) stays in L1 while the A slivers
// stream past it; the mc x kc A block (144 KiB) stays in L2; the kc x nc B panel (4 MiB) in L3.
constexpr int kKc = 256;
constexpr int kMc = 144;
constexpr int kNc = 4080;
// The packers write whole ymm vectors that may run up to 8 floats past a panel's end.
constexpr std::size_t kSlack = 16;

using gemm_blocking::PackBuffer;
using gemm_blocking::balanced_block;
using gemm_blocking::offset;
using gemm_blocking::round_up;

thread_local PackBuffer packed_a_buffer;
thread_local PackBuffer packed_b_buffer;

// Lanes [0, count) of an 8-lane vector enabled, for maskload/maskstore.
inline __m256i lane_mask(int count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// Loads 8 consecutive floats from each of `rows` rows (the rest read as zero) and transposes them,
// so r[q] holds element q of every row.
inline void load_transposed_8x8(const float* src, int ld, int rows, __m256 r[8]) {
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i) r[i] = i < rows ? _mm256_loadu_ps(src + offset(i, ld)) : _mm256_setzero_ps();
    transpose_8x8(r);
}

// The transposing packers read 6 or 16 rows side by side, more streams than the hardware prefetcher
// follows, so each row is fetched a few cache lines ahead by hand.
constexpr int kPrefetchAhead = 64;  // floats: 4 cache lines

inline void prefetch_rows(const float* src, int ld, int rows) {
    for (int i = 0; i < rows; ++i) _mm_prefetch(reinterpret_cast<const char*>(src + offset(i, ld)), _MM_HINT_T0);
}

// B not transposed (k x n, rows contiguous in n): each sliver row is a 16-float copy of a B row.
void pack_b_16_avx2(const float* b, int ldb, int kc, int nc, float* dst) {
    for (int j = 0; j < nc; j += kNr, dst += std::size_t(kc) * kNr) {
        const int nr = std::min(kNr, nc - j);
        const float* src = b + j;
        if (nr == kNr) {
            for (int p = 0; p < kc; ++p) {
                const float* row = src + offset(p, ldb);
                _mm256_store_ps(dst + p * kNr, _mm256_loadu_ps(row));
                _mm256_store_ps(dst + p * kNr + 8, _mm256_loadu_ps(row + 8));
            }
        } else {
            // Masked-off lanes are not read, so the columns past n cost nothing and pad with zeros.
            const __m256i lo = lane_mask(nr), hi = lane_mask(nr - 8);
            for (int p = 0; p < kc; ++p) {
                const float* row = src + offset(p, ldb);
                _mm256_store_ps(dst + p * kNr, _mm256_maskload_ps(row, lo));
                _mm256_store_ps(dst + p * kNr + 8, _mm256_maskload_ps(row + 8, hi));
            }
        }
    }
}

// B transposed (stored n x k, rows contiguous in k): each sliver is 16 stored rows turned on their
// side, done as 8x8 register transposes.
void pack_bt_16_avx2(const float* b, int ldb, int kc, int nc, float* dst) {
    for (int j = 0; j < nc; j += kNr, dst += std::size_t(kc) * kNr) {
        const int nr = std::min(kNr, nc - j);
        const float* src = b + offset(j, ldb);
        int p = 0;
        for (; p + 8 <= kc; p += 8) {
            if (p % 16 == 0 && p + kPrefetchAhead < kc) prefetch_rows(src + p + kPrefetchAhead, ldb, nr);
#pragma GCC unroll 2
            for (int half = 0; half < 2; ++half) {
                __m256 r[8];
                load_transposed_8x8(src + offset(half * 8, ldb) + p, ldb, std::clamp(nr - half * 8, 0, 8), r);
                #pragma GCC unroll 8
                for (int q = 0; q < 8; ++q) _mm256_store_ps(dst + (p + q) * kNr + half * 8, r[q]);
            }
        }
        for (; p < kc; ++p)
            for (int jj = 0; jj < kNr; ++jj) dst[p * kNr + jj] = jj < nr ? src[offset(jj, ldb) + p] : 0.0f;
    }
}

// The A packers also scale by alpha, so the micro-kernel's write to C needs no multiply (alpha * A
// is what the reference forms too).

// A not transposed (m x k, rows contiguous in k): 6 rows per sliver, transposed 8 columns at a time
// (two zero rows fill the 8x8). Each 8-float store spills 2 zeros into the next k step's slot, which
// the next store overwrites; the last one lands in the following sliver or the slack.
void pack_a_6_avx2(const float* a, int lda, int mc, int kc, float alpha, float* dst) {
    const __m256 valpha = _mm256_set1_ps(alpha);
    for (int i = 0; i < mc; i += kMr, dst += std::size_t(kc) * kMr) {
        const int mr = std::min(kMr, mc - i);
        const float* src = a + offset(i, lda);
        int p = 0;
        for (; p + 8 <= kc; p += 8) {
            if (p % 16 == 0 && p + kPrefetchAhead < kc) prefetch_rows(src + p + kPrefetchAhead, lda, mr);
            __m256 r[8];
            load_transposed_8x8(src + p, lda, mr, r);
            #pragma GCC unroll 8
            for (int q = 0; q < 8; ++q) _mm256_storeu_ps(dst + (p + q) * kMr, _mm256_mul_ps(r[q], valpha));
        }
        for (; p < kc; ++p)
            for (int ii = 0; ii < kMr; ++ii) dst[p * kMr + ii] = ii < mr ? alpha * src[offset(ii, lda) + p] : 0.0f;
    }
}

// A transposed (stored k x m, rows contiguous in m): each sliver row is 6 consecutive floats.
void pack_at_6_avx2(const float* a, int lda, int mc, int kc, float alpha, float* dst) {
    const __m128 valpha = _mm_set1_ps(alpha);
    for (int i = 0; i < mc; i += kMr, dst += std::size_t(kc) * kMr) {
        const int mr = std::min(kMr, mc - i);
        const float* src = a + i;
        if (mr == kMr) {
            for (int p = 0; p < kc; ++p) {
                const float* row = src + offset(p, lda);
                // 4 + 2 floats: never reads past the 6 that belong to this sliver.
                const __m128 head = _mm_loadu_ps(row);
                // memcpy, not a double* load: row + 4 need not be 8-byte aligned (compiles to movsd).
                double tail_bits;
                std::memcpy(&tail_bits, row + 4, sizeof tail_bits);
                const __m128 tail = _mm_mul_ps(_mm_castpd_ps(_mm_set_sd(tail_bits)), valpha);
                _mm_storeu_ps(dst + p * kMr, _mm_mul_ps(head, valpha));
                tail_bits = _mm_cvtsd_f64(_mm_castps_pd(tail));
                std::memcpy(dst + p * kMr + 4, &tail_bits, sizeof tail_bits);
            }
        } else {
            for (int p = 0; p < kc; ++p)
                for (int ii = 0; ii < kMr; ++ii) dst[p * kMr + ii] = ii < mr ? alpha * src[offset(p, lda) + ii] : 0.0f;
        }
    }
}

// C row <- acc + beta * C row (alpha is already folded into the packed A). beta == 0 must not read
// C, which may hold NaN.
inline void update_row(float* c, __m256 acc0, __m256 acc1, float beta) {
    if (beta == 1.0f) {
        acc0 = _mm256_add_ps(acc0, _mm256_loadu_ps(c));
        acc1 = _mm256_add_ps(acc1, _mm256_loadu_ps(c + 8));
    } else if (beta != 0.0f) {
        const __m256 vbeta = _mm256_set1_ps(beta);
        acc0 = _mm256_fmadd_ps(vbeta, _mm256_loadu_ps(c), acc0);
        acc1 = _mm256_fmadd_ps(vbeta, _mm256_loadu_ps(c + 8), acc1);
    }
    _mm256_storeu_ps(c, acc0);
    _mm256_storeu_ps(c + 8, acc1);
}

// The same for the first nr columns only (lo/hi masks); masked-off lanes are neither read nor written.
inline void update_row_masked(float* c, __m256 acc0, __m256 acc1, float beta, __m256i lo, __m256i hi) {
    if (beta != 0.0f) {
        const __m256 vbeta = _mm256_set1_ps(beta);
        acc0 = _mm256_fmadd_ps(vbeta, _mm256_maskload_ps(c, lo), acc0);
        acc1 = _mm256_fmadd_ps(vbeta, _mm256_maskload_ps(c + 8, hi), acc1);
    }
    _mm256_maskstore_ps(c, lo, acc0);
    _mm256_maskstore_ps(c + 8, hi, acc1);
}

// C[rows x nr] = Ap * Bp + beta * C for one tile of up to 6x16: Ap is a packed 6-row sliver (of which
// the first Rows are used), Bp a packed 16-column sliver, both kc long and zero-padded. Rows < 6
// serves the bottom edge of C without spending FMAs on padding rows. Kept out of line: inlining six
// instantiations into the block loops only bloats them (measured: no faster).
template <int Rows>
[[gnu::noinline]] void sgemm_kernel_rx16_avx2(int kc, const float* __restrict ap, const float* __restrict bp,
                                              float* c, int ldc, float beta, int nr) {
    // Pull the C tile in while the FMAs run; it is only touched at the end.
    if (beta != 0.0f)
        for (int r = 0; r < Rows; ++r) {
            _mm_prefetch(reinterpret_cast<const char*>(c + offset(r, ldc)), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char*>(c + offset(r, ldc) + kNr - 1), _MM_HINT_T0);
        }

    __m256 acc[Rows][2];
#pragma GCC unroll 6
    for (int r = 0; r < Rows; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();

#pragma GCC unroll 4
    for (int p = 0; p < kc; ++p) {
        const __m256 b0 = _mm256_load_ps(bp);
        const __m256 b1 = _mm256_load_ps(bp + 8);
#pragma GCC unroll 6
        for (int r = 0; r < Rows; ++r) {
            const __m256 a = _mm256_broadcast_ss(ap + r);
            acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);
        }
        ap += kMr;
        bp += kNr;
    }

    if (nr == kNr) {
#pragma GCC unroll 6
        for (int r = 0; r < Rows; ++r) update_row(c + offset(r, ldc), acc[r][0], acc[r][1], beta);
    } else {
        const __m256i lo = lane_mask(nr), hi = lane_mask(nr - 8);
#pragma GCC unroll 6
        for (int r = 0; r < Rows; ++r) update_row_masked(c + offset(r, ldc), acc[r][0], acc[r][1], beta, lo, hi);
    }
}

// One 6x16 tile of C, of which mr x nr exist. The full tile (the hot path) keeps 12 ymm accumulators
// and issues 2 B loads and 6 broadcasts per 12 FMAs.
void sgemm_kernel_6x16_avx2(int kc, const float* ap, const float* bp, float* c, int ldc, float beta, int mr, int nr) {
    switch (mr) {
        case 6: return sgemm_kernel_rx16_avx2<6>(kc, ap, bp, c, ldc, beta, nr);
        case 5: return sgemm_kernel_rx16_avx2<5>(kc, ap, bp, c, ldc, beta, nr);
        case 4: return sgemm_kernel_rx16_avx2<4>(kc, ap, bp, c, ldc, beta, nr);
        case 3: return sgemm_kernel_rx16_avx2<3>(kc, ap, bp, c, ldc, beta, nr);
        case 2: return sgemm_kernel_rx16_avx2<2>(kc, ap, bp, c, ldc, beta, nr);
        default: return sgemm_kernel_rx16_avx2<1>(kc, ap, bp, c, ldc, beta, nr);
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

void gemm_avx2(const GemmArgs& g) {
    if (g.m <= 0 || g.n <= 0) return;
    if (g.k <= 0) return scale_c(g);

    const int mc_block = balanced_block(g.m, kMc, kMr);
    // A multiple of 8 keeps the transposing packers off their scalar tail except in the last k block.
    const int kc_block = balanced_block(g.k, kKc, 8);
    const int nc_block = balanced_block(g.n, kNc, kNr);
    const std::size_t kc_max = std::size_t(std::min(kc_block, g.k));
    float* packed_a = packed_a_buffer.reserve(std::size_t(mc_block) * kc_max + kSlack);
    float* packed_b = packed_b_buffer.reserve(std::size_t(nc_block) * kc_max + kSlack);

    for (int jc = 0; jc < g.n; jc += nc_block) {
        const int nc = std::min(nc_block, g.n - jc);
        for (int pc = 0; pc < g.k; pc += kc_block) {
            const int kc = std::min(kc_block, g.k - pc);
            // Later k blocks accumulate onto what the first one wrote.
            const float beta = pc == 0 ? g.beta : 1.0f;
            if (g.trans_b)
                pack_bt_16_avx2(g.b + offset(jc, g.ldb) + pc, g.ldb, kc, nc, packed_b);
            else
                pack_b_16_avx2(g.b + offset(pc, g.ldb) + jc, g.ldb, kc, nc, packed_b);

            for (int ic = 0; ic < g.m; ic += mc_block) {
                const int mc = std::min(mc_block, g.m - ic);
                if (g.trans_a)
                    pack_at_6_avx2(g.a + offset(pc, g.lda) + ic, g.lda, mc, kc, g.alpha, packed_a);
                else
                    pack_a_6_avx2(g.a + offset(ic, g.lda) + pc, g.lda, mc, kc, g.alpha, packed_a);

                // The B sliver stays in L1 while every A sliver of the block streams past it.
                for (int jr = 0; jr < nc; jr += kNr) {
                    const int nr = std::min(kNr, nc - jr);
                    const float* bp = packed_b + std::size_t(jr) * kc;
                    float* c_col = g.c + jc + jr;
                    for (int ir = 0; ir < mc; ir += kMr) {
                        const int mr = std::min(kMr, mc - ir);
                        sgemm_kernel_6x16_avx2(kc, packed_a + std::size_t(ir) * kc, bp,
                                               c_col + offset(ic + ir, g.ldc), g.ldc, beta, mr, nr);
                    }
                }
            }
        }
    }
}


// A's blocks as gemm_avx2 packs them (mc x kc, the same block sizes: the same sums in the same
// order), row block by row block, each followed by the packers' slack.
void gemm_pack_a_avx2(const float* a, int m, int k, int lda, PackedGemmA& packed) {
    packed.m = m;
    packed.k = k;
    packed.blocks.clear();
    packed.data.clear();
    if (m <= 0 || k <= 0) return;
    const int mc_block = balanced_block(m, kMc, kMr), kc_block = balanced_block(k, kKc, 8);
    std::size_t total = 0;
    for (int ic = 0; ic < m; ic += mc_block)
        for (int pc = 0; pc < k; pc += kc_block) {
            packed.blocks.push_back(total);
            total += std::size_t(round_up(std::min(mc_block, m - ic), kMr)) * std::size_t(std::min(kc_block, k - pc)) + kSlack;
        }
    packed.data.assign(total, 0.0f);
    std::size_t block = 0;
    for (int ic = 0; ic < m; ic += mc_block)
        for (int pc = 0; pc < k; pc += kc_block)
            pack_a_6_avx2(a + offset(ic, lda) + pc, lda, std::min(mc_block, m - ic), std::min(kc_block, k - pc), 1.0f,
                          packed.data.data() + packed.blocks[block++]);
}

int gemm_packed_a_row_blocks_avx2(const PackedGemmA& a) {
    if (a.m <= 0) return 0;
    const int mc_block = balanced_block(a.m, kMc, kMr);
    return (a.m + mc_block - 1) / mc_block;
}

void gemm_packed_a_part_avx2(const PackedGemmA& a, const GemmArgs& g, int first_block, int last_block,
                             int first_column, int last_column) {
    if (g.m <= 0 || last_column <= first_column || first_block >= last_block) return;
    const int mc_block = balanced_block(a.m, kMc, kMr);
    const int n = last_column - first_column;
    if (g.k <= 0) {
        GemmArgs part = g;
        part.m = std::min(g.m, last_block * mc_block) - first_block * mc_block;
        part.c = g.c + offset(first_block * mc_block, g.ldc) + first_column;
        part.n = n;
        return scale_c(part);
    }
    const int kc_block = balanced_block(a.k, kKc, 8);
    const int k_blocks = (a.k + kc_block - 1) / kc_block;
    const int nc_block = balanced_block(n, kNc, kNr);
    const std::size_t kc_max = std::size_t(std::min(kc_block, g.k));
    float* packed_b = packed_b_buffer.reserve(std::size_t(nc_block) * kc_max + kSlack);
    for (int jc = first_column; jc < last_column; jc += nc_block) {
        const int nc = std::min(nc_block, last_column - jc);
        for (int pc = 0, kb = 0; pc < g.k; pc += kc_block, ++kb) {
            const int kc = std::min(kc_block, g.k - pc);
            const float beta = pc == 0 ? g.beta : 1.0f;
            if (g.trans_b)
                pack_bt_16_avx2(g.b + offset(jc, g.ldb) + pc, g.ldb, kc, nc, packed_b);
            else
                pack_b_16_avx2(g.b + offset(pc, g.ldb) + jc, g.ldb, kc, nc, packed_b);
            for (int ib = first_block; ib < last_block; ++ib) {
                const int ic = ib * mc_block, mc = std::min(mc_block, g.m - ic);
                const float* packed_a = a.data.data() + a.blocks[std::size_t(ib) * std::size_t(k_blocks) + std::size_t(kb)];
                for (int jr = 0; jr < nc; jr += kNr) {
                    const int nr = std::min(kNr, nc - jr);
                    const float* bp = packed_b + std::size_t(jr) * kc;
                    float* c_col = g.c + jc + jr;
                    for (int ir = 0; ir < mc; ir += kMr) {
                        const int mr = std::min(kMr, mc - ir);
                        sgemm_kernel_6x16_avx2(kc, packed_a + std::size_t(ir) * kc, bp,
                                               c_col + offset(ic + ir, g.ldc), g.ldc, beta, mr, nr);
                    }
                }
            }
        }
    }
}

}  // namespace lenet::kernels
