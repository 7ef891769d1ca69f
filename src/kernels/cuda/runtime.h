// What the cuda kernels share: the stream they run on, the cuBLAS handle, error checks and a
// growable device scratch. Host code only (compiled by nvcc for the .cu files and by the C++
// compiler for the rest).
#pragma once
#include <cstddef>

#include <cublas_v2.h>
#include <cuda_runtime.h>

namespace lenet::kernels::cuda {

// Throws Error naming `what` and the runtime's message when `status` is not cudaSuccess.
void check(cudaError_t status, const char* what);
void check(cublasStatus_t status, const char* what);

cudaStream_t stream();
cublasHandle_t blas();

// Every op ends here: launch errors are reported with the op's name, and the op has finished
// when it returns (host code, a reference kernel or the loss, may read its output at once).
void finish(const char* op);

// Device memory of at least `bytes`, reused across calls on the backend's one stream (grown, never
// shrunk); `slot` keeps buffers that one op needs at once apart.
void* scratch(int slot, std::size_t bytes);

// Threads per block for the elementwise kernels, and blocks to cover n items.
constexpr int kThreads = 256;
inline unsigned blocks_for(std::size_t n) {
    const std::size_t blocks = (n + kThreads - 1) / kThreads;
    return unsigned(blocks < 65535u * 32u ? (blocks > 0 ? blocks : 1) : 65535u * 32u);
}

}  // namespace lenet::kernels::cuda
