// [convolutional] with binary=1 (BWN) or xnor=1 (xnor_scale=k or none): float simulation for
// training, bit-packed XNOR kernels at inference, one folded output transform for both (DESIGN.md §4).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <optional>

#include "cfg/cfg.h"
#include "core/error.h"
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
#include "layers/convolutional_layer.h"
#include "layers/layer.h"

namespace lenet {

void ConvolutionalLayer::prepare_binary(const kernels::Ops& ops, bool train, bool packed) {
    if (binary_.prepare(ops, weights_.data(), train, packed, biases_.data(),
                        batch_normalize_ ? scales_.data() : nullptr, rolling_mean_.data(), rolling_variance_.data())) {
        packed_ = kernels::pack_filters(weights_.data(), filters_, input_.c, geometry_.size, zero_);
        thresholds_ready_ = false;
    }
}

void ConvolutionalLayer::make_sign_thresholds(const kernels::Ops& ops) {
    const int n = patch();
    const std::size_t count = 2 * std::size_t(n) + 1;
    std::vector<float> dots(count), values(count);
    for (std::size_t k = 0; k < count; ++k) dots[k] = float(int(k) - n);
    sign_above_.assign(std::size_t(filters_), 0);
    sign_invert_.assign(std::size_t(filters_), 0);
    for (int f = 0; f < filters_; ++f) {
        const auto fu = std::size_t(f);
        ops.binary_output({1, int(count), true, binary_.eval_scale.data() + fu, nullptr, binary_.eval_shift.data() + fu},
                          dots.data(), values.data());
        ops.activate_single(activation_, values.data(), count);
        for (const SignStage& stage : sign_stages_) stage.layer->sign_stage_apply(ops, f + stage.shift, values.data(), count);
        // The bits along the dots: constant, or one step up or down.
        const bool first = kernels::sign_bit_of(values[0], kernels::ZeroSign::negative);
        int steps = 0, at = 0;
        bool last = first;
        for (std::size_t k = 1; k < count; ++k) {
            const bool bit = kernels::sign_bit_of(values[k], kernels::ZeroSign::negative);
            if (bit != last) ++steps, at = int(k);
            last = bit;
        }
        if (steps > 1)
            throw Error(cat("an XNOR convolution's output (filter ", f, ") is not monotone in its dot products "
                            "(non-finite weights?): its bit-packed output cannot equal the float simulation; "
                            "run with -float-binary"));
        if (steps == 0) {
            sign_above_[fu] = first ? -n - 1 : n;  // always / never above
        } else {
            sign_above_[fu] = at - 1 - n;  // the last dot before the step
            sign_invert_[fu] = first ? 1 : 0;
        }
    }
    thresholds_ready_ = true;
}

void ConvolutionalLayer::sign_planes_forward(const ForwardPass& pass) {
    const kernels::Ops& ops = *pass.compute.ops;
    if (sign_output_ && !thresholds_ready_) make_sign_thresholds(ops);
    const std::size_t in_bytes = kernels::sign_planes_bytes(input_.c, input_.h, input_.w);
    const std::size_t out_bytes = kernels::sign_planes_bytes(filters_, output_.h, output_.w);
    const std::size_t in_size = input_.size(), out_size = output_.size();
    const auto* in_planes = reinterpret_cast<const std::uint8_t*>(pass.input);
    auto* out_planes = reinterpret_cast<std::uint8_t*>(pass.output);
    const auto io_of = [&](std::size_t b) {
        kernels::XnorConvIo io;
        if (sign_input_) io.in_planes = in_planes + b * in_bytes;
        else io.image = pass.input + b * in_size;
        if (sign_output_) {
            io.out_planes = out_planes + b * out_bytes;
            io.thresholds = sign_thresholds();
        } else {
            io.dots = pass.output + b * out_size;
        }
        return io;
    };
    const int threads = pass.compute.pool->size();
    const double bit_ops = double(filters_) * double(patch()) * double(spatial());
    if (pass.batch < threads && bit_ops >= 512 * ThreadPool::kMinSplitWork) {
        void* pool_workspace = align64(pass.workspace + std::size_t(threads) * thread_floats());
        for (std::size_t b = 0; b < std::size_t(pass.batch); ++b) {
            ops.xnor_conv_io(pass.compute, geometry_, packed_, io_of(b), pool_workspace);
            if (sign_output_) continue;
            float* out = pass.output + b * out_size;
            const int chunks = double(out_size) >= ThreadPool::kMinSplitWork ? threads : 1;
            pass.compute.pool->parallel_for(std::size_t(filters_), [&](std::size_t first, std::size_t last, int) {
                const int rows_count = int(last - first);
                float* rows = out + first * std::size_t(spatial());
                ops.binary_output({rows_count, spatial(), true, binary_.eval_scale.data() + first, nullptr,
                                   binary_.eval_shift.data() + first},
                                  rows, rows);
                ops.activate_single(activation_, rows, std::size_t(rows_count) * std::size_t(spatial()));
            }, chunks);
        }
        return;
    }
    const Compute single{nullptr, &ops};
    pass.compute.pool->parallel_for(std::size_t(pass.batch), [&](std::size_t begin, std::size_t end, int thread) {
        void* workspace = xnor_scratch(pass.workspace + std::size_t(thread) * thread_floats()).packed;
        for (std::size_t b = begin; b < end; ++b) {
            ops.xnor_conv_io(single, geometry_, packed_, io_of(b), workspace);
            if (sign_output_) continue;
            float* out = pass.output + b * out_size;
            output_transform(ops, out, binary_.eval_scale.data(), nullptr, binary_.eval_shift.data(), out);
            ops.activate_single(activation_, out, out_size);
        }
    });
}

void ConvolutionalLayer::binary_forward(const ForwardPass& pass) {
    const kernels::Ops& ops = *pass.compute.ops;
    const bool xnor = mode_ == BinaryMode::xnor;
    const bool packed = xnor && !pass.train && pass.packed_binary;
    prepare_binary(*pass.compute.ops, pass.train, packed);
    if (packed && (sign_input_ || sign_output_)) return sign_planes_forward(pass);
    const std::size_t in_size = input_.size(), out_size = output_.size();
    const bool fuse_bias = !batch_normalize_;
    float* conv_out = batch_normalize_ && pass.train ? x_.data() : pass.output;
    const int threads = pass.compute.pool->size();
    // A small layer (13x13 1x1 convs of a detector's head) is faster on one thread than split.
    const double bit_ops = double(filters_) * double(patch()) * double(spatial());
    if (packed && pass.batch < threads && bit_ops >= 512 * ThreadPool::kMinSplitWork) {
        // Too few images to share out: each image's positions are split over the pool.
        const XnorScratch scratch = xnor_scratch(pass.workspace);
        float* abs_mean = scratch.abs_mean;
        float* k_map = scratch.map;
        void* pool_workspace = align64(pass.workspace + std::size_t(threads) * thread_floats());
        for (int b = 0; b < pass.batch; ++b) {
            const float* image = pass.input + std::size_t(b) * in_size;
            float* out = pass.output + std::size_t(b) * out_size;
            if (input_scale_) ops.input_scale_map(geometry_, image, abs_mean, k_map);
            ops.xnor_conv(pass.compute, geometry_, packed_, image, out, pool_workspace);
            // The transform and activation per filter row, rows split over the pool (elementwise).
            const int chunks = double(out_size) >= ThreadPool::kMinSplitWork ? threads : 1;
            pass.compute.pool->parallel_for(std::size_t(filters_), [&](std::size_t first, std::size_t last, int) {
                const int count = int(last - first);
                float* rows = out + first * std::size_t(spatial());
                ops.binary_output({count, spatial(), true, binary_.eval_scale.data() + first,
                                   input_scale_ ? k_map : nullptr, binary_.eval_shift.data() + first},
                                  rows, rows);
                ops.activate_single(activation_, rows, std::size_t(count) * std::size_t(spatial()));
            }, chunks);
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
            // Without K the backward needs no dots: alpha scales them in place.
            float* dots = input_scale_ && pass.train ? dots_.data() + b * out_size : out;
            const float* k = nullptr;
            if (input_scale_) {
                float* k_map = pass.train ? k_maps_.data() + b * std::size_t(spatial()) : k_scratch;
                ops.input_scale_map(geometry_, image, abs_mean, k_map);
                k = k_map;
            }
            if (packed) {
                ops.xnor_conv_single(geometry_, packed_, image, dots, packed_workspace);
            } else {
                const float* source = image;
                if (xnor) {
                    ops.sign(image, in_size, zero_, signed_image);
                    source = signed_image;
                }
                ops.gemm_single({false, false, filters_, spatial(), patch(), 1.0f, binary_.signs.data(), patch(),
                                 lowered(ops, source, columns), spatial(), 0.0f, dots, spatial()});
            }
            if (!pass.train) {
                output_transform(*pass.compute.ops, dots, binary_.eval_scale.data(), k, binary_.eval_shift.data(), out);
                ops.activate_single(activation_, out, out_size);
                continue;
            }
            output_transform(*pass.compute.ops, dots, binary_.alpha.data(), k, nullptr, out);
            if (fuse_bias) {
                ops.scale_add_bias(out, nullptr, biases_.data(), 1, filters_, spatial());
                ops.activate_single(activation_, out, out_size);
            }
        }
    });
    if (!pass.train || fuse_bias) return;
    const std::size_t total = std::size_t(pass.batch) * out_size;
    ops.channel_mean_variance(x_.data(), pass.batch, filters_, spatial(), mean_.data(), variance_.data());
    ops.update_rolling(mean_.data(), variance_.data(), filters_, pass.batch * spatial(), rolling_mean_.data(),
                       rolling_variance_.data());
    ops.normalize(x_.data(), mean_.data(), variance_.data(), pass.batch, filters_, spatial(), x_norm_.data());
    ops.copy(x_norm_.data(), total, pass.output);
    ops.scale_add_bias(pass.output, scales_.data(), biases_.data(), pass.batch, filters_, spatial());
    ops.activate(pass.compute, activation_, pass.output, total);
}

