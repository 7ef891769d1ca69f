// [convolutional], the float path: im2col + GEMM per image (images spread over the pool), bias and
// activation fused per image, or batch norm over the whole batch.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
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
#include "kernels/ops/conv_direct.h"
#include "kernels/ops/conv_pool.h"
#include "kernels/ops/im2col.h"
#include "kernels/ops/pooled_gradient.h"
#include "kernels/ops.h"
#include "layers/binary.h"
#include "layers/convolutional_layer.h"
#include "layers/layer.h"

namespace lenet {

const kernels::PackedGemmA& ConvolutionalLayer::gemm_weights(const kernels::Ops& ops) {
    if (!gemm_weights_ready_) {
        ops.gemm_pack_a(weights_.data(), filters_, patch(), patch(), gemm_weights_);
        gemm_weights_ready_ = true;
    }
    return gemm_weights_;
}

void ConvolutionalLayer::float_forward(const ForwardPass& pass) {
    const kernels::Ops& ops = *pass.compute.ops;
    const std::size_t in_size = input_.size(), out_size = output_.size();
    const bool fuse_bias = !batch_normalize_;
    float* conv_out = batch_normalize_ && pass.train ? x_.data() : pass.output;
    if (!pass.train && ops.conv_direct_fits(geometry_, filters_) &&
        direct_scratch_floats() <= thread_floats()) {
        direct_forward(pass);
        return;
    }
    if (pass.batch < pass.compute.pool->size()) {
        // Too few images to share out: one at a time, the GEMM split over the pool.
        for (std::size_t b = 0; b < std::size_t(pass.batch); ++b) {
            float* out = conv_out + b * out_size;
            const float* image = pass.input + b * in_size;
            const float* columns = image;
            if (!is_pointwise()) {
                // im2col too: each channel's rows of the column matrix are its own.
                const std::size_t plane = std::size_t(input_.h) * std::size_t(input_.w);
                const std::size_t rows = std::size_t(geometry_.size) * std::size_t(geometry_.size) * std::size_t(spatial());
                const int chunks = double(columns_size()) >= ThreadPool::kMinSplitWork ? pass.compute.pool->size() : 1;
                pass.compute.pool->parallel_for(std::size_t(input_.c), [&](std::size_t first, std::size_t last, int) {
                    kernels::ConvGeometry part = geometry_;
                    part.channels = int(last - first);
                    ops.im2col(part, image + first * plane, pass.workspace + first * rows);
                }, chunks);
                columns = pass.workspace;
            }
            const kernels::GemmArgs product{false, false, filters_, spatial(), patch(), 1.0f, weights_.data(), patch(),
                                            columns, spatial(), 0.0f, out, spatial()};
            if (gemm_weights_once_ && !pass.train) ops.gemm_packed_a(pass.compute, gemm_weights(ops), product);
            else ops.gemm(pass.compute, product);
            if (fuse_bias) {
                ops.scale_add_bias(out, nullptr, biases_.data(), 1, filters_, spatial());
                ops.activate_single(activation_, out, out_size);
            }
        }
    } else {
        const kernels::PackedGemmA* packed = gemm_weights_once_ && !pass.train ? &gemm_weights(ops) : nullptr;
        const Compute single{nullptr, &ops};
        const auto images = [&](std::size_t begin, std::size_t end, int thread) {
            float* columns = pass.workspace + std::size_t(thread) * columns_size();
            for (std::size_t b = begin; b < end; ++b) {
                const float* image = pass.input + b * in_size;
                float* out = conv_out + b * out_size;
                const kernels::GemmArgs product{false, false, filters_, spatial(), patch(), 1.0f, weights_.data(), patch(),
                                                lowered(ops, image, columns), spatial(), 0.0f, out, spatial()};
                if (packed) ops.gemm_packed_a(single, *packed, product);
                else ops.gemm_single(product);
                if (fuse_bias) {
                    ops.scale_add_bias(out, nullptr, biases_.data(), 1, filters_, spatial());
                    ops.activate_single(activation_, out, out_size);
                }
            }
        };
        pass.compute.pool->parallel_dynamic(std::size_t(pass.batch), 1, images);
    }
    if (fuse_bias) return;
    const std::size_t total = std::size_t(pass.batch) * out_size;
    if (pass.train) {
        ops.channel_mean_variance(x_.data(), pass.batch, filters_, spatial(), mean_.data(), variance_.data());
        ops.update_rolling(mean_.data(), variance_.data(), filters_, pass.batch * spatial(), rolling_mean_.data(),
                           rolling_variance_.data());
        ops.normalize(x_.data(), mean_.data(), variance_.data(), pass.batch, filters_, spatial(), x_norm_.data());
        ops.copy(x_norm_.data(), total, pass.output);
    } else {
        // Inference: normalize, scale, bias and activate each (image, filter) row while it is in
        // cache, rows split over the pool (elementwise: the same results as whole-batch ops).
        const auto rows = [&](std::size_t begin, std::size_t end, int) {
            for (std::size_t r = begin; r < end;) {
                const std::size_t f = r % std::size_t(filters_);
                const std::size_t count = std::min(end - r, std::size_t(filters_) - f);
                float* x = pass.output + r * std::size_t(spatial());
                ops.normalize_rolling(x, rolling_mean_.data() + f, rolling_variance_.data() + f, 1, int(count), spatial(),
                                      x);
                ops.scale_add_bias(x, scales_.data() + f, biases_.data() + f, 1, int(count), spatial());
                ops.activate_single(activation_, x, count * std::size_t(spatial()));
                r += count;
            }
        };
        const int chunks = double(total) >= ThreadPool::kMinSplitWork ? pass.compute.pool->size() : 1;
        pass.compute.pool->parallel_for(std::size_t(pass.batch) * std::size_t(filters_), rows, chunks);
        return;
    }
    ops.scale_add_bias(pass.output, scales_.data(), biases_.data(), pass.batch, filters_, spatial());
    ops.activate(pass.compute, activation_, pass.output, total);
}

// Inference through the direct kernel: blocks of output rows (images and rows shared out as they
// come), each convolved, normalized, biased and activated while in cache, and with an absorbed
// pool pooled there too (the pool's windows never cross an even row boundary). Elementwise after
// the convolution and the same pooling kernel, so the results equal the unfused layers'.
std::size_t ConvolutionalLayer::direct_scratch_floats() const {
    std::size_t floats = kernels::conv_direct_scratch_floats(geometry_, kDirectRows);
    if (inference_pool_)
        floats += std::size_t(filters_) * kDirectRows * std::size_t(output_.w) +
                  std::size_t(kDirectRows / 2 + 1) * std::size_t(inference_pool_->out_w());
    return floats;
}

void ConvolutionalLayer::direct_forward(const ForwardPass& pass) {
    const kernels::Ops& ops = *pass.compute.ops;
    const int out_h = output_.h, out_w = output_.w;
    const std::size_t blocks_per_image = std::size_t((out_h + kDirectRows - 1) / kDirectRows);
    const std::optional<kernels::PoolGeometry>& pool = inference_pool_;
    const auto blocks = [&](std::size_t begin, std::size_t end, int thread) {
        float* scratch = pass.workspace + std::size_t(thread) * thread_floats();
        float* block_out = scratch + kernels::conv_direct_scratch_floats(geometry_, kDirectRows);
        for (std::size_t block = begin; block < end; ++block) {
            const std::size_t b = block / blocks_per_image;
            const int first = int(block % blocks_per_image) * kDirectRows, last = std::min(out_h, first + kDirectRows);
            const std::size_t n = std::size_t(last - first) * std::size_t(out_w);
            // Unpooled, the rows go straight to the output; pooled, to the block.
            float* out = pool ? block_out : pass.output + b * output_.size() + std::size_t(first) * std::size_t(out_w);
            const std::size_t filter_stride = pool ? n : std::size_t(spatial());
            ops.conv_direct(geometry_, filters_, weights_.data(), pass.input + b * input_.size(), first, last, out,
                            filter_stride, scratch);
            for (int f = 0; f < filters_; ++f) {
                float* x = out + std::size_t(f) * filter_stride;
                if (batch_normalize_) {
                    ops.normalize_rolling(x, rolling_mean_.data() + f, rolling_variance_.data() + f, 1, 1, int(n), x);
                    ops.scale_add_bias(x, scales_.data() + f, biases_.data() + f, 1, 1, int(n));
                } else {
                    ops.scale_add_bias(x, nullptr, biases_.data() + f, 1, 1, int(n));
                }
                ops.activate_single(activation_, x, n);
            }
            if (!pool) continue;
            const kernels::PoolGeometry rows{1, last - first, out_w, 2, 2, pool->padding};
            const std::size_t pooled_spatial = std::size_t(pool->out_h()) * std::size_t(pool->out_w());
            auto* argmax = reinterpret_cast<std::int32_t*>(block_out + std::size_t(filters_) * filter_stride);
            float* pooled = pass.output + b * std::size_t(filters_) * pooled_spatial +
                            std::size_t(first / 2) * std::size_t(pool->out_w());
            for (int f = 0; f < filters_; ++f)
                ops.maxpool_forward(rows, 1, out + std::size_t(f) * filter_stride, pooled + std::size_t(f) * pooled_spatial,
                                    argmax);
        }
    };
    pass.compute.pool->parallel_dynamic(std::size_t(pass.batch) * blocks_per_image, 1, blocks);
}

void ConvolutionalLayer::float_backward(const BackwardPass& pass) {
    const kernels::Ops& ops = *pass.compute.ops;
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
            ops.gemm_single({false, true, filters_, patch(), spatial(), 1.0f, delta, spatial(),
                             lowered(ops, pass.input + b * in_size, columns), spatial(), 1.0f, grad, patch()});
            if (!pass.input_grad) continue;
            float* image_grad = pass.input_grad + b * in_size;
            add_image_gradient(ops, delta, columns, image_grad);
        }
    });
    const int used = int(std::min<std::size_t>(std::size_t(threads), std::size_t(pass.batch)));
    for (int t = 0; t < used; ++t)
        ops.add(thread_grads + std::size_t(t) * weights_.size(), weights_.size(), weight_grad_.data());
}

void ConvolutionalLayer::gradient_before_weights(const BackwardPass& pass) {
    const kernels::Ops& ops = *pass.compute.ops;
    const std::size_t total = std::size_t(pass.batch) * output_.size();
    ops.activation_gradient(pass.compute, activation_, pass.output, pass.output_grad, total);
    ops.bias_gradient(pass.compute, pass.output_grad, pass.batch, filters_, spatial(), bias_grad_.data());
    if (batch_normalize_) {
        ops.scale_gradient(pass.compute, pass.output_grad, x_norm_.data(), pass.batch, filters_, spatial(),
                           scale_grad_.data());
        ops.batchnorm_backward(pass.output_grad, x_norm_.data(), scales_.data(), variance_.data(), pass.batch, filters_,
                               spatial());
    }
}

}  // namespace lenet
