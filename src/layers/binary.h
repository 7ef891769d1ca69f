// What binary (BWN and XNOR) convolutional and connected layers share: the mode their cfg keys
// select, and the state of their binarized weights (DESIGN.md §4). The layers differ only in how
// their packed signs are laid out (PackedFilters vs PackedRows) and in where the per-position scale
// comes from (K map or beta per sample).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace lenet {

class CfgSection;
namespace kernels {
struct Ops;
}

enum class BinaryMode { none, weights, xnor };

// binary=1 (BWN: binary weights), xnor=1 (binary weights and inputs; wins over binary=1).
BinaryMode parse_binary_mode(const CfgSection& section);

// p rounded up to a multiple of 64 bytes (packed kernels' workspaces).
void* align64(void* p);

// The binarized weights of a layer with `rows` filters or units of `per_row` latent weights each:
// s(W), alpha per row and alpha * s(W), and for inference the folded per-row transform
// out = dot * eval_scale[r] (* K) + eval_shift[r] (alpha, batch norm and bias in one).
struct BinaryWeightsState {
    BinaryMode mode = BinaryMode::none;
    int rows = 0, per_row = 0;
    std::vector<float> signs, effective, alpha, eval_scale, eval_shift;
    bool ready = false;  // the inference state matches the weights (cleared when they change)
    bool kind = true;    // ... and was made for the packed kernels (true) or the float simulation

    BinaryWeightsState() = default;
    BinaryWeightsState(BinaryMode binary_mode, int row_count, int row_size);

    // s(W) and alpha from the latent weights; for inference also the folded transform (bn_scales
    // null: no batch norm). Returns true when the caller must pack the signs for the packed
    // kernels (an XNOR layer's first packed inference after the weights changed).
    bool prepare(const kernels::Ops& ops, const float* weights, bool train, bool packed, const float* biases,
                 const float* bn_scales, const float* rolling_mean, const float* rolling_variance);
};

}  // namespace lenet
