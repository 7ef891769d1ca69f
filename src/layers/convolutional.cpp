// [convolutional]: filters, size, stride, pad/padding, activation, batch_normalize, binary, xnor.
// Forward per image: im2col, then weights[filters x c*k*k] * columns[c*k*k x out_h*out_w].
// Images are spread over the thread pool; weight gradients are summed per thread, then reduced in
// a fixed order so a run is deterministic for a given thread count.
// binary=1 (BWN) convolves with alpha * s(W); xnor=1 also binarizes the input, s(I) scaled by K
// (kernels/ops/binarize.h). Training runs that arithmetic in float; inference runs XNOR layers on
// bit-packed kernels whose integer dot products equal the float simulation's exactly, then one
// folded output transform (alpha, K, batch norm, bias) shared by both paths.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>

#include "cfg/cfg.h"
#include "core/thread_pool.h"
#include "io/weights.h"
#include "kernels/binary/xnor.h"
#include "kernels/gemm/gemm.h"
#include "kernels/ops/activation.h"
#include "kernels/ops/batchnorm.h"
#include "kernels/ops/binarize.h"
#include "kernels/ops/channels_last.h"
#include "kernels/ops/conv_pool.h"
#include "kernels/ops/im2col.h"
#include "kernels/ops/pooled_gradient.h"
#include "kernels/ops.h"
#include "layers/binary.h"
#include "layers/layer.h"

namespace lenet {

namespace {

class ConvolutionalLayer final : public Layer {
public:
    ConvolutionalLayer(Shape input, int filters, int size, int stride, int pad, Activation activation,
                       bool batch_normalize, BinaryMode mode)
        : filters_(filters), activation_(activation), batch_normalize_(batch_normalize), mode_(mode),
          geometry_{input.c, input.h, input.w, size, stride, pad}, binary_(mode, filters, input.c * size * size) {
        input_ = input;
        output_ = Shape{filters, geometry_.out_h(), geometry_.out_w()};
        weights_.assign(std::size_t(filters) * patch(), 0.0f);
        weight_grad_.assign(weights_.size(), 0.0f);
        biases_.assign(std::size_t(filters), 0.0f);
        bias_grad_.assign(biases_.size(), 0.0f);
        if (batch_normalize_) {
            scales_.assign(std::size_t(filters), 1.0f);
            scale_grad_.assign(scales_.size(), 0.0f);
            rolling_mean_.assign(std::size_t(filters), 0.0f);
            rolling_variance_.assign(std::size_t(filters), 1.0f);
            mean_.assign(std::size_t(filters), 0.0f);
            variance_.assign(std::size_t(filters), 0.0f);
        }
        if (mode_ == BinaryMode::xnor) {
            const kernels::PackedFilters zeros = shape_only_filters();
            // Room for the packed kernel's bytes, aligned to 64 bytes.
            packed_workspace_floats_ = (kernels::xnor_conv_workspace_bytes(geometry_, zeros) + 63) / sizeof(float) + 16;
        }
    }

    LayerSummary summary() const override {
        const char* kind = mode_ == BinaryMode::xnor ? "conv xnor" : mode_ == BinaryMode::weights ? "conv bwn" : "conv";
        return {kind, std::to_string(filters_),
                cat(geometry_.size, " x ", geometry_.size, " / ", geometry_.stride),
                weights_.size() + biases_.size() + scales_.size(),
                2.0 * double(weights_.size()) * double(spatial())};
    }

    void reserve(int max_batch) override {
        if (pool_) argmax_.assign(std::size_t(max_batch) * pooled_size(), 0);
        if (batch_normalize_) {
            x_.assign(std::size_t(max_batch) * output_.size(), 0.0f);
            x_norm_.assign(x_.size(), 0.0f);
        }
        if (mode_ == BinaryMode::xnor) {
            dots_.assign(std::size_t(max_batch) * output_.size(), 0.0f);
            k_maps_.assign(std::size_t(max_batch) * std::size_t(spatial()), 0.0f);
        }
    }

    // With fewer images than threads, an XNOR layer at inference splits each image over the pool
    // instead, with the pooled kernel's workspace after the per-thread parts.
    std::size_t workspace_floats(int /*batch*/, int threads) const override {
        std::size_t floats = std::size_t(threads) * thread_floats();
        if (mode_ == BinaryMode::xnor && threads > 1) {
            const kernels::PackedFilters zeros = shape_only_filters();
            floats += (kernels::xnor_conv_pool_workspace_bytes(geometry_, zeros, threads) + 63) / sizeof(float) + 16;
        }
        // Fused with a max pool (float layers only): its scratch after the per-thread parts.
        if (pool_) floats += pooled_scratch_floats(threads);
        return floats;
    }

    // The channels-last pooled backward transposes each image's whole input gradient into place.
    bool sets_input_grad() const override { return mode_ == BinaryMode::none && pool_ && channels_last(); }

