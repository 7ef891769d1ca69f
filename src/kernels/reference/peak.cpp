#include "kernels/peak.h"

#include <algorithm>
#include <chrono>

namespace lenet::kernels {

double measure_core_peak_gflops_scalar() {
    float acc[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    constexpr long kRounds = 1 << 22;
    const auto start = std::chrono::steady_clock::now();
    for (long r = 0; r < kRounds; ++r)
        for (float& x : acc) x = x * 0.999999f + 1e-7f;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    volatile float sink = acc[0] + acc[7];
    (void)sink;
    return double(kRounds) * 8 * 2 / seconds / 1e9;
}

}  // namespace lenet::kernels
