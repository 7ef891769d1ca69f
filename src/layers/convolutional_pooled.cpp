// [convolutional] fused with the max pool after it (absorb_next): the direct conv + pool kernel
// where the table has one, else im2col + GEMM + pool per image; the pooled backwards (CHW, and
// channels-last for channels in multiples of 8).
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
#include "layers/convolutional_layer.h"
#include "layers/layer.h"

namespace lenet {

void ConvolutionalLayer::pooled_forward(const ForwardPass& pass) {
    const kernels::Ops& ops = *pass.compute.ops;
    const std::size_t in_size = input_.size(), conv_size = output_.size(), out_size = pooled_size();
    const int threads = pass.compute.pool->size();
    const PooledScratch scratch = pooled_scratch(pass.workspace, threads);
    const bool direct = direct_forward(*pass.compute.ops);
    if (direct) ops.weights_taps_major(weights_.data(), filters_, patch(), scratch.taps_major);
    // Images are handed out one at a time (each image's outputs depend on it alone).
    pass.compute.pool->parallel_dynamic(
        std::size_t(pass.batch), 1, [&](std::size_t begin, std::size_t end, int thread) {
            float* columns = pass.workspace + std::size_t(thread) * columns_size();
            float* conv = scratch.conv + std::size_t(thread) * conv_size;
            for (std::size_t b = begin; b < end; ++b) {
                if (direct) {
                    float* pooled = pass.output + b * out_size;
                    // Inference needs no winners.
                    ops.conv_maxpool_direct(geometry_, filters_, scratch.taps_major, pass.input + b * in_size, pooled,
                                            pass.train ? argmax_.data() + b * out_size : nullptr,
                                            scratch.direct + std::size_t(thread) * direct_thread_floats());
                    ops.scale_add_bias(pooled, nullptr, biases_.data(), 1, filters_, pooled_spatial());
                    ops.activate_single(activation_, pooled, out_size);
                    continue;
                }
                const float* image = pass.input + b * in_size;
                float* pooled = pass.output + b * out_size;
                ops.gemm_single({false, false, filters_, spatial(), patch(), 1.0f, weights_.data(), patch(),
                                 lowered(ops, image, columns), spatial(), 0.0f, conv, spatial()});
                if (pool_first()) {
                    // max(f(x + bias)) is f(max(x) + bias), the same float, for these f: 1/4 of the work.
                    ops.maxpool_forward(*pool_, 1, conv, pooled, argmax_.data() + b * out_size);
                    ops.scale_add_bias(pooled, nullptr, biases_.data(), 1, filters_, pooled_spatial());
                    ops.activate_single(activation_, pooled, out_size);
                    continue;
                }
                ops.scale_add_bias(conv, nullptr, biases_.data(), 1, filters_, spatial());
                ops.activate_single(activation_, conv, conv_size);
                ops.maxpool_forward(*pool_, 1, conv, pooled, argmax_.data() + b * out_size);
            }
        });
}

void ConvolutionalLayer::pooled_backward(const BackwardPass& pass) {
    const kernels::Ops& ops = *pass.compute.ops;
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
            ops.pooled_weight_gradient(shape, pooled_grad, winners, lowered(ops, pass.input + b * in_size, columns),
                                       grad, rows);
            if (!pass.input_grad) continue;
            float* image_grad = pass.input_grad + b * in_size;
            ops.maxpool_backward_set(*pool_, 1, pooled_grad, winners, delta);
            add_image_gradient(ops, delta, columns, image_grad);
        }
    });
    const int used = int(std::min<std::size_t>(std::size_t(threads), std::size_t(pass.batch)));
    for (int t = 0; t < used; ++t) {
        ops.add(thread_grads + std::size_t(t) * weights_.size(), weights_.size(), weight_grad_.data());
        ops.add(bias_scratch + std::size_t(t) * std::size_t(filters_), biases_.size(), bias_grad_.data());
    }
}

void ConvolutionalLayer::pooled_backward_channels_last(const BackwardPass& pass) {
    const kernels::Ops& ops = *pass.compute.ops;
    const std::size_t in_size = input_.size(), out_size = pooled_size();
    const std::size_t image_floats = kernels::channels_last_floats(geometry_);
    const int threads = pass.compute.pool->size();
    float* thread_grads = pass.workspace + std::size_t(threads) * columns_size();
    const PooledScratch scratch = pooled_scratch(pass.workspace, threads);
    float* bias_scratch = scratch.bias;
    float* hwc_weights = scratch.hwc_weights;
    float* hwc_scratch = scratch.hwc;
    const kernels::PooledConvShape shape = pooled_conv_shape();
    ops.weights_to_channels_last(geometry_, filters_, weights_.data(), hwc_weights);
    pass.compute.pool->parallel_for(std::size_t(pass.batch), [&](std::size_t begin, std::size_t end, int thread) {
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
            ops.pooled_conv_backward_channels_last(shape, pooled_grad, winners, image, hwc_weights, grad,
                                                   pass.input_grad ? image_grad : nullptr, terms);
            if (pass.input_grad) ops.from_channels_last(geometry_, image_grad, pass.input_grad + b * in_size);
        }
    });
    const int used = int(std::min<std::size_t>(std::size_t(threads), std::size_t(pass.batch)));
    for (int t = 0; t < used; ++t) {
        ops.add_weights_from_channels_last(geometry_, filters_, thread_grads + std::size_t(t) * weights_.size(),
                                           weight_grad_.data());
        ops.add(bias_scratch + std::size_t(t) * std::size_t(filters_), biases_.size(), bias_grad_.data());
    }
}

std::array<std::size_t, 8> ConvolutionalLayer::pooled_scratch_offsets(int threads) const {
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

float* ConvolutionalLayer::pooled_output_gradient(const BackwardPass& pass, std::size_t b, float* bias_grad) const {
    const kernels::Ops& ops = *pass.compute.ops;
    const std::size_t out_size = pooled_size();
    float* pooled_grad = pass.output_grad + b * out_size;
    ops.activation_gradient_single(activation_, pass.output + b * out_size, pooled_grad, out_size);
    ops.bias_gradient_single(pooled_grad, 1, filters_, pooled_spatial(), bias_grad);
    return pooled_grad;
}

ConvolutionalLayer::PooledScratch ConvolutionalLayer::pooled_scratch(float* workspace, int threads) const {
    float* base = workspace + std::size_t(threads) * thread_floats();
    const std::array<std::size_t, 8> at = pooled_scratch_offsets(threads);
    return {base + at[0], base + at[1], base + at[2], base + at[3], base + at[4], base + at[5], base + at[6]};
}

std::size_t ConvolutionalLayer::channels_last_thread_floats() const {
    return 2 * kernels::channels_last_floats(geometry_) + kernels::pooled_conv_scratch_floats(pooled_conv_shape());
}

}  // namespace lenet
