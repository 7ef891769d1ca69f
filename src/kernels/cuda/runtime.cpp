// Device discovery, the stream and cuBLAS handle, managed memory and the scratch buffers.
#include "kernels/cuda/runtime.h"

#include <array>
#include <mutex>

#include "core/error.h"
#include "core/tensor.h"
#include "kernels/cuda/cuda.h"

namespace lenet::kernels::cuda {

void check(cudaError_t status, const char* what) {
    if (status != cudaSuccess) throw Error(cat("cuda: ", what, ": ", cudaGetErrorName(status), " (", cudaGetErrorString(status), ")"));
}

void check(cublasStatus_t status, const char* what) {
    if (status != CUBLAS_STATUS_SUCCESS) throw Error(cat("cuda: ", what, ": ", cublasGetStatusString(status)));
}

bool devices_usable(int status, int count) { return status == 0 && count > 0; }

namespace {

struct Probe {
    cudaError_t status = cudaSuccess;
    int count = 0;
};

// cudaGetDeviceCount once: without a driver it fails (cudaErrorInsufficientDriver or
// cudaErrorNoDevice), which only means "not available". The sticky error it may leave is cleared.
const Probe& probe() {
    static const Probe result = [] {
        Probe p;
        p.status = cudaGetDeviceCount(&p.count);
        if (p.status != cudaSuccess) {
            p.count = 0;
            (void)cudaGetLastError();
        }
        return p;
    }();
    return result;
}

}  // namespace

int device_count() { return devices_usable(int(probe().status), probe().count) ? probe().count : 0; }

bool available() { return device_count() > 0; }

std::string unavailable_reason() {
    if (available()) return {};
    if (probe().status != cudaSuccess)
        return cat("no CUDA device (cudaGetDeviceCount: ", cudaGetErrorName(probe().status), ", ",
                   cudaGetErrorString(probe().status), ")");
    return "no CUDA device (cudaGetDeviceCount found none)";
}

namespace {
int selected_device = 0;  // select_device's; each host thread that issues ops makes it current
}  // namespace

void select_device(int index) {
    if (!available()) throw Error(unavailable_reason());
    if (index < 0 || index >= device_count())
        throw Error(cat("no device ", index, ": expected a device from 0 to ", device_count() - 1));
    check(cudaSetDevice(index), "cudaSetDevice");
    selected_device = index;
    int pageable = 0;
    check(cudaDeviceGetAttribute(&pageable, cudaDevAttrPageableMemoryAccess, index), "cudaDeviceGetAttribute");
    if (!pageable) {
        cudaDeviceProp prop{};
        check(cudaGetDeviceProperties(&prop, index), "cudaGetDeviceProperties");
        throw Error(cat("device ", index, " (", prop.name,
                        ") cannot address host memory (no HMM/ATS: pageableMemoryAccess is 0); the cuda backend "
                        "reads layers' parameters in place and needs it"));
    }
}

namespace {

struct Context {
    cudaStream_t stream = nullptr;
    cublasHandle_t blas = nullptr;
    std::array<void*, 4> scratch{};
    std::array<std::size_t, 4> scratch_bytes{};
    Context() {
        check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
        check(cublasCreate(&blas), "cublasCreate");
        check(cublasSetStream(blas, stream), "cublasSetStream");
        // Plain fp32 (no TF32): the GEMMs match the CPU backends within float rounding.
        check(cublasSetMathMode(blas, CUBLAS_PEDANTIC_MATH), "cublasSetMathMode");
    }
};

// The current device is per host thread: the one that issues an op may be a pool worker.
void use_selected_device() {
    thread_local int current = -1;
    if (current != selected_device) {
        check(cudaSetDevice(selected_device), "cudaSetDevice");
        current = selected_device;
    }
}

Context& context() {
    use_selected_device();
    // Never destroyed: at process exit the driver reclaims everything, and a static destructor
    // could run after the runtime has unloaded.
    static Context* c = new Context();
    return *c;
}

}  // namespace

cudaStream_t stream() { return context().stream; }
cublasHandle_t blas() { return context().blas; }

void finish(const char* op) {
    check(cudaGetLastError(), op);
    check(cudaStreamSynchronize(stream()), op);
}

void* scratch(int slot, std::size_t bytes) {
    Context& c = context();
    const std::size_t i = std::size_t(slot);
    if (c.scratch_bytes.at(i) < bytes) {
        check(cudaStreamSynchronize(c.stream), "scratch");
        if (c.scratch[i]) check(cudaFree(c.scratch[i]), "cudaFree");
        c.scratch[i] = nullptr;
        c.scratch_bytes[i] = 0;
        check(cudaMalloc(&c.scratch[i], bytes), "cudaMalloc (scratch)");
        c.scratch_bytes[i] = bytes;
    }
    return c.scratch[i];
}

namespace {

// cudaMallocManaged: the same pointer on host and device, pages migrating on use. Zeroed with
// cudaMemset (on the device, where the kernels will touch it first).
class ManagedMemory final : public TensorMemory {
public:
    Device device() const override { return Device::cuda_managed; }
    float* allocate(std::size_t floats) const override {
        use_selected_device();
        void* data = nullptr;
        check(cudaMallocManaged(&data, floats * sizeof(float)), "cudaMallocManaged");
        check(cudaMemset(data, 0, floats * sizeof(float)), "cudaMemset");
        check(cudaDeviceSynchronize(), "cudaMemset");
        return static_cast<float*>(data);
    }
    void release(float* data, std::size_t) const noexcept override { (void)cudaFree(data); }
};

}  // namespace

const TensorMemory& managed_memory() {
    static const ManagedMemory memory;
    return memory;
}

}  // namespace lenet::kernels::cuda
