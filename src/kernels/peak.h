// The machine's single-core float peak, measured, for "percent of peak" in `lenet bench` (each
// backend's table has its own: Ops::core_peak_gflops).
#pragma once

namespace lenet::kernels {

// GFLOP/s of one core running independent scalar FMA chains (measured over ~50 ms; a multiply-add
// counts as two FLOPs): what the reference kernels can reach at best.
double measure_core_peak_gflops_scalar();

}  // namespace lenet::kernels
