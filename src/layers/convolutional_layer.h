// The [convolutional] layer (one class, its paths in separate files). See convolutional.cpp.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "kernels/binary/xnor.h"
#include "kernels/gemm/gemm.h"
#include "kernels/ops/activation.h"
#include "kernels/ops/channels_last.h"
#include "kernels/ops/im2col.h"
#include "kernels/ops/pool.h"
#include "layers/binary.h"
#include "layers/layer.h"

namespace lenet {

namespace kernels {
struct Ops;
}

class ConvolutionalLayer final : public Layer {
public:
    ConvolutionalLayer(Shape input, int filters, int size, int stride, int pad, Activation activation,
                       bool batch_normalize, BinarySpec binary);

    LayerSummary summary() const override;

    void reserve(int max_batch) override;

    // With fewer images than threads, an XNOR layer at inference splits each image over the pool
    // instead, with the pooled kernel's workspace after the per-thread parts.
    std::size_t workspace_floats(int /*batch*/, int threads) const override;

    // The channels-last pooled backward transposes each image's whole input gradient into place.
    bool sets_input_grad() const override { return mode_ == BinaryMode::none && pool_ && channels_last(); }

    BinaryWeights binary_weights() const override;

    // A float convolution absorbs the max pool after it (batch norm needs the whole batch's
    // statistics first, so it does not; binary layers keep their own paths).
    bool absorb_next(const Layer& next) override;
    bool absorb_next_at_inference(const Layer& next, const kernels::Ops& ops) override;

    // A K-free XNOR layer reads and writes sign planes at inference (Layer::sign_pass).
    SignPass sign_pass() const override {
        return mode_ == BinaryMode::xnor && !input_scale_ ? SignPass::reads_and_writes : SignPass::none;
    }
    void plan_signs(const SignPlan& plan) override {
        sign_input_ = plan.input;
        sign_output_ = plan.output;
        sign_stages_ = plan.stages;
        thresholds_ready_ = false;
    }
    // The sign-plane output's per-filter thresholds (valid after a packed inference pass).
    kernels::SignThresholds sign_thresholds() const { return {sign_above_.data(), sign_invert_.data()}; }

    // A float convolution at inference packs its weights for the GEMM once (kernels::PackedGemmA).
    void plan_inference_only() override { gemm_weights_once_ = mode_ == BinaryMode::none; }

    std::vector<Param> params() override;

    void init_weights(Rng& rng) override;

    void read_weights(WeightsReader& reader) override;

    void write_weights(WeightsWriter& writer) const override;

    // Each path in its own file: float (convolutional_float.cpp), fused with a max pool
    // (convolutional_pooled.cpp), binary (convolutional_binary.cpp).
    void forward(const ForwardPass& pass) override;
    void backward(const BackwardPass& pass) override;

private:
    // im2col + GEMM per image, batch norm over the batch (convolutional_float.cpp).
    void float_forward(const ForwardPass& pass);
    void float_backward(const BackwardPass& pass);
    // Inference through ops.conv_direct, kDirectRows output rows at a time.
    static constexpr int kDirectRows = 8;  // even: a block's rows pool on their own
    void direct_forward(const ForwardPass& pass);
    // Scratch of one thread of direct_forward: padded input rows, and with a pool absorbed at
    // inference a block of outputs and the pool's (unused) argmax.
    std::size_t direct_scratch_floats() const;

    // Fused with the max pool: pass.output is the pool's output. Each image's convolution output
    // lives only in per-thread scratch, in cache while it is pooled; argmax_ remembers the winners.
    void pooled_forward(const ForwardPass& pass);

    // The pool's gradient goes to its winners only, whose activation outputs are the pooled
    // outputs: so the activation gradient and the bias gradient are taken on the pooled arrays
    // (image by image, in cache), the weight gradient sums one term per pooled output
    // (kernels/ops/pooled_gradient.h), and the convolution-output gradient is formed, in per-thread
    // scratch, only for an input gradient. Per-thread sums are reduced in thread order.
    void pooled_backward(const BackwardPass& pass);

