#include "kernels/gemm/gemm.h"

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

}  // namespace lenet::kernels
