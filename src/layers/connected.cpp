// [connected]: output, activation, batch_normalize. output[batch x out] = input[batch x in] * W^T
// with W stored one row per output (Darknet's layout).
#include <cmath>
#include <cstring>

#include "cfg/cfg.h"
#include "io/weights.h"
#include "kernels/gemm/gemm.h"
#include "kernels/ops/activation.h"
#include "kernels/ops/batchnorm.h"
#include "layers/layer.h"

namespace lenet {

Activation parse_activation_key(const CfgSection& section, std::string_view fallback);

namespace {

class ConnectedLayer final : public Layer {
public:
    ConnectedLayer(Shape input, int outputs, Activation activation, bool batch_normalize)
        : inputs_(int(input.size())), outputs_(outputs), activation_(activation), batch_normalize_(batch_normalize) {
        input_ = input;
        output_ = Shape{outputs, 1, 1};
        weights_.assign(std::size_t(inputs_) * std::size_t(outputs_), 0.0f);
        weight_grad_.assign(weights_.size(), 0.0f);
        biases_.assign(std::size_t(outputs_), 0.0f);
        bias_grad_.assign(biases_.size(), 0.0f);
        if (batch_normalize_) {
            scales_.assign(std::size_t(outputs_), 1.0f);
            scale_grad_.assign(scales_.size(), 0.0f);
            rolling_mean_.assign(std::size_t(outputs_), 0.0f);
            rolling_variance_.assign(std::size_t(outputs_), 1.0f);
            mean_.assign(std::size_t(outputs_), 0.0f);
            variance_.assign(std::size_t(outputs_), 0.0f);
        }
    }

    LayerSummary summary() const override {
        return {"connected", "", "", weights_.size() + biases_.size() + scales_.size(), 2.0 * double(weights_.size())};
    }

    void reserve(int max_batch) override {
        if (batch_normalize_) {
            x_.assign(std::size_t(max_batch) * std::size_t(outputs_), 0.0f);
            x_norm_.assign(x_.size(), 0.0f);
        }
    }

    std::vector<Param> params() override {
        std::vector<Param> list{{weights_.data(), weight_grad_.data(), weights_.size(), true},
                                {biases_.data(), bias_grad_.data(), biases_.size(), false}};
        if (batch_normalize_) list.push_back({scales_.data(), scale_grad_.data(), scales_.size(), false});
        return list;
    }

    void init_weights(Rng& rng) override {
        const float scale = std::sqrt(2.0f / float(inputs_));
        for (auto& w : weights_) w = scale * rng.uniform(-1.0f, 1.0f);
    }

    // Darknet's order for connected layers: biases, weights, then the batch-norm arrays.
    void read_weights(WeightsReader& reader) override {
        reader.read_floats(biases_.data(), biases_.size(), "biases");
        reader.read_floats(weights_.data(), weights_.size(), "weights");
        if (batch_normalize_) {
            reader.read_floats(scales_.data(), scales_.size(), "scales");
            reader.read_floats(rolling_mean_.data(), rolling_mean_.size(), "rolling mean");
            reader.read_floats(rolling_variance_.data(), rolling_variance_.size(), "rolling variance");
        }
    }

    void write_weights(WeightsWriter& writer) const override {
        writer.write_floats(biases_.data(), biases_.size());
        writer.write_floats(weights_.data(), weights_.size());
        if (batch_normalize_) {
            writer.write_floats(scales_.data(), scales_.size());
            writer.write_floats(rolling_mean_.data(), rolling_mean_.size());
            writer.write_floats(rolling_variance_.data(), rolling_variance_.size());
        }
    }

    void forward(const ForwardPass& pass) override {
        const std::size_t total = std::size_t(pass.batch) * std::size_t(outputs_);
        float* out = batch_normalize_ && pass.train ? x_.data() : pass.output;
        kernels::gemm(pass.compute, {false, true, pass.batch, outputs_, inputs_, 1.0f, pass.input, inputs_,
                                     weights_.data(), inputs_, 0.0f, out, outputs_});
        if (batch_normalize_) {
            // Batch-norm statistics per output unit, over the batch: channels = outputs, spatial = 1.
            if (pass.train) {
                kernels::channel_mean_variance(x_.data(), pass.batch, outputs_, 1, mean_.data(), variance_.data());
                kernels::update_rolling(mean_.data(), variance_.data(), outputs_, pass.batch, rolling_mean_.data(),
                                        rolling_variance_.data());
                kernels::normalize(x_.data(), mean_.data(), variance_.data(), pass.batch, outputs_, 1, x_norm_.data());
                std::memcpy(pass.output, x_norm_.data(), total * sizeof(float));
            } else {
                kernels::normalize(pass.output, rolling_mean_.data(), rolling_variance_.data(), pass.batch, outputs_, 1,
                                   pass.output);
            }
        }
        kernels::scale_add_bias(pass.compute.backend, pass.output, batch_normalize_ ? scales_.data() : nullptr,
                                biases_.data(), pass.batch, outputs_, 1);
        kernels::activate(pass.compute, activation_, pass.output, total);
    }

    void backward(const BackwardPass& pass) override {
        const std::size_t total = std::size_t(pass.batch) * std::size_t(outputs_);
        kernels::activation_gradient(pass.compute, activation_, pass.output, pass.output_grad, total);
        kernels::bias_gradient(pass.compute, pass.output_grad, pass.batch, outputs_, 1, bias_grad_.data());
        if (batch_normalize_) {
            kernels::scale_gradient(pass.compute, pass.output_grad, x_norm_.data(), pass.batch, outputs_, 1,
                                    scale_grad_.data());
            kernels::batchnorm_backward(pass.output_grad, x_norm_.data(), scales_.data(), variance_.data(), pass.batch,
                                        outputs_, 1);
        }
        // dW[out x in] += delta^T[out x batch] * input[batch x in]
        kernels::gemm(pass.compute, {true, false, outputs_, inputs_, pass.batch, 1.0f, pass.output_grad, outputs_,
                                     pass.input, inputs_, 1.0f, weight_grad_.data(), inputs_});
        if (pass.input_grad)  // dX[batch x in] += delta[batch x out] * W[out x in]
            kernels::gemm(pass.compute, {false, false, pass.batch, inputs_, outputs_, 1.0f, pass.output_grad, outputs_,
                                         weights_.data(), inputs_, 1.0f, pass.input_grad, inputs_});
    }

private:
    int inputs_, outputs_;
    Activation activation_;
    bool batch_normalize_;
    std::vector<float> weights_, weight_grad_, biases_, bias_grad_, scales_, scale_grad_;
    std::vector<float> rolling_mean_, rolling_variance_, mean_, variance_, x_, x_norm_;
};

}  // namespace

std::unique_ptr<Layer> make_connected(const CfgSection& section, Shape input) {
    const int outputs = section.get_int("output", 1, 1, 1 << 24);
    const Activation activation = parse_activation_key(section, "logistic");
    const bool batch_normalize = section.get_bool("batch_normalize", false);
    const double weight_count = double(outputs) * double(input.size());
    if (weight_count > double(1 << 28))
        section.fail("output", cat(outputs, " outputs from ", input.size(), " inputs need ", weight_count,
                                   " weights: too many (at most 2^28)"));
    if (section.get_bool("binary", false)) section.fail("binary", "binary weights are not supported yet");
    if (section.get_bool("xnor", false)) section.fail("xnor", "XNOR layers are not supported yet");
    return std::make_unique<ConnectedLayer>(input, outputs, activation, batch_normalize);
}

}  // namespace lenet