    // With channels in multiples of 8 the pooled backward runs channels-last
    // (kernels/ops/channels_last.h): each image is transposed to HWC, one term per pooled output
    // updates the weight gradient and the input gradient directly (no im2col, no col2im), and the
    // input gradient is transposed back. Same scratch order as pooled_backward, the HWC parts after.
    void pooled_backward_channels_last(const BackwardPass& pass);

    bool channels_last() const { return geometry_.channels % 8 == 0; }
    // Few taps, filters in multiples of 8, a 2x2 pool that tiles the output, bias and activation
    // after the pool: the forward runs the direct kernel (kernels/ops/conv_pool.h).
    // (The table says whether its backend has such a kernel for the shape.)
    bool direct_forward(const kernels::Ops& ops) const {
        return direct_fits() && ops.conv_maxpool_direct_fits(geometry_, filters_, *pool_);
    }
    bool direct_fits() const { return pool_first() && kernels::conv_maxpool_direct_fits(geometry_, filters_, *pool_); }
    std::size_t direct_thread_floats() const {
        return kernels::conv_maxpool_direct_scratch_floats(geometry_, filters_);
    }

    // The fused layer's scratch, after the per-thread columns and gradients: per thread the
    // convolution output, the pooled-gradient rows and a bias gradient; for the channels-last
    // backward the reordered weights and per thread two images and the terms; for the direct
    // forward the taps-major weights and per thread its scratch.
    struct PooledScratch {
        float *conv, *rows, *bias, *hwc_weights, *hwc, *taps_major, *direct;
    };
    // Offsets of the parts from the start of the fused layer's scratch, and its end.
    std::array<std::size_t, 8> pooled_scratch_offsets(int threads) const;
    PooledScratch pooled_scratch(float* workspace, int threads) const;
    std::size_t pooled_scratch_floats(int threads) const { return pooled_scratch_offsets(threads)[7]; }
    kernels::PooledConvShape pooled_conv_shape() const { return {geometry_, filters_, pooled_spatial()}; }
    std::size_t channels_last_thread_floats() const;

    // Both pooled backwards start an image here: the activation's gradient taken on the pooled
    // outputs (in place) and the bias gradient added to bias_grad; returns the pooled gradient.
    float* pooled_output_gradient(const BackwardPass& pass, std::size_t b, float* bias_grad) const;

    std::size_t pooled_gradient_floats() const {
        return kernels::pooled_weight_gradient_scratch_floats({filters_, patch(), spatial(), pooled_spatial()});
    }

    int pooled_spatial() const { return pool_->out_h() * pool_->out_w(); }
    std::size_t pooled_size() const { return std::size_t(filters_) * std::size_t(pooled_spatial()); }
    // Pool before bias and activation? These monotonic float functions commute with max exactly,
    // rounding included (a tie that x + bias creates may move argmax to an equal value); a window
    // over padding only would output f(bias) instead of 0.
    bool pool_first() const {
        return pool_->windows_hold_input() && (activation_ == Activation::linear || activation_ == Activation::relu ||
                                               activation_ == Activation::leaky);
    }

    // Per-thread scratch: im2col columns, a weight-gradient accumulator, and for XNOR layers the
    // signed image, its gradient, an h*w map and an output-sized map, then the packed kernel's bytes.
    std::size_t thread_floats() const;

    // alpha and s(W) from the latent weights; for inference also the packed signs and the folded
    // per-filter transform out = dot * scale[f] * K[p] + shift[f].
    void prepare_binary(const kernels::Ops& ops, bool train, bool packed);

    void binary_forward(const ForwardPass& pass);
    // Inference with sign planes in or out (kernels/ops/sign_planes.h).
    void sign_planes_forward(const ForwardPass& pass);
    // Each filter's output bit, as the float simulation computes it: the output transform, the
    // activation, the per-channel layers after it, then the readers' sign (x > 0), evaluated at
    // every dot in [-patch, patch]; monotone, so one threshold per filter holds it.
    void make_sign_thresholds(const kernels::Ops& ops);

