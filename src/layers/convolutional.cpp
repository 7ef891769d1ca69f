// [convolutional]: filters, size, stride, pad/padding, activation, batch_normalize.
// Forward per image: im2col, then weights[filters x c*k*k] * columns[c*k*k x out_h*out_w].
// Images are spread over the thread pool; weight gradients are summed per thread, then reduced in
// a fixed order so a run is deterministic for a given thread count.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>

#include "cfg/cfg.h"
#include "core/thread_pool.h"
#include "io/weights.h"
#include "kernels/gemm/gemm.h"
#include "kernels/ops/activation.h"
#include "kernels/ops/batchnorm.h"
#include "kernels/ops/im2col.h"
#include "layers/layer.h"

namespace lenet {

namespace {

class ConvolutionalLayer final : public Layer {
public:
    ConvolutionalLayer(Shape input, int filters, int size, int stride, int pad, Activation activation,
                       bool batch_normalize)
        : filters_(filters), activation_(activation), batch_normalize_(batch_normalize),
          geometry_{input.c, input.h, input.w, size, stride, pad} {
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
    }

    LayerSummary summary() const override {
        return {"conv", std::to_string(filters_),
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
    }

    std::size_t workspace_floats(int /*batch*/, int threads) const override {
        return std::size_t(threads) * (columns_size() + weights_.size() + (pool_ ? output_.size() : 0));
    }

    // A float convolution absorbs the max pool after it (batch norm needs the whole batch's
    // statistics first, so it does not).
    bool absorb_next(const Layer& next) override {
        const kernels::PoolGeometry* pool = next.maxpool_geometry();
        if (!pool || batch_normalize_) return false;
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
        reader.read_floats(weights_.data(), weights_.size(), "weights");
    }

    void write_weights(WeightsWriter& writer) const override {
        writer.write_floats(biases_.data(), biases_.size());
        if (batch_normalize_) {
            writer.write_floats(scales_.data(), scales_.size());
            writer.write_floats(rolling_mean_.data(), rolling_mean_.size());
            writer.write_floats(rolling_variance_.data(), rolling_variance_.size());
        }
        writer.write_floats(weights_.data(), weights_.size());
    }

    void forward(const ForwardPass& pass) override {
        if (pool_) return pooled_forward(pass);
        const std::size_t in_size = input_.size(), out_size = output_.size();
        const bool fuse_bias = !batch_normalize_;
        float* conv_out = batch_normalize_ && pass.train ? x_.data() : pass.output;
        pass.compute.pool->parallel_for(std::size_t(pass.batch), [&](std::size_t begin, std::size_t end, int thread) {
            float* columns = pass.workspace + std::size_t(thread) * columns_size();
            for (std::size_t b = begin; b < end; ++b) {
                const float* image = pass.input + b * in_size;
                float* out = conv_out + b * out_size;
                kernels::gemm_single(pass.compute.backend,
                                     {false, false, filters_, spatial(), patch(), 1.0f, weights_.data(), patch(),
                                      lowered(pass.compute.backend, image, columns), spatial(), 0.0f, out, spatial()});
                if (fuse_bias) {
                    kernels::scale_add_bias(pass.compute.backend, out, nullptr, biases_.data(), 1, filters_, spatial());
                    kernels::activate(pass.compute.backend, activation_, out, out_size);
                }
            }
        });
        if (fuse_bias) return;
        const std::size_t total = std::size_t(pass.batch) * out_size;
        if (pass.train) {
            kernels::channel_mean_variance(x_.data(), pass.batch, filters_, spatial(), mean_.data(), variance_.data());
            kernels::update_rolling(mean_.data(), variance_.data(), filters_, pass.batch * spatial(),
                                    rolling_mean_.data(), rolling_variance_.data());
            kernels::normalize(x_.data(), mean_.data(), variance_.data(), pass.batch, filters_, spatial(), x_norm_.data());
            std::memcpy(pass.output, x_norm_.data(), total * sizeof(float));
        } else {
            kernels::normalize(pass.output, rolling_mean_.data(), rolling_variance_.data(), pass.batch, filters_,
                               spatial(), pass.output);
        }
        kernels::scale_add_bias(pass.compute.backend, pass.output, scales_.data(), biases_.data(), pass.batch, filters_,
                                spatial());
        kernels::activate(pass.compute, activation_, pass.output, total);
    }

    void backward(const BackwardPass& pass) override {
        if (pool_) return pooled_backward(pass);
        const std::size_t in_size = input_.size(), out_size = output_.size();
        const std::size_t total = std::size_t(pass.batch) * out_size;
        kernels::activation_gradient(pass.compute, activation_, pass.output, pass.output_grad, total);
        kernels::bias_gradient(pass.compute, pass.output_grad, pass.batch, filters_, spatial(), bias_grad_.data());
        if (batch_normalize_) {
            kernels::scale_gradient(pass.compute, pass.output_grad, x_norm_.data(), pass.batch, filters_, spatial(),
                                    scale_grad_.data());
            kernels::batchnorm_backward(pass.output_grad, x_norm_.data(), scales_.data(), variance_.data(), pass.batch,
                                        filters_, spatial());
        }
        const int threads = pass.compute.pool->size();
        float* thread_grads = pass.workspace + std::size_t(threads) * columns_size();
        pass.compute.pool->parallel_for(std::size_t(pass.batch), [&](std::size_t begin, std::size_t end, int thread) {
            float* columns = pass.workspace + std::size_t(thread) * columns_size();
            float* grad = thread_grads + std::size_t(thread) * weights_.size();
            std::fill(grad, grad + weights_.size(), 0.0f);
            for (std::size_t b = begin; b < end; ++b) {
                const float* delta = pass.output_grad + b * out_size;
                // dW += delta[filters x spatial] * columns^T[spatial x patch]
                kernels::gemm_single(pass.compute.backend,
                                     {false, true, filters_, patch(), spatial(), 1.0f, delta, spatial(),
                                      lowered(pass.compute.backend, pass.input + b * in_size, columns), spatial(),
                                      1.0f, grad, patch()});
                if (!pass.input_grad) continue;
                float* image_grad = pass.input_grad + b * in_size;
                if (is_pointwise()) {
                    kernels::gemm_single(pass.compute.backend,
                                         {true, false, patch(), spatial(), filters_, 1.0f, weights_.data(), patch(),
                                          delta, spatial(), 1.0f, image_grad, spatial()});
                    continue;
                }
                // columns = W^T[patch x filters] * delta[filters x spatial], then scattered back
                kernels::gemm_single(pass.compute.backend,
                                     {true, false, patch(), spatial(), filters_, 1.0f, weights_.data(), patch(), delta,
                                      spatial(), 0.0f, columns, spatial()});
                kernels::col2im_add(pass.compute.backend, geometry_, columns, image_grad);
            }
        });
        const int used = int(std::min<std::size_t>(std::size_t(threads), std::size_t(pass.batch)));
        for (int t = 0; t < used; ++t) {
            const float* grad = thread_grads + std::size_t(t) * weights_.size();
            for (std::size_t i = 0; i < weights_.size(); ++i) weight_grad_[i] += grad[i];
        }
    }

private:
    // Fused with the max pool: pass.output is the pool's output. Each image's convolution output
    // lives only in per-thread scratch, in cache while it is pooled; argmax_ remembers the winners.
    void pooled_forward(const ForwardPass& pass) {
        const std::size_t in_size = input_.size(), conv_size = output_.size(), out_size = pooled_size();
        const int threads = pass.compute.pool->size();
        float* conv_scratch = pass.workspace + std::size_t(threads) * (columns_size() + weights_.size());
        pass.compute.pool->parallel_for(std::size_t(pass.batch), [&](std::size_t begin, std::size_t end, int thread) {
            float* columns = pass.workspace + std::size_t(thread) * columns_size();
            float* conv = conv_scratch + std::size_t(thread) * conv_size;
            for (std::size_t b = begin; b < end; ++b) {
                const float* image = pass.input + b * in_size;
                kernels::gemm_single(pass.compute.backend,
                                     {false, false, filters_, spatial(), patch(), 1.0f, weights_.data(), patch(),
                                      lowered(pass.compute.backend, image, columns), spatial(), 0.0f, conv, spatial()});
                float* pooled = pass.output + b * out_size;
                if (pool_first()) {
                    // max(f(x + bias)) is f(max(x) + bias), the same float, for these f: 1/4 of the work.
                    kernels::maxpool_forward(pass.compute.backend, *pool_, 1, conv, pooled, argmax_.data() + b * out_size);
                    kernels::scale_add_bias(pass.compute.backend, pooled, nullptr, biases_.data(), 1, filters_, pooled_spatial());
                    kernels::activate(pass.compute.backend, activation_, pooled, out_size);
                    continue;
                }
                kernels::scale_add_bias(pass.compute.backend, conv, nullptr, biases_.data(), 1, filters_, spatial());
                kernels::activate(pass.compute.backend, activation_, conv, conv_size);
                kernels::maxpool_forward(pass.compute.backend, *pool_, 1, conv, pooled, argmax_.data() + b * out_size);
            }
        });
    }

    // The pool's gradient goes to its winners only, whose activation outputs are the pooled
    // outputs: so the activation gradient and the bias gradient are taken on the pooled arrays, and
    // each image's convolution-output gradient is scattered into per-thread scratch.
    void pooled_backward(const BackwardPass& pass) {
        const std::size_t in_size = input_.size(), conv_size = output_.size(), out_size = pooled_size();
        kernels::activation_gradient(pass.compute, activation_, pass.output, pass.output_grad, pass.batch * out_size);
        kernels::bias_gradient(pass.compute, pass.output_grad, pass.batch, filters_, pooled_spatial(), bias_grad_.data());
        const int threads = pass.compute.pool->size();
        float* thread_grads = pass.workspace + std::size_t(threads) * columns_size();
        float* conv_scratch = thread_grads + std::size_t(threads) * weights_.size();
        pass.compute.pool->parallel_for(std::size_t(pass.batch), [&](std::size_t begin, std::size_t end, int thread) {
            float* columns = pass.workspace + std::size_t(thread) * columns_size();
            float* grad = thread_grads + std::size_t(thread) * weights_.size();
            float* delta = conv_scratch + std::size_t(thread) * conv_size;
            std::fill(grad, grad + weights_.size(), 0.0f);
            for (std::size_t b = begin; b < end; ++b) {
                kernels::maxpool_backward_set(pass.compute.backend, *pool_, 1, pass.output_grad + b * out_size,
                                              argmax_.data() + b * out_size, delta);
                image_gradients(pass.compute.backend, delta, pass.input + b * in_size,
                                pass.input_grad ? pass.input_grad + b * in_size : nullptr, columns, grad);
            }
        });
        const int used = int(std::min<std::size_t>(std::size_t(threads), std::size_t(pass.batch)));
        const bool transposed = transposed_weight_gradient();
        for (int t = 0; t < used; ++t) {
            const float* grad = thread_grads + std::size_t(t) * weights_.size();
            if (!transposed) {
                for (std::size_t i = 0; i < weights_.size(); ++i) weight_grad_[i] += grad[i];
                continue;
            }
            for (std::size_t f = 0; f < std::size_t(filters_); ++f)
                for (std::size_t q = 0; q < std::size_t(patch()); ++q)
                    weight_grad_[f * std::size_t(patch()) + q] += grad[q * std::size_t(filters_) + f];
        }
    }

    // dW[filters x patch] = delta * columns^T pads m to 6 and n to 16 in the GEMM's tiles: with a
    // small patch (a 3x3 window on one channel: 9) most of each tile is padding. Then the per-thread
    // sums hold dW^T = columns * delta^T instead (m = patch, n = filters), transposed when reduced.
    bool transposed_weight_gradient() const {
        const auto padded = [](int m, int n) { return double((m + 5) / 6 * 6) * double((n + 15) / 16 * 16); };
        return padded(patch(), filters_) < 0.9 * padded(filters_, patch());
    }

    // One image: grad += delta * columns^T (or its transpose, see above); image_grad (if any) +=
    // col2im(W^T * delta).
    void image_gradients(Backend backend, const float* delta, const float* image, float* image_grad, float* columns,
                         float* grad) const {
        const float* lowered_image = lowered(backend, image, columns);
        if (transposed_weight_gradient())
            kernels::gemm_single(backend, {false, true, patch(), filters_, spatial(), 1.0f, lowered_image, spatial(),
                                           delta, spatial(), 1.0f, grad, filters_});
        else
            kernels::gemm_single(backend, {false, true, filters_, patch(), spatial(), 1.0f, delta, spatial(),
                                           lowered_image, spatial(), 1.0f, grad, patch()});
        if (!image_grad) return;
        if (is_pointwise()) {
            kernels::gemm_single(backend, {true, false, patch(), spatial(), filters_, 1.0f, weights_.data(), patch(),
                                           delta, spatial(), 1.0f, image_grad, spatial()});
            return;
        }
        kernels::gemm_single(backend, {true, false, patch(), spatial(), filters_, 1.0f, weights_.data(), patch(), delta,
                                       spatial(), 0.0f, columns, spatial()});
        kernels::col2im_add(backend, geometry_, columns, image_grad);
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

    int patch() const { return geometry_.channels * geometry_.size * geometry_.size; }
    int spatial() const { return output_.h * output_.w; }
    std::size_t columns_size() const { return is_pointwise() ? 0 : std::size_t(patch()) * std::size_t(spatial()); }
    // A 1x1, stride 1, unpadded convolution reads the image as its own column matrix.
    bool is_pointwise() const { return geometry_.size == 1 && geometry_.stride == 1 && geometry_.pad == 0; }
    const float* lowered(Backend backend, const float* image, float* columns) const {
        if (is_pointwise()) return image;
        kernels::im2col(backend, geometry_, image, columns);
        return columns;
    }

    int filters_;
    Activation activation_;
    bool batch_normalize_;
    kernels::ConvGeometry geometry_;
    std::vector<float> weights_, weight_grad_, biases_, bias_grad_, scales_, scale_grad_;
    std::vector<float> rolling_mean_, rolling_variance_, mean_, variance_, x_, x_norm_;
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
    if (section.get_bool("binary", false)) section.fail("binary", "binary weights are not supported yet");
    if (section.get_bool("xnor", false)) section.fail("xnor", "XNOR layers are not supported yet");
    section.get_bool("bin_output", false);  // a hint for binary inference; nothing to do in float
    const double weight_count = double(filters) * input.c * size * size;
    if (weight_count > double(1 << 28))
        section.fail("filters", cat(filters, " filters of ", input.c, "x", size, "x", size, " need ", weight_count,
                                    " weights: too many (at most 2^28)"));
    if (input.h + 2 * padding < size || input.w + 2 * padding < size)
        section.fail("size", cat("a ", size, "x", size, " window does not fit the ", to_string(input),
                                 " input with padding ", padding));
    return std::make_unique<ConvolutionalLayer>(input, filters, size, stride, padding, activation, batch_normalize);
}

}  // namespace lenet
