// What the vector channels-last pooled convolution backward kernels share whatever their ISA: the
// live terms. Only a pool window's winner with a nonzero gradient (relu leaves many zeros) adds
// anything, so each filter's terms are gathered first as values and image offsets, and the kernels
// then sum rows of the channels-last image and the filter at those offsets.
#pragma once
#include <bit>
#include <cstdint>

#include "kernels/ops/channels_last.h"

namespace lenet::kernels {

class PooledTerms {
public:
    // In `scratch` (pooled_conv_scratch_floats(s) floats): values, offsets (int32 bit-cast to float)
    // and each output position's window offset, formed here once without a division per term.
    PooledTerms(const PooledConvShape& s, float* scratch)
        : shape_(s), values_(scratch), offsets_(scratch + s.pooled), window_at_(scratch + 2 * std::size_t(s.pooled)) {
        const ConvGeometry& g = s.conv;
        for (int y = 0, q = 0; y < g.out_h(); ++y)
            for (int x = 0; x < g.out_w(); ++x, ++q)
                window_at_[q] = std::bit_cast<float>((y * g.stride) * row_stride() + (x * g.stride) * g.channels);
    }

    // Floats from one image row to the next in the padded channels-last image.
    int row_stride() const { return (shape_.conv.width + 2 * shape_.conv.pad) * shape_.conv.channels; }

    // Gathers filter f's live terms; returns their count.
    int gather(int f, const float* delta, const std::int32_t* argmax) {
        const int spatial = shape_.conv.out_h() * shape_.conv.out_w();
        int terms = 0;
        for (int o = 0; o < shape_.pooled; ++o) {
            const std::size_t i = std::size_t(f) * shape_.pooled + o;
            if (argmax[i] < 0 || delta[i] == 0.0f) continue;
            values_[terms] = delta[i];
            offsets_[terms] = window_at_[argmax[i] - f * spatial];
            ++terms;
        }
        return terms;
    }

    float value(int t) const { return values_[t]; }
    std::int32_t offset(int t) const { return std::bit_cast<std::int32_t>(offsets_[t]); }
    const float* values() const { return values_; }
    const float* offsets() const { return offsets_; }  // bit-cast int32

private:
    PooledConvShape shape_;
    float* values_;
    float* offsets_;
    float* window_at_;
};

}  // namespace lenet::kernels
