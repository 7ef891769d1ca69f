// A batch of NCHW activations (or gradients, or scratch) and where its memory lives. The network
// plans every tensor once when it is built; layers compute on raw float* from data(). A tensor
// either owns zeroed storage or views memory owned elsewhere (the inference plan's shared slots,
// where an activation reuses the memory of one that no later layer reads).
//
// Owned storage comes from a TensorMemory: the host heap by default, or what the bound backend
// supplies (the cuda backend's is CUDA managed memory, which host code and kernels both address,
// so a loss read or a checkpoint written on the host needs no copy, only the backend's sync).
#pragma once
#include <cstddef>
#include <cstring>
#include <limits>
#include <new>
#include <utility>

#include "core/error.h"
#include "core/shape.h"

namespace lenet {

// Which device holds a tensor's memory: the host, or CUDA managed memory (host and device).
enum class Device { cpu, cuda_managed };

inline const char* device_name(Device device) {
    switch (device) {
    case Device::cpu: return "cpu";
    case Device::cuda_managed: return "cuda_managed";
    }
    return "?";
}

// An allocator of tensor storage. allocate returns zeroed memory for `floats` values (never null
// for floats > 0) or throws; release takes back what allocate gave, with the same count.
class TensorMemory {
public:
    virtual ~TensorMemory() = default;
    virtual Device device() const = 0;
    virtual float* allocate(std::size_t floats) const = 0;
    virtual void release(float* data, std::size_t floats) const noexcept = 0;
};

// The host heap (operator new, 64-byte aligned for the vector kernels).
class HostMemory final : public TensorMemory {
public:
    Device device() const override { return Device::cpu; }
    float* allocate(std::size_t floats) const override {
        auto* data = static_cast<float*>(::operator new(floats * sizeof(float), std::align_val_t{64}));
        std::memset(data, 0, floats * sizeof(float));
        return data;
    }
    void release(float* data, std::size_t) const noexcept override { ::operator delete(data, std::align_val_t{64}); }
};

inline const TensorMemory& host_memory() {
    static const HostMemory memory;
    return memory;
}

class Tensor {
public:
    Tensor() = default;
    // n samples of `shape`, owned and zeroed, from `memory`.
    Tensor(int n, Shape shape, const TensorMemory& memory = host_memory())
        : n_(n), shape_(shape), device_(memory.device()) {
        const std::size_t floats = size();
        if (floats == 0) return;
        data_ = memory.allocate(floats);
        memory_ = &memory;
    }
    // `floats` values without a shape (workspaces): n = 1, c = floats.
    static Tensor flat(std::size_t floats, const TensorMemory& memory = host_memory()) {
        LENET_CHECK(floats <= std::size_t(std::numeric_limits<int>::max()), "a flat tensor of ", floats,
                    " floats is too large");
        return Tensor(1, Shape{int(floats), 1, 1}, memory);
    }
    // n samples of `shape` in memory owned by someone else (at least n * shape.size() floats).
    static Tensor view(float* data, int n, Shape shape, Device device = Device::cpu) {
        Tensor t;
        t.data_ = data;
        t.n_ = n;
        t.shape_ = shape;
        t.device_ = device;
        return t;
    }

    // Move-only: a copy would have to decide whether to share a view's memory.
    Tensor(Tensor&& other) noexcept { swap(other); }
    Tensor& operator=(Tensor&& other) noexcept {
        if (this != &other) {
            Tensor gone(std::move(*this));
            swap(other);
        }
        return *this;
    }
    Tensor(const Tensor&) = delete;
    Tensor& operator=(const Tensor&) = delete;
    ~Tensor() {
        if (memory_) memory_->release(data_, size());
    }

    int n() const { return n_; }
    int c() const { return shape_.c; }
    int h() const { return shape_.h; }
    int w() const { return shape_.w; }
    Shape sample_shape() const { return shape_; }
    std::size_t size() const { return std::size_t(n_) * shape_.size(); }
    bool empty() const { return size() == 0; }
    Device device() const { return device_; }
    bool owns_memory() const { return memory_ != nullptr; }

    // Null when empty.
    float* data() { return data_; }
    const float* data() const { return data_; }

private:
    void swap(Tensor& other) noexcept {
        std::swap(data_, other.data_);
        std::swap(memory_, other.memory_);
        std::swap(n_, other.n_);
        std::swap(shape_, other.shape_);
        std::swap(device_, other.device_);
    }

    float* data_ = nullptr;
    const TensorMemory* memory_ = nullptr;  // null for views and empty tensors
    int n_ = 0;
    Shape shape_;
    Device device_ = Device::cpu;
};

}  // namespace lenet
