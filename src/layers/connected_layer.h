// The [connected] layer (one class; the binary path in connected_binary.cpp). See connected.cpp.
#pragma once
#include <vector>

#include "kernels/binary/xnor.h"
#include "kernels/ops/activation.h"
#include "layers/binary.h"
#include "layers/layer.h"

namespace lenet {

namespace kernels {
struct Ops;
}

class ConnectedLayer final : public Layer {
public:
    ConnectedLayer(Shape input, int outputs, Activation activation, bool batch_normalize, BinarySpec binary);

    LayerSummary summary() const override;

    void reserve(int max_batch) override;

    // Binary layers: the signed input and its gradient (batch x inputs), dL/dW~, then the packed
    // kernel's bytes (aligned).
    std::size_t workspace_floats(int batch, int /*threads*/) const override;

    BinaryWeights binary_weights() const override;

    std::vector<Param> params() override;

    void init_weights(Rng& rng) override;

    // Darknet's order for connected layers: biases, weights, then the batch-norm arrays.
    void read_weights(WeightsReader& reader) override;

    void write_weights(WeightsWriter& writer) const override;

    void forward(const ForwardPass& pass) override;

    // The float layer's input gradient is one GEMM that writes it (binary layers add in parts).
    bool sets_input_grad() const override { return mode_ == BinaryMode::none; }

    void backward(const BackwardPass& pass) override;

private:
    // Through the activation, bias and batch norm: output_grad becomes dL/d(the product with W),
    // and the bias and scale gradients are added.
    void gradient_before_weights(const BackwardPass& pass);

    // A zero-weight packing of the layer's shape, only to size the packed kernel's workspace.
    struct PackedShape {
        int rows, columns;
        kernels::PackedRows packed() const {
            std::vector<float> zeros(std::size_t(rows) * std::size_t(columns), 0.0f);
            return kernels::pack_rows(zeros.data(), rows, columns, kernels::ZeroSign::positive);
        }
    };

    // alpha and s(W) from the latent weights; for inference also the packed signs and the folded
    // per-unit transform out = dot * scale[o] * beta[b] + shift[o].
    void prepare_binary(const kernels::Ops& ops, bool train, bool packed);

    // out[b][o] = dots[b][o] * scale[o] * beta[b] (+ shift[o]); betas null means 1, shift null none.
    void output_transform(const kernels::Ops& ops, const float* dots, const float* scale, const float* betas,
                          const float* shift, int batch, float* out) const;

    void binary_forward(const ForwardPass& pass);

    void binary_backward(const BackwardPass& pass);

    int inputs_, outputs_;
    Activation activation_;
    bool batch_normalize_;
    BinaryMode mode_;
    bool input_scale_;        // xnor_scale=k: beta = mean |x| per sample scales s(x)
    kernels::ZeroSign zero_;  // s(0) of weights and inputs
    std::vector<float> weights_, weight_grad_, biases_, bias_grad_, scales_, scale_grad_;
    bool weight_grad_stale_ = false;  // Param::grad_stale: the next float backward writes weight_grad_
    std::vector<float> rolling_mean_, rolling_variance_, mean_, variance_, x_, x_norm_;
    // Binary layers: s(W), alpha, alpha * s(W) and the inference transform, the training forward's
    // dots and betas (XNOR) and the packed signs (valid until the weights change).
    BinaryWeightsState binary_;
    std::vector<float> dots_, betas_, beta_grads_;
    kernels::PackedRows packed_;
};

}  // namespace lenet
