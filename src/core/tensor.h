// A batch of NCHW activations (or gradients, or scratch) and where its memory lives. The network
// plans every tensor once when it is built; layers compute on raw float* from data(). A tensor
// either owns zeroed storage or views memory owned elsewhere (the inference plan's shared slots,
// where an activation reuses the memory of one that no later layer reads).
#pragma once
#include <cstddef>
#include <limits>
#include <vector>

#include "core/error.h"
#include "core/shape.h"

namespace lenet {

// Which device holds a tensor's memory. Only the CPU for now; a CUDA backend adds its own.
enum class Device { cpu };

inline const char* device_name(Device device) {
    switch (device) {
    case Device::cpu: return "cpu";
    }
    return "?";
}

class Tensor {
public:
    Tensor() = default;
    // n samples of `shape`, owned and zeroed.
    Tensor(int n, Shape shape, Device device = Device::cpu)
        : storage_(std::size_t(n) * shape.size(), 0.0f), n_(n), shape_(shape), device_(device) {
        data_ = storage_.empty() ? nullptr : storage_.data();
    }
    // `floats` values without a shape (workspaces): n = 1, c = floats.
    static Tensor flat(std::size_t floats, Device device = Device::cpu) {
        LENET_CHECK(floats <= std::size_t(std::numeric_limits<int>::max()), "a flat tensor of ", floats,
                    " floats is too large");
        return Tensor(1, Shape{int(floats), 1, 1}, device);
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
    Tensor(Tensor&&) noexcept = default;
    Tensor& operator=(Tensor&&) noexcept = default;
    Tensor(const Tensor&) = delete;
    Tensor& operator=(const Tensor&) = delete;

    int n() const { return n_; }
    int c() const { return shape_.c; }
    int h() const { return shape_.h; }
    int w() const { return shape_.w; }
    Shape sample_shape() const { return shape_; }
    std::size_t size() const { return std::size_t(n_) * shape_.size(); }
    bool empty() const { return size() == 0; }
    Device device() const { return device_; }
    bool owns_memory() const { return !storage_.empty(); }

    // Null when empty.
    float* data() { return data_; }
    const float* data() const { return data_; }

private:
    std::vector<float> storage_;  // empty for views (moving a vector keeps data_ valid)
    float* data_ = nullptr;
    int n_ = 0;
    Shape shape_;
    Device device_ = Device::cpu;
};

}  // namespace lenet
