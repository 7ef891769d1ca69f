// The machine's single-core float peak, measured, for "percent of peak" in `lenet bench`.
#pragma once

namespace lenet::kernels {

// GFLOP/s of one core running independent FMA chains with the widest vectors of `backend`
// (measured over ~50 ms; a multiply-add counts as two FLOPs).
double measure_core_peak_gflops(bool avx2);
double measure_core_peak_gflops_avx2();

}  // namespace lenet::kernels
