#include "layers/binary.h"

#include <cmath>
#include <string>

#include "cfg/cfg.h"
#include "kernels/ops.h"

namespace lenet {

BinarySpec parse_binary_spec(const CfgSection& section) {
    const bool binary = section.get_bool("binary", false);
    const bool xnor = section.get_bool("xnor", false);
    BinarySpec spec;
    spec.mode = xnor ? BinaryMode::xnor : binary ? BinaryMode::weights : BinaryMode::none;
    if (section.has("xnor_scale")) {
        const std::string scale = section.get_string("xnor_scale", "none");
        if (scale == "k") spec.scale = XnorScale::k;
        else if (scale != "none") section.fail("xnor_scale", "expected k (XNOR-Net's input scale) or none (Darknet's)");
        if (!xnor) section.fail("xnor_scale", "only an XNOR layer (xnor=1) scales its inputs");
    }
    return spec;
}

void* align64(void* p) {
    const auto address = reinterpret_cast<std::uintptr_t>(p);
    return reinterpret_cast<void*>((address + 63) & ~std::uintptr_t(63));
}

BinaryWeightsState::BinaryWeightsState(BinarySpec spec, int row_count, int row_size)
    : mode(spec.mode), zero(spec.zero()), rows(row_count), per_row(row_size) {
    if (mode == BinaryMode::none) return;
    const std::size_t weights = std::size_t(rows) * std::size_t(per_row);
    signs.assign(weights, 0.0f);
    effective.assign(weights, 0.0f);
    alpha.assign(std::size_t(rows), 0.0f);
    eval_scale.assign(std::size_t(rows), 0.0f);
    eval_shift.assign(std::size_t(rows), 0.0f);
}

bool BinaryWeightsState::prepare(const kernels::Ops& ops, const float* weights, bool train, bool packed,
                                 const float* biases, const float* bn_scales, const float* rolling_mean,
                                 const float* rolling_variance) {
    if (!train && ready && kind == packed) return false;
    ops.binarize_rows(weights, rows, per_row, zero, signs.data(), alpha.data());
    if (train) {
        ready = false;
        return false;
    }
    for (std::size_t r = 0; r < std::size_t(rows); ++r) {
        float scale = alpha[r], shift = biases[r];
        if (bn_scales) {
            const float bn = bn_scales[r] * kernels::rolling_inv_std(rolling_variance[r]);
            scale *= bn;
            shift -= rolling_mean[r] * bn;
        }
        eval_scale[r] = scale;
        eval_shift[r] = shift;
    }
    kind = packed;
    ready = true;
    return mode == BinaryMode::xnor && packed;
}

}  // namespace lenet
