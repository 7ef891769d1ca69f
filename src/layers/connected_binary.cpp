// [connected] with binary=1 (BWN) or xnor=1 (xnor_scale=k or none): float simulation for
// training, bit-packed XNOR kernels at inference, one folded output transform for both (DESIGN.md §4).
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

void ConnectedLayer::prepare_binary(const kernels::Ops& ops, bool train, bool packed) {
    if (binary_.prepare(ops, weights_.data(), train, packed, biases_.data(),
                        batch_normalize_ ? scales_.data() : nullptr, rolling_mean_.data(), rolling_variance_.data()))
        packed_ = kernels::pack_rows(weights_.data(), outputs_, inputs_, zero_);
}

void ConnectedLayer::output_transform(const kernels::Ops& ops, const float* dots, const float* scale,
                                      const float* betas, const float* shift, int batch, float* out) const {
    ops.binary_output({batch, outputs_, false, scale, betas, shift}, dots, out);
}

void ConnectedLayer::binary_forward(const ForwardPass& pass) {
    const kernels::Ops& ops = *pass.compute.ops;
    const bool xnor = mode_ == BinaryMode::xnor;
    const bool packed = xnor && !pass.train && pass.packed_binary;
    prepare_binary(*pass.compute.ops, pass.train, packed);
    const std::size_t samples = std::size_t(pass.batch) * std::size_t(inputs_);
    const std::size_t total = std::size_t(pass.batch) * std::size_t(outputs_);
    float* signed_input = pass.workspace;
    float* betas = nullptr;
    float* out = batch_normalize_ && pass.train ? x_.data() : pass.output;
    float* dots = input_scale_ && pass.train ? dots_.data() : out;
    if (input_scale_) {
        betas = pass.train ? betas_.data() : signed_input + samples;  // the gradient scratch is free at inference
        for (int b = 0; b < pass.batch; ++b)
            betas[b] = ops.abs_mean(pass.input + std::size_t(b) * std::size_t(inputs_), std::size_t(inputs_));
    }
    if (packed) {
        ops.xnor_dense(pass.compute, packed_, pass.input, pass.batch, dots,
                       align64(pass.workspace + 2 * samples + weights_.size()));
    } else {
        const float* source = pass.input;
        if (xnor) {
            ops.sign(pass.input, samples, zero_, signed_input);
            source = signed_input;
        }
        ops.gemm(pass.compute, {false, true, pass.batch, outputs_, inputs_, 1.0f, source, inputs_, binary_.signs.data(),
                                inputs_, 0.0f, dots, outputs_});
    }
    if (!pass.train) {
        output_transform(*pass.compute.ops, dots, binary_.eval_scale.data(), betas, binary_.eval_shift.data(),
                         pass.batch, out);
        ops.activate(pass.compute, activation_, out, total);
        return;
    }
    output_transform(*pass.compute.ops, dots, binary_.alpha.data(), betas, nullptr, pass.batch, out);
    if (batch_normalize_) {
        ops.channel_mean_variance(x_.data(), pass.batch, outputs_, 1, mean_.data(), variance_.data());
        ops.update_rolling(mean_.data(), variance_.data(), outputs_, pass.batch, rolling_mean_.data(),
                           rolling_variance_.data());
        ops.normalize(x_.data(), mean_.data(), variance_.data(), pass.batch, outputs_, 1, x_norm_.data());
        ops.copy(x_norm_.data(), total, pass.output);
    }
    ops.scale_add_bias(pass.output, batch_normalize_ ? scales_.data() : nullptr, biases_.data(), pass.batch, outputs_,
                       1);
    ops.activate(pass.compute, activation_, pass.output, total);
}

void ConnectedLayer::binary_backward(const BackwardPass& pass) {
    const kernels::Ops& ops = *pass.compute.ops;
    const bool xnor = mode_ == BinaryMode::xnor;
    const std::size_t samples = std::size_t(pass.batch) * std::size_t(inputs_);
    gradient_before_weights(pass);
    float* signed_input = pass.workspace;
    float* input_grad_binary = signed_input + samples;
    float* weight_grad_binary = input_grad_binary + samples;
    const float* source = pass.input;
    float* beta_grads = beta_grads_.data();
    if (input_scale_) {
        // g is dL/d(beta * alpha * dots): beta's gradient first, then g * beta for W~ and s(x).
        ops.xnor_dense_scale_gradient(pass.batch, outputs_, binary_.alpha.data(), dots_.data(), betas_.data(),
                                      pass.output_grad, beta_grads);
    }
    if (xnor) {
        ops.sign(pass.input, samples, zero_, signed_input);
        source = signed_input;
    }
    // dL/dW~[out x in] = delta^T[out x batch] * input~[batch x in]
    ops.gemm(pass.compute, {true, false, outputs_, inputs_, pass.batch, 1.0f, pass.output_grad, outputs_, source,
                            inputs_, 0.0f, weight_grad_binary, inputs_});
    ops.binary_weight_gradient(weights_.data(), binary_.alpha.data(), weight_grad_binary, outputs_, inputs_, zero_,
                               weight_grad_.data());
    if (!pass.input_grad) return;
    ops.scale_rows(binary_.signs.data(), binary_.alpha.data(), outputs_, inputs_, binary_.effective.data());
    if (!xnor) {
        ops.gemm(pass.compute, {false, false, pass.batch, inputs_, outputs_, 1.0f, pass.output_grad, outputs_,
                                binary_.effective.data(), inputs_, 1.0f, pass.input_grad, inputs_});
        return;
    }
    ops.gemm(pass.compute, {false, false, pass.batch, inputs_, outputs_, 1.0f, pass.output_grad, outputs_,
                            binary_.effective.data(), inputs_, 0.0f, input_grad_binary, inputs_});
    ops.sign_gradient_add(pass.input, input_grad_binary, samples, pass.input_grad);
    if (!input_scale_) return;
    for (int b = 0; b < pass.batch; ++b)
        ops.abs_mean_gradient(pass.input + std::size_t(b) * std::size_t(inputs_), std::size_t(inputs_),
                              beta_grads[std::size_t(b)], pass.input_grad + std::size_t(b) * std::size_t(inputs_));
}

}  // namespace lenet