    BinaryWeights binary_weights() const override {
        if (mode_ == BinaryMode::none) return {};
        return {std::size_t(filters_), std::size_t(patch()), mode_ == BinaryMode::xnor};
    }

    // A float convolution absorbs the max pool after it (batch norm needs the whole batch's
    // statistics first, so it does not; binary layers keep their own paths).
    bool absorb_next(const Layer& next) override {
        const kernels::PoolGeometry* pool = next.maxpool_geometry();
        if (!pool || batch_normalize_ || mode_ != BinaryMode::none) return false;
        pool_ = *pool;
        return true;
    }

    std::vector<Param> params() override {
        std::vector<Param> list{{weights_.data(), weight_grad_.data(), weights_.size(), true},
                                {biases_.data(), bias_grad_.data(), biases_.size(), false}};
        if (batch_normalize_) list.push_back({scales_.data(), scale_grad_.data(), scales_.size(), false});
        return list;
    }

    void init_weights(Rng& rng) override {
        const float scale = std::sqrt(2.0f / float(patch()));
        for (auto& w : weights_) w = scale * rng.uniform(-1.0f, 1.0f);
    }

    void read_weights(WeightsReader& reader) override {
        reader.read_floats(biases_.data(), biases_.size(), "biases");
        if (batch_normalize_) {
            reader.read_floats(scales_.data(), scales_.size(), "scales");
            reader.read_floats(rolling_mean_.data(), rolling_mean_.size(), "rolling mean");
            reader.read_floats(rolling_variance_.data(), rolling_variance_.size(), "rolling variance");
        }
        if (mode_ == BinaryMode::none)
            reader.read_floats(weights_.data(), weights_.size(), "weights");
        else
            read_binary_weights(reader, weights_.data(), filters_, patch());
        binary_.ready = false;
    }

    void write_weights(WeightsWriter& writer) const override {
        writer.write_floats(biases_.data(), biases_.size());
        if (batch_normalize_) {
            writer.write_floats(scales_.data(), scales_.size());
            writer.write_floats(rolling_mean_.data(), rolling_mean_.size());
            writer.write_floats(rolling_variance_.data(), rolling_variance_.size());
        }
        if (mode_ == BinaryMode::none)
            writer.write_floats(weights_.data(), weights_.size());
        else
            write_binary_weights(writer, weights_.data(), filters_, patch());
    }

    void forward(const ForwardPass& pass) override {
        if (mode_ != BinaryMode::none) return binary_forward(pass);
        if (pool_) return pooled_forward(pass);
        const std::size_t in_size = input_.size(), out_size = output_.size();
        const bool fuse_bias = !batch_normalize_;
        float* conv_out = batch_normalize_ && pass.train ? x_.data() : pass.output;
        if (pass.batch < pass.compute.pool->size()) {
            // Too few images to share out: one at a time, the GEMM split over the pool.
            for (std::size_t b = 0; b < std::size_t(pass.batch); ++b) {
                float* out = conv_out + b * out_size;
                pass.compute.ops->gemm(pass.compute, {false, false, filters_, spatial(), patch(), 1.0f, weights_.data(), patch(),
                                             lowered(*pass.compute.ops, pass.input + b * in_size, pass.workspace),
                                             spatial(), 0.0f, out, spatial()});
                if (fuse_bias) {
                    pass.compute.ops->scale_add_bias(out, nullptr, biases_.data(), 1, filters_, spatial());
                    pass.compute.ops->activate_single(activation_, out, out_size);
                }
            }
        } else {
            const auto images = [&](std::size_t begin, std::size_t end, int thread) {
                float* columns = pass.workspace + std::size_t(thread) * columns_size();
                for (std::size_t b = begin; b < end; ++b) {
                    const float* image = pass.input + b * in_size;
                    float* out = conv_out + b * out_size;
                    pass.compute.ops->gemm_single({false, false, filters_, spatial(), patch(), 1.0f, weights_.data(), patch(),
                                          lowered(*pass.compute.ops, image, columns), spatial(), 0.0f, out,
                                          spatial()});
                    if (fuse_bias) {
                        pass.compute.ops->scale_add_bias(out, nullptr, biases_.data(), 1, filters_,
                                                spatial());
                        pass.compute.ops->activate_single(activation_, out, out_size);
                    }
                }
            };
            pass.compute.pool->parallel_dynamic(std::size_t(pass.batch), 1, images);
        }
        if (fuse_bias) return;
        const std::size_t total = std::size_t(pass.batch) * out_size;
        if (pass.train) {
            pass.compute.ops->channel_mean_variance(x_.data(), pass.batch, filters_, spatial(), mean_.data(), variance_.data());
            pass.compute.ops->update_rolling(mean_.data(), variance_.data(), filters_, pass.batch * spatial(),
                                    rolling_mean_.data(), rolling_variance_.data());
            pass.compute.ops->normalize(x_.data(), mean_.data(), variance_.data(), pass.batch, filters_, spatial(), x_norm_.data());
            std::memcpy(pass.output, x_norm_.data(), total * sizeof(float));
        } else {
            pass.compute.ops->normalize(pass.output, rolling_mean_.data(), rolling_variance_.data(), pass.batch, filters_,
                               spatial(), pass.output);
        }
        pass.compute.ops->scale_add_bias(pass.output, scales_.data(), biases_.data(), pass.batch, filters_,
                                spatial());
        pass.compute.ops->activate(pass.compute, activation_, pass.output, total);
    }

