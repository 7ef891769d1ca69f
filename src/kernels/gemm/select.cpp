#include <cstddef>

#include "core/thread_pool.h"
#include "kernels/gemm/gemm.h"

namespace lenet::kernels {

void gemm_single(Backend backend, const GemmArgs& args) {
    if (args.m <= 0 || args.n <= 0) return;
#ifdef LENET_HAVE_AVX2
    if (backend == Backend::avx2) return gemm_avx2(args);
#endif
    (void)backend;
    gemm_reference(args);
}

void gemm(const Compute& compute, const GemmArgs& args) {
    const int threads = compute.pool ? compute.pool->size() : 1;
    // Small products are not worth waking the workers.
    const double work = double(args.m) * args.n * args.k;
    if (threads == 1 || work < 64.0 * 1024) return gemm_single(compute.backend, args);

    const bool split_rows = args.m >= args.n;
    const int extent = split_rows ? args.m : args.n;
    compute.pool->parallel_for(std::size_t(extent), [&](std::size_t begin, std::size_t end, int) {
        GemmArgs part = args;
        const int first = int(begin), count = int(end - begin);
        if (split_rows) {
            part.m = count;
            part.a = args.trans_a ? args.a + first : args.a + std::size_t(first) * args.lda;
            part.c = args.c + std::size_t(first) * args.ldc;
        } else {
            part.n = count;
            part.b = args.trans_b ? args.b + std::size_t(first) * args.ldb : args.b + first;
            part.c = args.c + first;
        }
        gemm_single(compute.backend, part);
    });
}

}  // namespace lenet::kernels
