// What the vector SGEMM drivers share whatever their ISA: per-thread packing storage and the
// block sizes that split an extent into nearly equal cache blocks.
#pragma once
#include <algorithm>
#include <cstddef>
#include <new>

namespace lenet::kernels::gemm_blocking {

// Per-thread packing storage, grown to the largest panel seen and then reused (the kernel runs on
// several threads at once and must not hit the allocator on every call).
class PackBuffer {
public:
    PackBuffer() = default;
    PackBuffer(const PackBuffer&) = delete;
    PackBuffer& operator=(const PackBuffer&) = delete;
    ~PackBuffer() { release(); }

    float* reserve(std::size_t floats) {
        if (floats > capacity_) {
            release();
            data_ = static_cast<float*>(::operator new(floats * sizeof(float), std::align_val_t{64}));
            capacity_ = floats;
        }
        return data_;
    }

private:
    void release() {
        if (data_) ::operator delete(data_, std::align_val_t{64});
        data_ = nullptr;
        capacity_ = 0;
    }

    float* data_ = nullptr;
    std::size_t capacity_ = 0;
};

inline std::size_t offset(int row, int stride) { return std::size_t(row) * std::size_t(stride); }

inline int round_up(int value, int multiple) { return (value + multiple - 1) / multiple * multiple; }

// The largest block, a multiple of `multiple` and at most `max_block`, that splits `extent` into
// nearly equal blocks.
inline int balanced_block(int extent, int max_block, int multiple) {
    const int blocks = (extent + max_block - 1) / max_block;
    return std::min(max_block, round_up((extent + blocks - 1) / blocks, multiple));
}

}  // namespace lenet::kernels::gemm_blocking