    void backward(const BackwardPass& pass) override {
        if (mode_ != BinaryMode::none) return binary_backward(pass);
        if (pool_) return pooled_backward(pass);
        const std::size_t in_size = input_.size(), out_size = output_.size();
        gradient_before_weights(pass);
        const int threads = pass.compute.pool->size();
        float* thread_grads = pass.workspace + std::size_t(threads) * columns_size();
        pass.compute.pool->parallel_for(std::size_t(pass.batch), [&](std::size_t begin, std::size_t end, int thread) {
            float* columns = pass.workspace + std::size_t(thread) * columns_size();
            float* grad = thread_grads + std::size_t(thread) * weights_.size();
            std::fill(grad, grad + weights_.size(), 0.0f);
            for (std::size_t b = begin; b < end; ++b) {
                const float* delta = pass.output_grad + b * out_size;
                // dW += delta[filters x spatial] * columns^T[spatial x patch]
                pass.compute.ops->gemm_single({false, true, filters_, patch(), spatial(), 1.0f, delta, spatial(),
                                      lowered(*pass.compute.ops, pass.input + b * in_size, columns), spatial(),
                                      1.0f, grad, patch()});
                if (!pass.input_grad) continue;
                float* image_grad = pass.input_grad + b * in_size;
                if (is_pointwise()) {
                    pass.compute.ops->gemm_single({true, false, patch(), spatial(), filters_, 1.0f, weights_.data(), patch(),
                                          delta, spatial(), 1.0f, image_grad, spatial()});
                    continue;
                }
                // columns = W^T[patch x filters] * delta[filters x spatial], then scattered back
                pass.compute.ops->gemm_single({true, false, patch(), spatial(), filters_, 1.0f, weights_.data(), patch(), delta,
                                      spatial(), 0.0f, columns, spatial()});
                pass.compute.ops->col2im_add(geometry_, columns, image_grad);
            }
        });
        const int used = int(std::min<std::size_t>(std::size_t(threads), std::size_t(pass.batch)));
        for (int t = 0; t < used; ++t)
            pass.compute.ops->add(thread_grads + std::size_t(t) * weights_.size(), weights_.size(), weight_grad_.data());
    }

private:
    // Fused with the max pool: pass.output is the pool's output. Each image's convolution output
    // lives only in per-thread scratch, in cache while it is pooled; argmax_ remembers the winners.
    void pooled_forward(const ForwardPass& pass) {
        const std::size_t in_size = input_.size(), conv_size = output_.size(), out_size = pooled_size();
        const int threads = pass.compute.pool->size();
        const PooledScratch scratch = pooled_scratch(pass.workspace, threads);
        const bool direct = direct_forward(*pass.compute.ops);
        if (direct) kernels::weights_taps_major(weights_.data(), filters_, patch(), scratch.taps_major);
        // Images are handed out one at a time (each image's outputs depend on it alone).
        pass.compute.pool->parallel_dynamic(std::size_t(pass.batch), 1, [&](std::size_t begin, std::size_t end, int thread) {
            float* columns = pass.workspace + std::size_t(thread) * columns_size();
            float* conv = scratch.conv + std::size_t(thread) * conv_size;
            for (std::size_t b = begin; b < end; ++b) {
                if (direct) {
                    float* pooled = pass.output + b * out_size;
                    // Inference needs no winners.
                    pass.compute.ops->conv_maxpool_direct(geometry_, filters_, scratch.taps_major, pass.input + b * in_size,
                                                          pooled, pass.train ? argmax_.data() + b * out_size : nullptr,
                                                          scratch.direct + std::size_t(thread) * direct_thread_floats());
                    pass.compute.ops->scale_add_bias(pooled, nullptr, biases_.data(), 1, filters_, pooled_spatial());
                    pass.compute.ops->activate_single(activation_, pooled, out_size);
                    continue;
                }
                const float* image = pass.input + b * in_size;
                float* pooled = pass.output + b * out_size;
                pass.compute.ops->gemm_single({false, false, filters_, spatial(), patch(), 1.0f, weights_.data(), patch(),
                                      lowered(*pass.compute.ops, image, columns), spatial(), 0.0f, conv, spatial()});
                if (pool_first()) {
                    // max(f(x + bias)) is f(max(x) + bias), the same float, for these f: 1/4 of the work.
                    pass.compute.ops->maxpool_forward(*pool_, 1, conv, pooled, argmax_.data() + b * out_size);
                    pass.compute.ops->scale_add_bias(pooled, nullptr, biases_.data(), 1, filters_, pooled_spatial());
                    pass.compute.ops->activate_single(activation_, pooled, out_size);
                    continue;
                }
                pass.compute.ops->scale_add_bias(conv, nullptr, biases_.data(), 1, filters_, spatial());
                pass.compute.ops->activate_single(activation_, conv, conv_size);
                pass.compute.ops->maxpool_forward(*pool_, 1, conv, pooled, argmax_.data() + b * out_size);
            }
        });
    }

