// [dropout]: probability. Training zeroes each value with that probability and scales the rest by
// 1 / (1 - probability), so inference is the identity.
#include <algorithm>

#include "cfg/cfg.h"
#include "kernels/ops.h"
#include "layers/layer.h"

namespace lenet {

namespace {

class DropoutLayer final : public Layer {
public:
    DropoutLayer(Shape input, float probability) : probability_(probability) {
        input_ = output_ = input;
    }

    LayerSummary summary() const override { return {"dropout", "", cat("p = ", probability_), 0, 0}; }

    void reserve(int max_batch) override { mask_.assign(std::size_t(max_batch) * input_.size(), 0.0f); }

    void forward(const ForwardPass& pass) override {
        const kernels::Ops& ops = *pass.compute.ops;
        const std::size_t total = std::size_t(pass.batch) * input_.size();
        if (!pass.train || probability_ == 0.0f) {
            ops.copy(pass.input, total, pass.output);
            return;
        }
        const float keep_scale = 1.0f / (1.0f - probability_);
        // The mask is drawn on the host, in order (the run's random stream); applying it is an op.
        for (std::size_t i = 0; i < total; ++i) mask_[i] = pass.rng.uniform() < probability_ ? 0.0f : keep_scale;
        ops.multiply(pass.input, mask_.data(), total, pass.output);
    }

    void backward(const BackwardPass& pass) override {
        const kernels::Ops& ops = *pass.compute.ops;
        if (!pass.input_grad) return;
        const std::size_t total = std::size_t(pass.batch) * input_.size();
        if (probability_ == 0.0f) return ops.add(pass.output_grad, total, pass.input_grad);
        ops.multiply_add(pass.output_grad, mask_.data(), total, pass.input_grad);
    }

private:
    float probability_;
    std::vector<float> mask_;
};

}  // namespace

std::unique_ptr<Layer> make_dropout(const CfgSection& section, Shape input) {
    const float probability = section.get_float("probability", 0.5f);
    if (probability < 0.0f || probability >= 1.0f)
        section.fail("probability", "expected a number in [0, 1)");
    return std::make_unique<DropoutLayer>(input, probability);
}

}  // namespace lenet
