// [connected]: output, activation, batch_normalize, binary, xnor. output[batch x out] =
// input[batch x in] * W^T with W stored one row per output (Darknet's layout).
// binary=1 uses alpha * s(W) (alpha per output unit); xnor=1 also binarizes each sample, s(x)
// scaled by beta = mean |x| over the sample. Inference of XNOR layers runs on bit-packed kernels
// and one folded output transform shared with the float simulation (see convolutional.cpp).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "cfg/cfg.h"
#include "io/weights.h"
#include "kernels/binary/xnor.h"
#include "kernels/gemm/gemm.h"
#include "kernels/ops/activation.h"
#include "kernels/ops/batchnorm.h"
#include "kernels/ops/binarize.h"
#include "kernels/ops.h"
#include "layers/binary.h"
#include "layers/layer.h"

namespace lenet {

Activation parse_activation_key(const CfgSection& section, std::string_view fallback);

namespace {

class ConnectedLayer final : public Layer {
public:
    ConnectedLayer(Shape input, int outputs, Activation activation, bool batch_normalize, BinaryMode mode)
        : inputs_(int(input.size())), outputs_(outputs), activation_(activation), batch_normalize_(batch_normalize),
          mode_(mode), binary_(mode, outputs, int(input.size())) {
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
        const char* kind = mode_ == BinaryMode::xnor ? "conn xnor" : mode_ == BinaryMode::weights ? "conn bwn" : "connected";
        return {kind, "", "", weights_.size() + biases_.size() + scales_.size(), 2.0 * double(weights_.size())};
    }

    void reserve(int max_batch) override {
        if (batch_normalize_) {
            x_.assign(std::size_t(max_batch) * std::size_t(outputs_), 0.0f);
            x_norm_.assign(x_.size(), 0.0f);
        }
        if (mode_ == BinaryMode::xnor) {
            dots_.assign(std::size_t(max_batch) * std::size_t(outputs_), 0.0f);
            betas_.assign(std::size_t(max_batch), 0.0f);
            beta_grads_.assign(std::size_t(max_batch), 0.0f);
        }
    }

    // Binary layers: the signed input and its gradient (batch x inputs), dL/dW~, then the packed
    // kernel's bytes (aligned).
    std::size_t workspace_floats(int batch, int /*threads*/) const override {
        if (mode_ == BinaryMode::none) return 0;
        const std::size_t samples = std::size_t(batch) * std::size_t(inputs_);
        std::size_t floats = 2 * samples + weights_.size();
        if (mode_ == BinaryMode::xnor) {
            PackedShape shape{outputs_, inputs_};
            floats += (kernels::xnor_dense_workspace_bytes(shape.packed(), batch) + 63) / sizeof(float) + 16;
        }
        return floats;
    }

    BinaryWeights binary_weights() const override {
        if (mode_ == BinaryMode::none) return {};
        return {std::size_t(outputs_), std::size_t(inputs_), mode_ == BinaryMode::xnor};
    }