    // The pool's gradient goes to its winners only, whose activation outputs are the pooled
    // outputs: so the activation gradient and the bias gradient are taken on the pooled arrays
    // (image by image, in cache), the weight gradient sums one term per pooled output
    // (kernels/ops/pooled_gradient.h), and the convolution-output gradient is formed, in per-thread
    // scratch, only for an input gradient. Per-thread sums are reduced in thread order.
    void pooled_backward(const BackwardPass& pass) {
        if (channels_last()) return pooled_backward_channels_last(pass);
        const std::size_t in_size = input_.size(), conv_size = output_.size(), out_size = pooled_size();
        const int threads = pass.compute.pool->size();
        float* thread_grads = pass.workspace + std::size_t(threads) * columns_size();
        const PooledScratch scratch = pooled_scratch(pass.workspace, threads);
        float* conv_scratch = scratch.conv;
        float* rows_scratch = scratch.rows;
        float* bias_scratch = scratch.bias;
        const kernels::PooledGradientShape shape{filters_, patch(), spatial(), pooled_spatial()};
        pass.compute.pool->parallel_for(std::size_t(pass.batch), [&](std::size_t begin, std::size_t end, int thread) {
            const kernels::Ops& ops = *pass.compute.ops;
            float* columns = pass.workspace + std::size_t(thread) * columns_size();
            float* grad = thread_grads + std::size_t(thread) * weights_.size();
            float* delta = conv_scratch + std::size_t(thread) * conv_size;
            float* rows = rows_scratch + std::size_t(thread) * pooled_gradient_floats();
            float* bias_grad = bias_scratch + std::size_t(thread) * std::size_t(filters_);
            std::fill(grad, grad + weights_.size(), 0.0f);
            std::fill(bias_grad, bias_grad + filters_, 0.0f);
            for (std::size_t b = begin; b < end; ++b) {
                float* pooled_grad = pooled_output_gradient(pass, b, bias_grad);
                const std::int32_t* winners = argmax_.data() + b * out_size;
                ops.pooled_weight_gradient(shape, pooled_grad, winners,
                                                lowered(ops, pass.input + b * in_size, columns), grad, rows);
                if (!pass.input_grad) continue;
                float* image_grad = pass.input_grad + b * in_size;
                ops.maxpool_backward_set(*pool_, 1, pooled_grad, winners, delta);
                if (is_pointwise()) {
                    ops.gemm_single({true, false, patch(), spatial(), filters_, 1.0f, weights_.data(),
                                                   patch(), delta, spatial(), 1.0f, image_grad, spatial()});
                    continue;
                }
                // columns = W^T * delta, then scattered back
                ops.gemm_single({true, false, patch(), spatial(), filters_, 1.0f, weights_.data(), patch(),
                                               delta, spatial(), 0.0f, columns, spatial()});
                ops.col2im_add(geometry_, columns, image_grad);
            }
        });
        const int used = int(std::min<std::size_t>(std::size_t(threads), std::size_t(pass.batch)));
        for (int t = 0; t < used; ++t) {
            pass.compute.ops->add(thread_grads + std::size_t(t) * weights_.size(), weights_.size(), weight_grad_.data());
            pass.compute.ops->add(bias_scratch + std::size_t(t) * std::size_t(filters_), biases_.size(), bias_grad_.data());
        }
    }

