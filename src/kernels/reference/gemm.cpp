#include "kernels/gemm/gemm.h"

#include "core/error.h"
#include "kernels/parallel.h"

#include <cstddef>

namespace lenet::kernels {

void gemm_reference(const GemmArgs& g) {
    auto at = [&](int i, int p) { return g.trans_a ? g.a[std::size_t(p) * g.lda + i] : g.a[std::size_t(i) * g.lda + p]; };
    auto bt = [&](int p, int j) { return g.trans_b ? g.b[std::size_t(j) * g.ldb + p] : g.b[std::size_t(p) * g.ldb + j]; };
    for (int i = 0; i < g.m; ++i) {
        float* c_row = g.c + std::size_t(i) * g.ldc;
        for (int j = 0; j < g.n; ++j) c_row[j] = g.beta == 0.0f ? 0.0f : g.beta * c_row[j];
        for (int p = 0; p < g.k; ++p) {
            const float a_ip = g.alpha * at(i, p);
            if (!g.trans_b) {
                const float* b_row = g.b + std::size_t(p) * g.ldb;
                for (int j = 0; j < g.n; ++j) c_row[j] += a_ip * b_row[j];
            } else {
                for (int j = 0; j < g.n; ++j) c_row[j] += a_ip * bt(p, j);
            }
        }
    }
}


void gemm_pack_a_reference(const float* a, int m, int k, int lda, PackedGemmA& packed) {
    packed.m = m;
    packed.k = k;
    packed.data.resize(std::size_t(m) * std::size_t(k));
    packed.blocks.assign(1, 0);
    for (int i = 0; i < m; ++i)
        for (int p = 0; p < k; ++p) packed.data[std::size_t(i) * std::size_t(k) + std::size_t(p)] = a[std::size_t(i) * std::size_t(lda) + std::size_t(p)];
}

void gemm_packed_a_reference(const Compute& compute, const PackedGemmA& a, const GemmArgs& args) {
    LENET_CHECK(!args.trans_a && args.alpha == 1.0f && args.m == a.m && args.k == a.k, "gemm_packed_a: a ", a.m, "x", a.k,
                " A for a ", args.m, "x", args.k, " product");
    GemmArgs g = args;
    g.a = a.data.data();
    g.lda = a.k;
    parallel::gemm<gemm_reference>(compute, g);
}

}  // namespace lenet::kernels
