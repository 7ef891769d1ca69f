// [connected]: output, activation, batch_normalize, binary, xnor, xnor_scale. output[batch x out] =
// input[batch x in] * W^T with W stored one row per output (Darknet's layout).
// binary=1 uses alpha * s(W) (alpha per output unit); xnor=1 also binarizes each sample, s(x),
// scaled by beta = mean |x| over the sample with xnor_scale=k (unscaled with none, the default).
// Inference of XNOR layers runs on bit-packed kernels and one folded output transform shared with
// the float simulation (see convolutional.cpp).
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "cfg/cfg.h"
#include "io/weights.h"
#include "kernels/binary/xnor.h"
#include "kernels/gemm/gemm.h"
#include "kernels/ops/activation.h"
#include "kernels/ops/batchnorm.h"
#include "kernels/ops/binarize.h"
#include "kernels/ops.h"
#include "layers/binary.h"
#include "layers/connected_layer.h"
#include "layers/layer.h"

namespace lenet {

Activation parse_activation_key(const CfgSection& section, std::string_view fallback);

ConnectedLayer::ConnectedLayer(Shape input, int outputs, Activation activation, bool batch_normalize,
                               BinarySpec binary)
    : inputs_(int(input.size())),
      outputs_(outputs),
      activation_(activation),
      batch_normalize_(batch_normalize),
      mode_(binary.mode),
      input_scale_(binary.input_scale()),
      zero_(binary.zero()),
      binary_(binary, outputs, int(input.size())) {
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

LayerSummary ConnectedLayer::summary() const {
    const char* kind = mode_ == BinaryMode::xnor      ? (input_scale_ ? "conn xnorK" : "conn xnor")
                       : mode_ == BinaryMode::weights ? "conn bwn"
                                                      : "connected";
    return {kind, "", "", weights_.size() + biases_.size() + scales_.size(), 2.0 * double(weights_.size())};
}

void ConnectedLayer::reserve(int max_batch) {
    if (batch_normalize_) {
        x_.assign(std::size_t(max_batch) * std::size_t(outputs_), 0.0f);
        x_norm_.assign(x_.size(), 0.0f);
    }
    if (mode_ == BinaryMode::xnor && input_scale_) {
        dots_.assign(std::size_t(max_batch) * std::size_t(outputs_), 0.0f);
        betas_.assign(std::size_t(max_batch), 0.0f);
        beta_grads_.assign(std::size_t(max_batch), 0.0f);
    }
}

std::size_t ConnectedLayer::workspace_floats(int batch, int /*threads*/) const {
    if (mode_ == BinaryMode::none) return 0;
    const std::size_t samples = std::size_t(batch) * std::size_t(inputs_);
    std::size_t floats = 2 * samples + weights_.size();
    if (mode_ == BinaryMode::xnor) {
        PackedShape shape{outputs_, inputs_};
        floats += (kernels::xnor_dense_workspace_bytes(shape.packed(), batch) + 63) / sizeof(float) + 16;
    }
    return floats;
}

Layer::BinaryWeights ConnectedLayer::binary_weights() const {
    if (mode_ == BinaryMode::none) return {};
    return {std::size_t(outputs_), std::size_t(inputs_), mode_ == BinaryMode::xnor};
}

std::vector<Param> ConnectedLayer::params() {
    std::vector<Param> list{{weights_.data(), weight_grad_.data(), weights_.size(), true,
                             mode_ == BinaryMode::none ? &weight_grad_stale_ : nullptr},
                            {biases_.data(), bias_grad_.data(), biases_.size(), false}};
    if (batch_normalize_) list.push_back({scales_.data(), scale_grad_.data(), scales_.size(), false});
    return list;
}

void ConnectedLayer::init_weights(Rng& rng) {
    const float scale = std::sqrt(2.0f / float(inputs_));
    for (auto& w : weights_) w = scale * rng.uniform(-1.0f, 1.0f);
}

void ConnectedLayer::read_weights(WeightsReader& reader) {
    reader.read_floats(biases_.data(), biases_.size(), "biases");
    if (mode_ == BinaryMode::none)
        reader.read_floats(weights_.data(), weights_.size(), "weights");
    else
        read_binary_weights(reader, weights_.data(), outputs_, inputs_);
    if (batch_normalize_) {
        reader.read_floats(scales_.data(), scales_.size(), "scales");
        reader.read_floats(rolling_mean_.data(), rolling_mean_.size(), "rolling mean");
        reader.read_floats(rolling_variance_.data(), rolling_variance_.size(), "rolling variance");
    }
    binary_.ready = false;
}

void ConnectedLayer::write_weights(WeightsWriter& writer) const {
    writer.write_floats(biases_.data(), biases_.size());
    if (mode_ == BinaryMode::none)
        writer.write_floats(weights_.data(), weights_.size());
    else
        write_binary_weights(writer, weights_.data(), outputs_, inputs_, zero_);
    if (batch_normalize_) {
        writer.write_floats(scales_.data(), scales_.size());
        writer.write_floats(rolling_mean_.data(), rolling_mean_.size());
        writer.write_floats(rolling_variance_.data(), rolling_variance_.size());
    }
}

void ConnectedLayer::forward(const ForwardPass& pass) {
    const kernels::Ops& ops = *pass.compute.ops;
    if (mode_ != BinaryMode::none) return binary_forward(pass);
    const std::size_t total = std::size_t(pass.batch) * std::size_t(outputs_);
    float* out = batch_normalize_ && pass.train ? x_.data() : pass.output;
    ops.gemm(pass.compute, {false, true, pass.batch, outputs_, inputs_, 1.0f, pass.input, inputs_, weights_.data(),
                            inputs_, 0.0f, out, outputs_});
    if (batch_normalize_) {
        // Batch-norm statistics per output unit, over the batch: channels = outputs, spatial = 1.
        if (pass.train) {
            ops.channel_mean_variance(x_.data(), pass.batch, outputs_, 1, mean_.data(), variance_.data());
            ops.update_rolling(mean_.data(), variance_.data(), outputs_, pass.batch, rolling_mean_.data(),
                               rolling_variance_.data());
            ops.normalize(x_.data(), mean_.data(), variance_.data(), pass.batch, outputs_, 1, x_norm_.data());
            ops.copy(x_norm_.data(), total, pass.output);
        } else {
            ops.normalize_rolling(pass.output, rolling_mean_.data(), rolling_variance_.data(), pass.batch, outputs_, 1,
                          pass.output);
        }
    }
    ops.scale_add_bias(pass.output, batch_normalize_ ? scales_.data() : nullptr, biases_.data(), pass.batch, outputs_,
                       1);
    ops.activate(pass.compute, activation_, pass.output, total);
}

void ConnectedLayer::backward(const BackwardPass& pass) {
    const kernels::Ops& ops = *pass.compute.ops;
    if (mode_ != BinaryMode::none) return binary_backward(pass);
    gradient_before_weights(pass);
    // dW[out x in] += delta^T[out x batch] * input[batch x in]
    ops.gemm(pass.compute, {true, false, outputs_, inputs_, pass.batch, 1.0f, pass.output_grad, outputs_, pass.input,
                            inputs_, weight_grad_stale_ ? 0.0f : 1.0f, weight_grad_.data(), inputs_});
    weight_grad_stale_ = false;
    if (pass.input_grad)  // dX[batch x in] = delta[batch x out] * W[out x in]
        ops.gemm(pass.compute, {false, false, pass.batch, inputs_, outputs_, 1.0f, pass.output_grad, outputs_,
                                weights_.data(), inputs_, 0.0f, pass.input_grad, inputs_});
}

void ConnectedLayer::gradient_before_weights(const BackwardPass& pass) {
    const kernels::Ops& ops = *pass.compute.ops;
    const std::size_t total = std::size_t(pass.batch) * std::size_t(outputs_);
    ops.activation_gradient(pass.compute, activation_, pass.output, pass.output_grad, total);
    ops.bias_gradient(pass.compute, pass.output_grad, pass.batch, outputs_, 1, bias_grad_.data());
    if (batch_normalize_) {
        ops.scale_gradient(pass.compute, pass.output_grad, x_norm_.data(), pass.batch, outputs_, 1, scale_grad_.data());
        ops.batchnorm_backward(pass.output_grad, x_norm_.data(), scales_.data(), variance_.data(), pass.batch, outputs_,
                               1);
    }
}

std::unique_ptr<Layer> make_connected(const CfgSection& section, Shape input) {
    const int outputs = section.get_int("output", 1, 1, 1 << 24);
    const Activation activation = parse_activation_key(section, "logistic");
    const bool batch_normalize = section.get_bool("batch_normalize", false);
    const double weight_count = double(outputs) * double(input.size());
    if (weight_count > double(1 << 28))
        section.fail("output", cat(outputs, " outputs from ", input.size(), " inputs need ", weight_count,
                                   " weights: too many (at most 2^28)"));
    const BinarySpec binary = parse_binary_spec(section);
    return std::make_unique<ConnectedLayer>(input, outputs, activation, batch_normalize, binary);
}

}  // namespace lenet