void ConvolutionalLayer::output_transform(const kernels::Ops& ops, const float* dots, const float* scale,
                                          const float* k, const float* shift, float* out) const {
    ops.binary_output({filters_, spatial(), true, scale, k, shift}, dots, out);
}

void ConvolutionalLayer::binary_backward(const BackwardPass& pass) {
    const kernels::Ops& ops = *pass.compute.ops;
    const bool xnor = mode_ == BinaryMode::xnor;
    const std::size_t in_size = input_.size(), out_size = output_.size();
    gradient_before_weights(pass);
    // output_grad is now dL/d(alpha * K * dots) (K = 1 without xnor_scale=k). With W~ = alpha * s(W)
    // the layer computes K * (W~ conv input~), so the usual convolution gradients run on g * K and W~.
    ops.scale_rows(binary_.signs.data(), binary_.alpha.data(), filters_, patch(), binary_.effective.data());
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
                if (input_scale_) {
                    const float* k = k_maps_.data() + b * std::size_t(spatial());
                    const float* dots = dots_.data() + b * out_size;
                    ops.xnor_conv_scale_gradient(filters_, spatial(), binary_.alpha.data(), dots, k, delta, k_grad);
                }
                ops.sign(image, in_size, zero_, signed_image);
                source = signed_image;
            }
            ops.gemm_single({false, true, filters_, patch(), spatial(), 1.0f, delta, spatial(),
                             lowered(ops, source, columns), spatial(), 1.0f, grad, patch()});
            if (!pass.input_grad) continue;
            float* target = xnor ? image_grad : pass.input_grad + b * in_size;
            if (xnor) std::fill(image_grad, image_grad + in_size, 0.0f);
            if (is_pointwise()) {
                ops.gemm_single({true, false, patch(), spatial(), filters_, 1.0f, binary_.effective.data(), patch(),
                                 delta, spatial(), 1.0f, target, spatial()});
            } else {
                ops.gemm_single({true, false, patch(), spatial(), filters_, 1.0f, binary_.effective.data(), patch(),
                                 delta, spatial(), 0.0f, columns, spatial()});
                ops.col2im_add(geometry_, columns, target);
            }
            if (!xnor) continue;
            float* input_grad = pass.input_grad + b * in_size;
            ops.sign_gradient_add(image, image_grad, in_size, input_grad);
            if (input_scale_) ops.input_scale_gradient(geometry_, image, k_grad, abs_mean_grad, input_grad);
        }
    });
    // Sum the threads' dL/dW~ in a fixed order, then map it onto the latent weights.
    float* total_grad = pass.workspace + columns_size();
    const int used = int(std::min<std::size_t>(std::size_t(threads), std::size_t(pass.batch)));
    for (int t = 1; t < used; ++t)
        ops.add(pass.workspace + std::size_t(t) * thread_floats() + columns_size(), weights_.size(), total_grad);
    ops.binary_weight_gradient(weights_.data(), binary_.alpha.data(), total_grad, filters_, patch(), zero_,
                               weight_grad_.data());
}

ConvolutionalLayer::XnorScratch ConvolutionalLayer::xnor_scratch(float* thread_base) const {
    if (mode_ != BinaryMode::xnor) return {};
    const std::size_t pixels = std::size_t(input_.h) * std::size_t(input_.w);
    float* signed_image = thread_base + columns_size() + weights_.size();
    float* abs_mean = signed_image + 2 * input_.size();
    return {signed_image, signed_image + input_.size(), abs_mean, abs_mean + pixels,
            align64(abs_mean + pixels + spatial())};
}

}  // namespace lenet
