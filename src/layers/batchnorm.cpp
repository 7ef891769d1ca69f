// [batchnorm]: per-channel batch normalisation with a learned scale and bias.
#include <cstring>
#include "cfg/cfg.h"
#include "io/weights.h"
#include "kernels/ops/batchnorm.h"
#include "kernels/ops.h"
#include "layers/layer.h"

namespace lenet {

namespace {

class BatchnormLayer final : public Layer {
public:
    explicit BatchnormLayer(Shape input) {
        input_ = output_ = input;
        const std::size_t c = std::size_t(input.c);
        scales_.assign(c, 1.0f);
        scale_grad_.assign(c, 0.0f);
        biases_.assign(c, 0.0f);
        bias_grad_.assign(c, 0.0f);
        rolling_mean_.assign(c, 0.0f);
        rolling_variance_.assign(c, 1.0f);
        mean_.assign(c, 0.0f);
        variance_.assign(c, 0.0f);
    }

    LayerSummary summary() const override { return {"batchnorm", "", "", 2 * scales_.size(), 4.0 * double(input_.size())}; }

    void reserve(int max_batch) override { x_norm_.assign(std::size_t(max_batch) * input_.size(), 0.0f); }

    std::vector<Param> params() override {
        return {{scales_.data(), scale_grad_.data(), scales_.size(), false},
                {biases_.data(), bias_grad_.data(), biases_.size(), false}};
    }

    // Darknet's layout for [batchnorm]: scales, rolling mean, rolling variance. Darknet keeps no
    // biases for a standalone batchnorm layer; lenet's trained ones live in the .state sidecar and
    // the packed format (lenet_only_arrays). Files from older lenets held them after the three
    // arrays (the reader says so: inline_lenet_arrays).
    void read_weights(WeightsReader& reader) override {
        reader.read_floats(scales_.data(), scales_.size(), "scales");
        reader.read_floats(rolling_mean_.data(), rolling_mean_.size(), "rolling mean");
        reader.read_floats(rolling_variance_.data(), rolling_variance_.size(), "rolling variance");
        if (reader.inline_lenet_arrays()) reader.read_floats(biases_.data(), biases_.size(), "biases");
    }

    void write_weights(WeightsWriter& writer) const override {
        writer.write_floats(scales_.data(), scales_.size());
        writer.write_floats(rolling_mean_.data(), rolling_mean_.size());
        writer.write_floats(rolling_variance_.data(), rolling_variance_.size());
    }

    std::vector<FloatArray> lenet_only_arrays() override { return {{biases_.data(), biases_.size()}}; }

    // Before a binary layer at inference, folded into the thresholds of the XNOR layers writing
    // its input: the sign planes pass through unchanged.
    SignPass sign_pass() const override { return SignPass::per_channel; }
    void plan_signs(const SignPlan& plan) override { signs_ = plan.output; }
    // The forward's inference arithmetic on one channel's values.
    void sign_stage_apply(const kernels::Ops& ops, int channel, float* values, std::size_t n) const override {
        const auto c = std::size_t(channel);
        ops.normalize_rolling(values, rolling_mean_.data() + c, rolling_variance_.data() + c, 1, 1, int(n), values);
        ops.scale_add_bias(values, scales_.data() + c, biases_.data() + c, 1, 1, int(n));
    }
    bool sign_stage_decreasing(int channel) const override { return scales_[std::size_t(channel)] < 0.0f; }

    void forward(const ForwardPass& pass) override {
        const kernels::Ops& ops = *pass.compute.ops;
        if (signs_) {
            std::memcpy(pass.output, pass.input, std::size_t(pass.batch) * kernels::sign_planes_bytes(input_.c, input_.h, input_.w));
            return;
        }
        const int spatial = input_.h * input_.w;
        const std::size_t total = std::size_t(pass.batch) * input_.size();
        if (pass.train) {
            ops.channel_mean_variance(pass.input, pass.batch, input_.c, spatial, mean_.data(), variance_.data());
            ops.update_rolling(mean_.data(), variance_.data(), input_.c, pass.batch * spatial,
                                    rolling_mean_.data(), rolling_variance_.data());
            ops.normalize(pass.input, mean_.data(), variance_.data(), pass.batch, input_.c, spatial, x_norm_.data());
            ops.copy(x_norm_.data(), total, pass.output);
        } else {
            ops.normalize_rolling(pass.input, rolling_mean_.data(), rolling_variance_.data(), pass.batch, input_.c, spatial,
                               pass.output);
        }
        ops.scale_add_bias(pass.output, scales_.data(), biases_.data(), pass.batch, input_.c,
                                spatial);
    }

    void backward(const BackwardPass& pass) override {
        const kernels::Ops& ops = *pass.compute.ops;
        const int spatial = input_.h * input_.w;
        ops.bias_gradient(pass.compute, pass.output_grad, pass.batch, input_.c, spatial, bias_grad_.data());
        ops.scale_gradient(pass.compute, pass.output_grad, x_norm_.data(), pass.batch, input_.c, spatial,
                                scale_grad_.data());
        ops.batchnorm_backward(pass.output_grad, x_norm_.data(), scales_.data(), variance_.data(), pass.batch,
                                    input_.c, spatial);
        if (!pass.input_grad) return;
        const std::size_t total = std::size_t(pass.batch) * input_.size();
        ops.add(pass.output_grad, total, pass.input_grad);
    }

private:
    bool signs_ = false;
    std::vector<float> scales_, scale_grad_, biases_, bias_grad_, rolling_mean_, rolling_variance_, mean_, variance_,
        x_norm_;
};

}  // namespace

std::unique_ptr<Layer> make_batchnorm(const CfgSection&, Shape input) { return std::make_unique<BatchnormLayer>(input); }

}  // namespace lenet
