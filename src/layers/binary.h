// What binary (BWN and XNOR) convolutional and connected layers share: the mode their cfg keys
// select, and the state of their binarized weights (DESIGN.md §4). The layers differ only in how
// their packed signs are laid out (PackedFilters vs PackedRows) and in where the per-position scale
// comes from (K map or beta per sample).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/ops/binarize.h"

namespace lenet {

class CfgSection;
namespace kernels {
struct Ops;
}

enum class BinaryMode { none, weights, xnor };

// What an XNOR layer scales its binarized inputs by (cfg key xnor_scale, DESIGN.md §4):
//   none  Darknet's xnor=1 (pjreddie's and AlexeyAB's forward_convolutional_layer: binarize_cpu,
//         x > 0 -> +1 else -1, and alpha = mean |W| per filter only): out = alpha * (s(I) (*) s(W));
//         s(0) = -1 for inputs and weights. The default, so Darknet's cfgs and weights compute
//         what Darknet computes.
//   k     XNOR-Net's: s(I) scaled by K (conv: the channel mean of |I| box-filtered over each
//         output's window; connected: beta = mean |I| per sample); s(0) = +1. lenet's own cfgs.
// Darknet has no xnor on [connected]; there `none` is the same arithmetic on a 1x1 "image".
// Padded taps are 0 in both (Darknet's float path: binarize_cpu, then im2col's zero padding).
// AlexeyAB's bit-packed inference (im2col_cpu_custom_bin / float_to_bit, then
// gemm_nn_custom_bin_mean_transposed) packs a padded tap as bit 0, i.e. -1; lenet does not copy
// that, so its packed and float results stay equal. Darknet's GPU binarize_kernel tests x >= 0:
// its GPU training maps an exact 0 to +1. README.md (Binary-weight and XNOR networks) has more.
enum class XnorScale { none, k };

struct BinarySpec {
    BinaryMode mode = BinaryMode::none;
    XnorScale scale = XnorScale::none;  // XNOR layers only
    // K or beta scales the inputs.
    bool input_scale() const { return mode == BinaryMode::xnor && scale == XnorScale::k; }
    // s(0) for this layer's weights and inputs (binary-weight layers keep +1).
    kernels::ZeroSign zero() const {
        return mode == BinaryMode::xnor && scale == XnorScale::none ? kernels::ZeroSign::negative
                                                                     : kernels::ZeroSign::positive;
    }
};

// binary=1 (BWN: binary weights), xnor=1 (binary weights and inputs; wins over binary=1),
// xnor_scale=none|k (only with xnor=1; default none).
BinarySpec parse_binary_spec(const CfgSection& section);

// p rounded up to a multiple of 64 bytes (packed kernels' workspaces).
void* align64(void* p);

// The binarized weights of a layer with `rows` filters or units of `per_row` latent weights each:
// s(W), alpha per row and alpha * s(W), and for inference the folded per-row transform
// out = dot * eval_scale[r] (* K with xnor_scale=k) + eval_shift[r] (alpha, batch norm and bias in one).
struct BinaryWeightsState {
    BinaryMode mode = BinaryMode::none;
    kernels::ZeroSign zero = kernels::ZeroSign::positive;  // s(0) of the weights
    int rows = 0, per_row = 0;
    std::vector<float> signs, effective, alpha, eval_scale, eval_shift;
    bool ready = false;  // the inference state matches the weights (cleared when they change)
    bool kind = true;    // ... and was made for the packed kernels (true) or the float simulation

    BinaryWeightsState() = default;
    BinaryWeightsState(BinarySpec spec, int row_count, int row_size);

    // s(W) and alpha from the latent weights; for inference also the folded transform (bn_scales
    // null: no batch norm). Returns true when the caller must pack the signs for the packed
    // kernels (an XNOR layer's first packed inference after the weights changed).
    bool prepare(const kernels::Ops& ops, const float* weights, bool train, bool packed, const float* biases,
                 const float* bn_scales, const float* rolling_mean, const float* rolling_variance);
};

}  // namespace lenet