    std::vector<Param> params() override {
        std::vector<Param> list{{weights_.data(), weight_grad_.data(), weights_.size(), true,
                                 mode_ == BinaryMode::none ? &weight_grad_stale_ : nullptr},
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

    void write_weights(WeightsWriter& writer) const override {
        writer.write_floats(biases_.data(), biases_.size());
        if (mode_ == BinaryMode::none)
            writer.write_floats(weights_.data(), weights_.size());
        else
            write_binary_weights(writer, weights_.data(), outputs_, inputs_);
        if (batch_normalize_) {
            writer.write_floats(scales_.data(), scales_.size());
            writer.write_floats(rolling_mean_.data(), rolling_mean_.size());
            writer.write_floats(rolling_variance_.data(), rolling_variance_.size());
        }
    }

    void forward(const ForwardPass& pass) override {
        if (mode_ != BinaryMode::none) return binary_forward(pass);
        const std::size_t total = std::size_t(pass.batch) * std::size_t(outputs_);
        float* out = batch_normalize_ && pass.train ? x_.data() : pass.output;
        pass.compute.ops->gemm(pass.compute, {false, true, pass.batch, outputs_, inputs_, 1.0f, pass.input, inputs_,
                                     weights_.data(), inputs_, 0.0f, out, outputs_});
        if (batch_normalize_) {
            // Batch-norm statistics per output unit, over the batch: channels = outputs, spatial = 1.
            if (pass.train) {
                pass.compute.ops->channel_mean_variance(x_.data(), pass.batch, outputs_, 1, mean_.data(), variance_.data());
                pass.compute.ops->update_rolling(mean_.data(), variance_.data(), outputs_, pass.batch, rolling_mean_.data(),
                                        rolling_variance_.data());
                pass.compute.ops->normalize(x_.data(), mean_.data(), variance_.data(), pass.batch, outputs_, 1, x_norm_.data());
                std::memcpy(pass.output, x_norm_.data(), total * sizeof(float));
            } else {
                pass.compute.ops->normalize(pass.output, rolling_mean_.data(), rolling_variance_.data(), pass.batch, outputs_, 1,
                                   pass.output);
            }
        }
        pass.compute.ops->scale_add_bias(pass.output, batch_normalize_ ? scales_.data() : nullptr,
                                biases_.data(), pass.batch, outputs_, 1);
        pass.compute.ops->activate(pass.compute, activation_, pass.output, total);
    }

    // The float layer's input gradient is one GEMM that writes it (binary layers add in parts).
    bool sets_input_grad() const override { return mode_ == BinaryMode::none; }

    void backward(const BackwardPass& pass) override {
        if (mode_ != BinaryMode::none) return binary_backward(pass);
        gradient_before_weights(pass);
        // dW[out x in] += delta^T[out x batch] * input[batch x in]
        pass.compute.ops->gemm(pass.compute, {true, false, outputs_, inputs_, pass.batch, 1.0f, pass.output_grad, outputs_,
                                     pass.input, inputs_, weight_grad_stale_ ? 0.0f : 1.0f, weight_grad_.data(), inputs_});
        weight_grad_stale_ = false;
        if (pass.input_grad)  // dX[batch x in] = delta[batch x out] * W[out x in]
            pass.compute.ops->gemm(pass.compute, {false, false, pass.batch, inputs_, outputs_, 1.0f, pass.output_grad, outputs_,
                                         weights_.data(), inputs_, 0.0f, pass.input_grad, inputs_});
    }

private:
    // Through the activation, bias and batch norm: output_grad becomes dL/d(the product with W),
    // and the bias and scale gradients are added.
    void gradient_before_weights(const BackwardPass& pass) {
        const std::size_t total = std::size_t(pass.batch) * std::size_t(outputs_);
        pass.compute.ops->activation_gradient(pass.compute, activation_, pass.output, pass.output_grad, total);
        pass.compute.ops->bias_gradient(pass.compute, pass.output_grad, pass.batch, outputs_, 1, bias_grad_.data());
        if (batch_normalize_) {
            pass.compute.ops->scale_gradient(pass.compute, pass.output_grad, x_norm_.data(), pass.batch, outputs_, 1,
                                    scale_grad_.data());
            pass.compute.ops->batchnorm_backward(pass.output_grad, x_norm_.data(), scales_.data(), variance_.data(), pass.batch,
                                        outputs_, 1);
        }
    }

    // A zero-weight packing of the layer's shape, only to size the packed kernel's workspace.
    struct PackedShape {
        int rows, columns;
        kernels::PackedRows packed() const {
            std::vector<float> zeros(std::size_t(rows) * std::size_t(columns), 0.0f);
            return kernels::pack_rows(zeros.data(), rows, columns);
        }
    };

    // alpha and s(W) from the latent weights; for inference also the packed signs and the folded
    // per-unit transform out = dot * scale[o] * beta[b] + shift[o].
    void prepare_binary(const kernels::Ops& ops, bool train, bool packed) {
        if (binary_.prepare(ops, weights_.data(), train, packed, biases_.data(),
                            batch_normalize_ ? scales_.data() : nullptr, rolling_mean_.data(), rolling_variance_.data()))
            packed_ = kernels::pack_rows(weights_.data(), outputs_, inputs_);
    }

    // out[b][o] = dots[b][o] * scale[o] * beta[b] (+ shift[o]); betas null means 1, shift null none.
    void output_transform(const kernels::Ops& ops, const float* dots, const float* scale, const float* betas,
                          const float* shift, int batch, float* out) const {
        ops.binary_output({batch, outputs_, false, scale, betas, shift}, dots, out);
    }

    void binary_forward(const ForwardPass& pass) {
        const bool xnor = mode_ == BinaryMode::xnor;
        const bool packed = xnor && !pass.train && pass.packed_binary;
        prepare_binary(*pass.compute.ops, pass.train, packed);
        const std::size_t samples = std::size_t(pass.batch) * std::size_t(inputs_);
        const std::size_t total = std::size_t(pass.batch) * std::size_t(outputs_);
        float* signed_input = pass.workspace;
        float* betas = nullptr;
        float* out = batch_normalize_ && pass.train ? x_.data() : pass.output;
        float* dots = xnor && pass.train ? dots_.data() : out;
        if (xnor) {
            betas = pass.train ? betas_.data() : signed_input + samples;  // the gradient scratch is free at inference
            for (int b = 0; b < pass.batch; ++b)
                betas[b] = pass.compute.ops->abs_mean(pass.input + std::size_t(b) * std::size_t(inputs_), std::size_t(inputs_));
        }
        if (packed) {
            pass.compute.ops->xnor_dense(pass.compute, packed_, pass.input, pass.batch, dots,
                                align64(pass.workspace + 2 * samples + weights_.size()));
        } else {
            const float* source = pass.input;
            if (xnor) {
                pass.compute.ops->sign(pass.input, samples, signed_input);
                source = signed_input;
            }
            pass.compute.ops->gemm(pass.compute, {false, true, pass.batch, outputs_, inputs_, 1.0f, source, inputs_,
                                         binary_.signs.data(), inputs_, 0.0f, dots, outputs_});
        }
        if (!pass.train) {
            output_transform(*pass.compute.ops, dots, binary_.eval_scale.data(), betas, binary_.eval_shift.data(), pass.batch, out);
            pass.compute.ops->activate(pass.compute, activation_, out, total);
            return;
        }
        output_transform(*pass.compute.ops, dots, binary_.alpha.data(), betas, nullptr, pass.batch, out);
        if (batch_normalize_) {
            pass.compute.ops->channel_mean_variance(x_.data(), pass.batch, outputs_, 1, mean_.data(), variance_.data());
            pass.compute.ops->update_rolling(mean_.data(), variance_.data(), outputs_, pass.batch, rolling_mean_.data(),
                                    rolling_variance_.data());
            pass.compute.ops->normalize(x_.data(), mean_.data(), variance_.data(), pass.batch, outputs_, 1, x_norm_.data());
            std::memcpy(pass.output, x_norm_.data(), total * sizeof(float));
        }
        pass.compute.ops->scale_add_bias(pass.output, batch_normalize_ ? scales_.data() : nullptr,
                                biases_.data(), pass.batch, outputs_, 1);
        pass.compute.ops->activate(pass.compute, activation_, pass.output, total);
    }

    void binary_backward(const BackwardPass& pass) {
        const bool xnor = mode_ == BinaryMode::xnor;
        const std::size_t samples = std::size_t(pass.batch) * std::size_t(inputs_);
        gradient_before_weights(pass);
        float* signed_input = pass.workspace;
        float* input_grad_binary = signed_input + samples;
        float* weight_grad_binary = input_grad_binary + samples;
        const float* source = pass.input;
        float* beta_grads = beta_grads_.data();
        if (xnor) {
            // g is dL/d(beta * alpha * dots): beta's gradient first, then g * beta for W~ and s(x).
            pass.compute.ops->xnor_dense_scale_gradient(pass.batch, outputs_, binary_.alpha.data(), dots_.data(), betas_.data(),
                                                        pass.output_grad, beta_grads);
            pass.compute.ops->sign(pass.input, samples, signed_input);
            source = signed_input;
        }
        // dL/dW~[out x in] = delta^T[out x batch] * input~[batch x in]
        pass.compute.ops->gemm(pass.compute, {true, false, outputs_, inputs_, pass.batch, 1.0f, pass.output_grad, outputs_, source,
                                     inputs_, 0.0f, weight_grad_binary, inputs_});
        pass.compute.ops->binary_weight_gradient(weights_.data(), binary_.alpha.data(), weight_grad_binary, outputs_, inputs_,
                                        weight_grad_.data());
        if (!pass.input_grad) return;
        pass.compute.ops->scale_rows(binary_.signs.data(), binary_.alpha.data(), outputs_, inputs_, binary_.effective.data());
        if (!xnor) {
            pass.compute.ops->gemm(pass.compute, {false, false, pass.batch, inputs_, outputs_, 1.0f, pass.output_grad, outputs_,
                                         binary_.effective.data(), inputs_, 1.0f, pass.input_grad, inputs_});
            return;
        }
        pass.compute.ops->gemm(pass.compute, {false, false, pass.batch, inputs_, outputs_, 1.0f, pass.output_grad, outputs_,
                                     binary_.effective.data(), inputs_, 0.0f, input_grad_binary, inputs_});
        pass.compute.ops->sign_gradient_add(pass.input, input_grad_binary, samples, pass.input_grad);
        for (int b = 0; b < pass.batch; ++b)
            pass.compute.ops->abs_mean_gradient(pass.input + std::size_t(b) * std::size_t(inputs_), std::size_t(inputs_),
                                       beta_grads[std::size_t(b)], pass.input_grad + std::size_t(b) * std::size_t(inputs_));
    }

    int inputs_, outputs_;
    Activation activation_;
    bool batch_normalize_;
    BinaryMode mode_;
    std::vector<float> weights_, weight_grad_, biases_, bias_grad_, scales_, scale_grad_;
    bool weight_grad_stale_ = false;  // Param::grad_stale: the next float backward writes weight_grad_
    std::vector<float> rolling_mean_, rolling_variance_, mean_, variance_, x_, x_norm_;
    // Binary layers: s(W), alpha, alpha * s(W) and the inference transform, the training forward's
    // dots and betas (XNOR) and the packed signs (valid until the weights change).
    BinaryWeightsState binary_;
    std::vector<float> dots_, betas_, beta_grads_;
    kernels::PackedRows packed_;
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
    const BinaryMode mode = parse_binary_mode(section);
    return std::make_unique<ConnectedLayer>(input, outputs, activation, batch_normalize, mode);
}

}  // namespace lenet