    // With channels in multiples of 8 the pooled backward runs channels-last
    // (kernels/ops/channels_last.h): each image is transposed to HWC, one term per pooled output
    // updates the weight gradient and the input gradient directly (no im2col, no col2im), and the
    // input gradient is transposed back. Same scratch order as pooled_backward, the HWC parts after.
    void pooled_backward_channels_last(const BackwardPass& pass) {
        const std::size_t in_size = input_.size(), out_size = pooled_size();
        const std::size_t image_floats = kernels::channels_last_floats(geometry_);
        const int threads = pass.compute.pool->size();
        float* thread_grads = pass.workspace + std::size_t(threads) * columns_size();
        const PooledScratch scratch = pooled_scratch(pass.workspace, threads);
        float* bias_scratch = scratch.bias;
        float* hwc_weights = scratch.hwc_weights;
        float* hwc_scratch = scratch.hwc;
        const kernels::PooledConvShape shape = pooled_conv_shape();
        pass.compute.ops->weights_to_channels_last(geometry_, filters_, weights_.data(), hwc_weights);
        pass.compute.pool->parallel_for(std::size_t(pass.batch), [&](std::size_t begin, std::size_t end, int thread) {
            const kernels::Ops& ops = *pass.compute.ops;
            float* grad = thread_grads + std::size_t(thread) * weights_.size();
            float* bias_grad = bias_scratch + std::size_t(thread) * std::size_t(filters_);
            float* image = hwc_scratch + std::size_t(thread) * channels_last_thread_floats();
            float* image_grad = image + image_floats;
            float* terms = image_grad + image_floats;
            std::fill(grad, grad + weights_.size(), 0.0f);
            std::fill(bias_grad, bias_grad + filters_, 0.0f);
            for (std::size_t b = begin; b < end; ++b) {
                float* pooled_grad = pooled_output_gradient(pass, b, bias_grad);
                const std::int32_t* winners = argmax_.data() + b * out_size;
                ops.to_channels_last(geometry_, pass.input + b * in_size, image);
                if (pass.input_grad) std::fill(image_grad, image_grad + image_floats, 0.0f);
                ops.pooled_conv_backward_channels_last(shape, pooled_grad, winners, image, hwc_weights,
                                                            grad, pass.input_grad ? image_grad : nullptr, terms);
                if (pass.input_grad)
                    ops.from_channels_last(geometry_, image_grad, pass.input_grad + b * in_size);
            }
        });
        const int used = int(std::min<std::size_t>(std::size_t(threads), std::size_t(pass.batch)));
        for (int t = 0; t < used; ++t) {
            pass.compute.ops->add_weights_from_channels_last(geometry_, filters_, thread_grads + std::size_t(t) * weights_.size(),
                                                    weight_grad_.data());
            pass.compute.ops->add(bias_scratch + std::size_t(t) * std::size_t(filters_), biases_.size(), bias_grad_.data());
        }
    }

    bool channels_last() const { return geometry_.channels % 8 == 0; }
    // Few taps, filters in multiples of 8, a 2x2 pool that tiles the output, bias and activation
    // after the pool: the forward runs the direct kernel (kernels/ops/conv_pool.h).
    // (The table says whether its backend has such a kernel for the shape.)
    bool direct_forward(const kernels::Ops& ops) const {
        return direct_fits() && ops.conv_maxpool_direct_fits(geometry_, filters_, *pool_);
    }
    bool direct_fits() const { return pool_first() && kernels::conv_maxpool_direct_fits(geometry_, filters_, *pool_); }
    std::size_t direct_thread_floats() const { return kernels::conv_maxpool_direct_scratch_floats(geometry_, filters_); }

    // The fused layer's scratch, after the per-thread columns and gradients: per thread the
    // convolution output, the pooled-gradient rows and a bias gradient; for the channels-last
    // backward the reordered weights and per thread two images and the terms; for the direct
    // forward the taps-major weights and per thread its scratch.
    struct PooledScratch {
        float *conv, *rows, *bias, *hwc_weights, *hwc, *taps_major, *direct;
    };
    // Offsets of the parts from the start of the fused layer's scratch, and its end.
    std::array<std::size_t, 8> pooled_scratch_offsets(int threads) const {
        const std::size_t n = std::size_t(threads);
        std::array<std::size_t, 8> at{};
        at[1] = at[0] + n * output_.size();
        at[2] = at[1] + n * pooled_gradient_floats();
        at[3] = at[2] + n * std::size_t(filters_);
        at[4] = at[3] + (channels_last() ? weights_.size() : 0);
        at[5] = at[4] + (channels_last() ? n * channels_last_thread_floats() : 0);
        at[6] = at[5] + (direct_fits() ? weights_.size() : 0);
        at[7] = at[6] + (direct_fits() ? n * direct_thread_floats() : 0);
        return at;
    }
    PooledScratch pooled_scratch(float* workspace, int threads) const {
        float* base = workspace + std::size_t(threads) * thread_floats();
        const std::array<std::size_t, 8> at = pooled_scratch_offsets(threads);
        return {base + at[0], base + at[1], base + at[2], base + at[3], base + at[4], base + at[5], base + at[6]};
    }
    std::size_t pooled_scratch_floats(int threads) const { return pooled_scratch_offsets(threads)[7]; }
    kernels::PooledConvShape pooled_conv_shape() const { return {geometry_, filters_, pooled_spatial()}; }
    std::size_t channels_last_thread_floats() const {
        return 2 * kernels::channels_last_floats(geometry_) + kernels::pooled_conv_scratch_floats(pooled_conv_shape());
    }

    // Both pooled backwards start an image here: the activation's gradient taken on the pooled
    // outputs (in place) and the bias gradient added to bias_grad; returns the pooled gradient.
    float* pooled_output_gradient(const BackwardPass& pass, std::size_t b, float* bias_grad) const {
        const std::size_t out_size = pooled_size();
        float* pooled_grad = pass.output_grad + b * out_size;
        pass.compute.ops->activation_gradient_single(activation_, pass.output + b * out_size, pooled_grad,
                                     out_size);
        pass.compute.ops->bias_gradient_single(pooled_grad, 1, filters_, pooled_spatial(), bias_grad);
        return pooled_grad;
    }

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
    std::size_t thread_floats() const {
        std::size_t floats = columns_size() + weights_.size();
        if (mode_ == BinaryMode::xnor) {
            const std::size_t pixels = std::size_t(input_.h) * std::size_t(input_.w);
            floats += 2 * input_.size() + pixels + std::size_t(spatial());
            floats += packed_workspace_floats_;
        }
        return floats;
    }