    // out[f][p] = dots[f][p] * scale[f] * K[p] (+ shift[f]); K null means 1, shift null means none.
    void output_transform(const kernels::Ops& ops, const float* dots, const float* scale, const float* k,
                          const float* shift, float* out) const;

    // Through the activation, bias and batch norm (whole batch): output_grad becomes dL/d(the
    // convolution's output), and the bias and scale gradients are added.
    void gradient_before_weights(const BackwardPass& pass);

    void binary_backward(const BackwardPass& pass);

    // The XNOR parts of one thread's scratch, after its columns and weight-gradient accumulator:
    // the signed image, its gradient, an h*w map (|x| channel means or their gradient), an
    // output-sized map (K or its gradient), then the packed kernel's bytes. Null for other layers.
    struct XnorScratch {
        float *signed_image = nullptr, *image_grad = nullptr, *abs_mean = nullptr, *map = nullptr;
        void* packed = nullptr;
    };
    XnorScratch xnor_scratch(float* thread_base) const;

    // Packed all-(+1) filters of the layer's shape, for sizing the packed kernels' workspaces.
    kernels::PackedFilters shape_only_filters() const;

    int patch() const { return geometry_.channels * geometry_.size * geometry_.size; }
    int spatial() const { return output_.h * output_.w; }
    std::size_t columns_size() const { return is_pointwise() ? 0 : std::size_t(patch()) * std::size_t(spatial()); }
    // A 1x1, stride 1, unpadded convolution reads the image as its own column matrix.
    bool is_pointwise() const { return geometry_.size == 1 && geometry_.stride == 1 && geometry_.pad == 0; }
    const float* lowered(const kernels::Ops& ops, const float* image, float* columns) const;
    // image_grad += W^T * delta for one image (a GEMM, then col2im unless pointwise).
    void add_image_gradient(const kernels::Ops& ops, const float* delta, float* columns, float* image_grad) const;

    int filters_;
    Activation activation_;
    bool batch_normalize_;
    BinaryMode mode_;
    bool input_scale_;         // xnor_scale=k: the K map scales s(I)
    kernels::ZeroSign zero_;   // s(0) of weights and inputs
    kernels::ConvGeometry geometry_;
    std::vector<float> weights_, weight_grad_, biases_, bias_grad_, scales_, scale_grad_;
    std::vector<float> rolling_mean_, rolling_variance_, mean_, variance_, x_, x_norm_;
    // Binary layers: s(W), alpha, alpha * s(W) and the inference transform, the training forward's
    // dots and K maps (XNOR with xnor_scale=k) and the packed signs (valid until the weights change).
    BinaryWeightsState binary_;
    std::vector<float> dots_, k_maps_;
    kernels::PackedFilters packed_;
    std::size_t packed_workspace_floats_ = 0;
    std::optional<kernels::PoolGeometry> pool_;  // the absorbed max pool, if any
    // A 2x2 stride-2 max pool absorbed at inference by a batch-normalized direct convolution: each
    // block of rows is convolved, normalized, activated and pooled in cache (direct_forward).
    std::optional<kernels::PoolGeometry> inference_pool_;
    std::vector<std::int32_t> argmax_;           // its winners, per pooled output
    // Inference only: the weights in the GEMM's layout, made at the first pass after they change.
    bool gemm_weights_once_ = false, gemm_weights_ready_ = false;
    kernels::PackedGemmA gemm_weights_;
    const kernels::PackedGemmA& gemm_weights(const kernels::Ops& ops);
    // Inference on sign planes (plan_signs) and the thresholds of a sign-plane output.
    bool sign_input_ = false, sign_output_ = false, thresholds_ready_ = false;
    std::vector<SignStage> sign_stages_;
    std::vector<std::int32_t> sign_above_;
    std::vector<std::uint8_t> sign_invert_;
};

}  // namespace lenet
