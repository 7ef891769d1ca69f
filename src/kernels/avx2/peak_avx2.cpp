#include <immintrin.h>

#include <chrono>

#include "kernels/avx2/avx2.h"
#include "kernels/peak.h"

namespace lenet::kernels {

double measure_core_peak_gflops_avx2() {
    // 12 independent accumulators cover the FMA latency x throughput of current x86 cores.
    __m256 acc[12];
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(float(i) * 1e-3f);
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    constexpr long kRounds = 1 << 20;
    double best = 0;
    for (int repeat = 0; repeat < 5; ++repeat) {
        const auto start = std::chrono::steady_clock::now();
        for (long r = 0; r < kRounds; ++r)
            for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        best = std::max(best, double(kRounds) * 12 * 16 / seconds / 1e9);
    }
    __m256 sum = acc[0];
    for (int i = 1; i < 12; ++i) sum = _mm256_add_ps(sum, acc[i]);
    volatile float sink = _mm256_cvtss_f32(sum);  // keeps the loop from being optimised away
    (void)sink;
    return best;
}

}  // namespace lenet::kernels