    // alpha and s(W) from the latent weights; for inference also the packed signs and the folded
    // per-filter transform out = dot * scale[f] * K[p] + shift[f].
    void prepare_binary(const kernels::Ops& ops, bool train, bool packed) {
        if (binary_.prepare(ops, weights_.data(), train, packed, biases_.data(),
                            batch_normalize_ ? scales_.data() : nullptr, rolling_mean_.data(), rolling_variance_.data()))
            packed_ = kernels::pack_filters(weights_.data(), filters_, input_.c, geometry_.size);
    }

    void binary_forward(const ForwardPass& pass) {
        const bool xnor = mode_ == BinaryMode::xnor;
        const bool packed = xnor && !pass.train && pass.packed_binary;
        prepare_binary(*pass.compute.ops, pass.train, packed);
        const std::size_t in_size = input_.size(), out_size = output_.size();
        const bool fuse_bias = !batch_normalize_;
        float* conv_out = batch_normalize_ && pass.train ? x_.data() : pass.output;
        const int threads = pass.compute.pool->size();
        if (packed && pass.batch < threads) {
            // Too few images to share out: each image's positions are split over the pool.
            const XnorScratch scratch = xnor_scratch(pass.workspace);
            float* abs_mean = scratch.abs_mean;
            float* k_map = scratch.map;
            void* pool_workspace = align64(pass.workspace + std::size_t(threads) * thread_floats());
            for (int b = 0; b < pass.batch; ++b) {
                const float* image = pass.input + std::size_t(b) * in_size;
                float* out = pass.output + std::size_t(b) * out_size;
                pass.compute.ops->input_scale_map(geometry_, image, abs_mean, k_map);
                pass.compute.ops->xnor_conv(pass.compute, geometry_, packed_, image, out, pool_workspace);
                output_transform(*pass.compute.ops, out, binary_.eval_scale.data(), k_map, binary_.eval_shift.data(), out);
                pass.compute.ops->activate_single(activation_, out, out_size);
            }
            return;
        }
        pass.compute.pool->parallel_for(std::size_t(pass.batch), [&](std::size_t begin, std::size_t end, int thread) {
            float* columns = pass.workspace + std::size_t(thread) * thread_floats();
            const XnorScratch scratch = xnor_scratch(columns);
            float* signed_image = scratch.signed_image;
            float* abs_mean = scratch.abs_mean;
            float* k_scratch = scratch.map;
            void* packed_workspace = scratch.packed;
            for (std::size_t b = begin; b < end; ++b) {
                const float* image = pass.input + b * in_size;
                float* out = conv_out + b * out_size;
                float* dots = xnor && pass.train ? dots_.data() + b * out_size : out;
                const float* k = nullptr;
                if (xnor) {
                    float* k_map = pass.train ? k_maps_.data() + b * std::size_t(spatial()) : k_scratch;
                    pass.compute.ops->input_scale_map(geometry_, image, abs_mean, k_map);
                    k = k_map;
                }
                if (packed) {
                    pass.compute.ops->xnor_conv_single(geometry_, packed_, image, dots, packed_workspace);
                } else {
                    const float* source = image;
                    if (xnor) {
                        pass.compute.ops->sign(image, in_size, signed_image);
                        source = signed_image;
                    }
                    pass.compute.ops->gemm_single({false, false, filters_, spatial(), patch(), 1.0f, binary_.signs.data(), patch(),
                                          lowered(*pass.compute.ops, source, columns), spatial(), 0.0f, dots,
                                          spatial()});
                }
                if (!pass.train) {
                    output_transform(*pass.compute.ops, dots, binary_.eval_scale.data(), k, binary_.eval_shift.data(), out);
                    pass.compute.ops->activate_single(activation_, out, out_size);
                    continue;
                }
                output_transform(*pass.compute.ops, dots, binary_.alpha.data(), k, nullptr, out);
                if (fuse_bias) {
                    pass.compute.ops->scale_add_bias(out, nullptr, biases_.data(), 1, filters_, spatial());
                    pass.compute.ops->activate_single(activation_, out, out_size);
                }
            }
        });
        if (!pass.train || fuse_bias) return;
        const std::size_t total = std::size_t(pass.batch) * out_size;
        pass.compute.ops->channel_mean_variance(x_.data(), pass.batch, filters_, spatial(), mean_.data(), variance_.data());
        pass.compute.ops->update_rolling(mean_.data(), variance_.data(), filters_, pass.batch * spatial(), rolling_mean_.data(),
                                rolling_variance_.data());
        pass.compute.ops->normalize(x_.data(), mean_.data(), variance_.data(), pass.batch, filters_, spatial(), x_norm_.data());
        std::memcpy(pass.output, x_norm_.data(), total * sizeof(float));
        pass.compute.ops->scale_add_bias(pass.output, scales_.data(), biases_.data(), pass.batch, filters_,
                                spatial());
        pass.compute.ops->activate(pass.compute, activation_, pass.output, total);
    }

