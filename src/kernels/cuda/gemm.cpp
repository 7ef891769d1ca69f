// Row-major GemmArgs on column-major cuBLAS: a row-major C[m x n] is the column-major C^T, and
// C^T = op(B)^T * op(A)^T, so the call swaps the operands (and m with n) and keeps each one's
// transpose flag. beta == 0: cuBLAS does not read C, as GemmArgs promises.
#include <cstddef>

#include "kernels/cuda/kernels.h"
#include "kernels/cuda/runtime.h"

namespace lenet::kernels::cuda {

void gemm(const GemmArgs& g) {
    if (g.m <= 0 || g.n <= 0) return;
    if (g.k <= 0) {
        // An empty product: C = beta * C, and beta == 0 writes zeros without reading C.
        if (g.beta == 0.0f) {
            check(cudaMemset2DAsync(g.c, std::size_t(g.ldc) * sizeof(float), 0, std::size_t(g.n) * sizeof(float),
                                    std::size_t(g.m), stream()),
                  "gemm (k = 0)");
        } else {
            const float zero = 0.0f;
            check(cublasSgeam(blas(), CUBLAS_OP_N, CUBLAS_OP_N, g.n, g.m, &g.beta, g.c, g.ldc, &zero, g.c, g.ldc, g.c,
                              g.ldc),
                  "gemm (k = 0)");
        }
        return finish("gemm");
    }
    const cublasOperation_t op_a = g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
    const cublasOperation_t op_b = g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
    check(cublasSgemm(blas(), op_b, op_a, g.n, g.m, g.k, &g.alpha, g.b, g.ldb, g.a, g.lda, &g.beta, g.c, g.ldc), "gemm");
    finish("gemm");
}

}  // namespace lenet::kernels::cuda
