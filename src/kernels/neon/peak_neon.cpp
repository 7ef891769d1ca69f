#include <arm_neon.h>

#include <algorithm>
#include <chrono>

#include "kernels/neon/neon.h"

namespace lenet::kernels {

double measure_core_peak_gflops_neon() {
    // 12 independent accumulators cover the FMA latency x throughput of current ARM cores
    // (Cortex-A72: latency 7, two FMA pipes).
    float32x4_t acc[12];
    for (int i = 0; i < 12; ++i) acc[i] = vdupq_n_f32(float(i) * 1e-3f);
    const float32x4_t a = vdupq_n_f32(0.999999f), b = vdupq_n_f32(1e-7f);
    constexpr long kRounds = 1 << 18;
    double best = 0;
    for (int repeat = 0; repeat < 3; ++repeat) {
        const auto start = std::chrono::steady_clock::now();
        for (long r = 0; r < kRounds; ++r)
            for (int i = 0; i < 12; ++i) acc[i] = vfmaq_f32(b, acc[i], a);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        best = std::max(best, double(kRounds) * 12 * 8 / seconds / 1e9);
    }
    float32x4_t sum = acc[0];
    for (int i = 1; i < 12; ++i) sum = vaddq_f32(sum, acc[i]);
    volatile float sink = vaddvq_f32(sum);  // keeps the loop from being optimised away
    (void)sink;
    return best;
}

}  // namespace lenet::kernels