    // out[f][p] = dots[f][p] * scale[f] * K[p] (+ shift[f]); K null means 1, shift null means none.
    void output_transform(const kernels::Ops& ops, const float* dots, const float* scale, const float* k,
                          const float* shift, float* out) const {
        ops.binary_output({filters_, spatial(), true, scale, k, shift}, dots, out);
    }

    // Through the activation, bias and batch norm (whole batch): output_grad becomes dL/d(the
    // convolution's output), and the bias and scale gradients are added.
    void gradient_before_weights(const BackwardPass& pass) {
        const std::size_t total = std::size_t(pass.batch) * output_.size();
        pass.compute.ops->activation_gradient(pass.compute, activation_, pass.output, pass.output_grad, total);
        pass.compute.ops->bias_gradient(pass.compute, pass.output_grad, pass.batch, filters_, spatial(), bias_grad_.data());
        if (batch_normalize_) {
            pass.compute.ops->scale_gradient(pass.compute, pass.output_grad, x_norm_.data(), pass.batch, filters_, spatial(),
                                    scale_grad_.data());
            pass.compute.ops->batchnorm_backward(pass.output_grad, x_norm_.data(), scales_.data(), variance_.data(), pass.batch,
                                        filters_, spatial());
        }
    }

    void binary_backward(const BackwardPass& pass) {
        const bool xnor = mode_ == BinaryMode::xnor;
        const std::size_t in_size = input_.size(), out_size = output_.size();
        gradient_before_weights(pass);
        // output_grad is now dL/d(alpha * K * dots). With W~ = alpha * s(W) the layer computes
        // K * (W~ conv input~), so the usual convolution gradients run on g * K and W~.
        pass.compute.ops->scale_rows(binary_.signs.data(), binary_.alpha.data(), filters_, patch(), binary_.effective.data());
        const int threads = pass.compute.pool->size();
        pass.compute.pool->parallel_for(std::size_t(pass.batch), [&](std::size_t begin, std::size_t end, int thread) {
            float* columns = pass.workspace + std::size_t(thread) * thread_floats();
            float* grad = columns + columns_size();
            const XnorScratch scratch = xnor_scratch(columns);
            float* signed_image = scratch.signed_image;
            float* image_grad = scratch.image_grad;
            float* abs_mean_grad = scratch.abs_mean;
            float* k_grad = scratch.map;
            std::fill(grad, grad + weights_.size(), 0.0f);
            for (std::size_t b = begin; b < end; ++b) {
                float* delta = pass.output_grad + b * out_size;
                const float* image = pass.input + b * in_size;
                const float* source = image;
                if (xnor) {
                    const float* k = k_maps_.data() + b * std::size_t(spatial());
                    const float* dots = dots_.data() + b * out_size;
                    pass.compute.ops->xnor_conv_scale_gradient(filters_, spatial(), binary_.alpha.data(), dots, k, delta,
                                                               k_grad);
                    pass.compute.ops->sign(image, in_size, signed_image);
                    source = signed_image;
                }
                pass.compute.ops->gemm_single({false, true, filters_, patch(), spatial(), 1.0f, delta, spatial(),
                                      lowered(*pass.compute.ops, source, columns), spatial(), 1.0f, grad, patch()});
                if (!pass.input_grad) continue;
                float* target = xnor ? image_grad : pass.input_grad + b * in_size;
                if (xnor) std::fill(image_grad, image_grad + in_size, 0.0f);
                if (is_pointwise()) {
                    pass.compute.ops->gemm_single({true, false, patch(), spatial(), filters_, 1.0f, binary_.effective.data(), patch(),
                                          delta, spatial(), 1.0f, target, spatial()});
                } else {
                    pass.compute.ops->gemm_single({true, false, patch(), spatial(), filters_, 1.0f, binary_.effective.data(), patch(),
                                          delta, spatial(), 0.0f, columns, spatial()});
                    pass.compute.ops->col2im_add(geometry_, columns, target);
                }
                if (!xnor) continue;
                float* input_grad = pass.input_grad + b * in_size;
                pass.compute.ops->sign_gradient_add(image, image_grad, in_size, input_grad);
                pass.compute.ops->input_scale_gradient(geometry_, image, k_grad, abs_mean_grad, input_grad);
            }
        });
        // Sum the threads' dL/dW~ in a fixed order, then map it onto the latent weights.
        float* total_grad = pass.workspace + columns_size();
        const int used = int(std::min<std::size_t>(std::size_t(threads), std::size_t(pass.batch)));
        for (int t = 1; t < used; ++t)
            pass.compute.ops->add(pass.workspace + std::size_t(t) * thread_floats() + columns_size(), weights_.size(),
                                  total_grad);
        pass.compute.ops->binary_weight_gradient(weights_.data(), binary_.alpha.data(), total_grad, filters_, patch(),
                                        weight_grad_.data());
    }

    // The XNOR parts of one thread's scratch, after its columns and weight-gradient accumulator:
    // the signed image, its gradient, an h*w map (|x| channel means or their gradient), an
    // output-sized map (K or its gradient), then the packed kernel's bytes. Null for other layers.
    struct XnorScratch {
        float *signed_image = nullptr, *image_grad = nullptr, *abs_mean = nullptr, *map = nullptr;
        void* packed = nullptr;
    };
    XnorScratch xnor_scratch(float* thread_base) const {
        if (mode_ != BinaryMode::xnor) return {};
        const std::size_t pixels = std::size_t(input_.h) * std::size_t(input_.w);
        float* signed_image = thread_base + columns_size() + weights_.size();
        float* abs_mean = signed_image + 2 * input_.size();
        return {signed_image, signed_image + input_.size(), abs_mean, abs_mean + pixels,
                align64(abs_mean + pixels + spatial())};
    }

    // Packed all-(+1) filters of the layer's shape, for sizing the packed kernels' workspaces.
    kernels::PackedFilters shape_only_filters() const {
        const std::vector<float> zeros(weights_.size(), 0.0f);
        return kernels::pack_filters(zeros.data(), filters_, input_.c, geometry_.size);
    }

    int patch() const { return geometry_.channels * geometry_.size * geometry_.size; }
    int spatial() const { return output_.h * output_.w; }
    std::size_t columns_size() const { return is_pointwise() ? 0 : std::size_t(patch()) * std::size_t(spatial()); }
    // A 1x1, stride 1, unpadded convolution reads the image as its own column matrix.
    bool is_pointwise() const { return geometry_.size == 1 && geometry_.stride == 1 && geometry_.pad == 0; }
    const float* lowered(const kernels::Ops& ops, const float* image, float* columns) const {
        if (is_pointwise()) return image;
        ops.im2col(geometry_, image, columns);
        return columns;
    }

    int filters_;
    Activation activation_;
    bool batch_normalize_;
    BinaryMode mode_;
    kernels::ConvGeometry geometry_;
    std::vector<float> weights_, weight_grad_, biases_, bias_grad_, scales_, scale_grad_;
    std::vector<float> rolling_mean_, rolling_variance_, mean_, variance_, x_, x_norm_;
    // Binary layers: s(W), alpha, alpha * s(W) and the inference transform, the training forward's
    // dots and K maps (XNOR) and the packed signs (valid until the weights change).
    BinaryWeightsState binary_;
    std::vector<float> dots_, k_maps_;
    kernels::PackedFilters packed_;
    std::size_t packed_workspace_floats_ = 0;
    std::optional<kernels::PoolGeometry> pool_;  // the absorbed max pool, if any
    std::vector<std::int32_t> argmax_;           // its winners, per pooled output
};

}  // namespace

Activation parse_activation_key(const CfgSection& section, std::string_view fallback) {
    const std::string name = section.get_string("activation", fallback);
    Activation activation{};
    if (!parse_activation(name, activation)) section.fail("activation", "expected linear, relu, leaky, logistic or tanh");
    return activation;
}

std::unique_ptr<Layer> make_convolutional(const CfgSection& section, Shape input) {
    const int filters = section.get_int("filters", 1, 1, 1 << 16);
    const int size = section.get_int("size", 1, 1, 1 << 12);
    const int stride = section.get_int("stride", 1, 1, 1 << 12);
    const bool pad_flag = section.get_bool("pad", false);
    const int padding = section.get_int("padding", pad_flag ? size / 2 : 0, 0, 1 << 12);
    const Activation activation = parse_activation_key(section, "logistic");
    const bool batch_normalize = section.get_bool("batch_normalize", false);
    if (section.get_int("groups", 1) != 1) section.fail("groups", "grouped convolution is not supported yet");
    if (section.get_int("dilation", 1) != 1) section.fail("dilation", "dilated convolution is not supported yet");
    const BinaryMode mode = parse_binary_mode(section);
    section.get_bool("bin_output", false);  // a hint that the output feeds binary layers only
    const double weight_count = double(filters) * input.c * size * size;
    if (weight_count > double(1 << 28))
        section.fail("filters", cat(filters, " filters of ", input.c, "x", size, "x", size, " need ", weight_count,
                                    " weights: too many (at most 2^28)"));
    if (input.h + 2 * padding < size || input.w + 2 * padding < size)
        section.fail("size", cat("a ", size, "x", size, " window does not fit the ", to_string(input),
                                 " input with padding ", padding));
    return std::make_unique<ConvolutionalLayer>(input, filters, size, stride, padding, activation, batch_normalize,
                                                mode);
}

}  // namespace lenet
