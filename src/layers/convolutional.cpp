// [convolutional]: filters, size, stride, pad/padding, activation, batch_normalize, binary, xnor,
// xnor_scale.
// Forward per image: im2col, then weights[filters x c*k*k] * columns[c*k*k x out_h*out_w].
// Images are spread over the thread pool; weight gradients are summed per thread, then reduced in
// a fixed order so a run is deterministic for a given thread count.
// binary=1 (BWN) convolves with alpha * s(W); xnor=1 also binarizes the input, s(I), scaled by K
// with xnor_scale=k (XNOR-Net's) and unscaled with xnor_scale=none (Darknet's, the default;
// layers/binary.h says what each computes and where Darknet does it). Training runs that
// arithmetic in float; inference runs XNOR layers on bit-packed kernels whose integer dot products
// equal the float simulation's exactly, then one folded output transform (alpha, K, batch norm,
// bias) shared by both paths.
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
#include "kernels/ops/conv_direct.h"
#include "kernels/ops.h"
#include "layers/binary.h"
#include "layers/convolutional_layer.h"
#include "layers/layer.h"

namespace lenet {

ConvolutionalLayer::ConvolutionalLayer(Shape input, int filters, int size, int stride, int pad, Activation activation,
                                       bool batch_normalize, BinarySpec binary)
    : filters_(filters),
      activation_(activation),
      batch_normalize_(batch_normalize),
      mode_(binary.mode),
      input_scale_(binary.input_scale()),
      zero_(binary.zero()),
      geometry_{input.c, input.h, input.w, size, stride, pad},
      binary_(binary, filters, input.c * size * size) {
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

LayerSummary ConvolutionalLayer::summary() const {
    const char* kind = mode_ == BinaryMode::xnor    ? (input_scale_ ? "conv xnorK" : "conv xnor")
                       : mode_ == BinaryMode::weights ? "conv bwn"
                                                      : "conv";
    return {kind, std::to_string(filters_), cat(geometry_.size, " x ", geometry_.size, " / ", geometry_.stride),
            weights_.size() + biases_.size() + scales_.size(), 2.0 * double(weights_.size()) * double(spatial())};
}

void ConvolutionalLayer::reserve(int max_batch) {
    if (pool_) argmax_.assign(std::size_t(max_batch) * pooled_size(), 0);
    if (batch_normalize_) {
        x_.assign(std::size_t(max_batch) * output_.size(), 0.0f);
        x_norm_.assign(x_.size(), 0.0f);
    }
    if (mode_ == BinaryMode::xnor && input_scale_) {
        dots_.assign(std::size_t(max_batch) * output_.size(), 0.0f);
        k_maps_.assign(std::size_t(max_batch) * std::size_t(spatial()), 0.0f);
    }
}

std::size_t ConvolutionalLayer::workspace_floats(int /*batch*/, int threads) const {
    std::size_t floats = std::size_t(threads) * thread_floats();
    if (mode_ == BinaryMode::xnor && threads > 1) {
        const kernels::PackedFilters zeros = shape_only_filters();
        floats += (kernels::xnor_conv_pool_workspace_bytes(geometry_, zeros, threads) + 63) / sizeof(float) + 16;
    }
    // Fused with a max pool (float layers only): its scratch after the per-thread parts.
    if (pool_) floats += pooled_scratch_floats(threads);
    return floats;
}

Layer::BinaryWeights ConvolutionalLayer::binary_weights() const {
    if (mode_ == BinaryMode::none) return {};
    return {std::size_t(filters_), std::size_t(patch()), mode_ == BinaryMode::xnor};
}

bool ConvolutionalLayer::absorb_next(const Layer& next) {
    const kernels::PoolGeometry* pool = next.maxpool_geometry();
    if (!pool || batch_normalize_ || mode_ != BinaryMode::none) return false;
    pool_ = *pool;
    return true;
}

bool ConvolutionalLayer::absorb_next_at_inference(const Layer& next, const kernels::Ops& ops) {
    const kernels::PoolGeometry* pool = next.maxpool_geometry();
    // Padding 0 with an odd height would leave a last block of one row that pools to nothing.
    if (!pool || mode_ != BinaryMode::none || !kernels::is_maxpool_2x2s2(*pool) ||
        !ops.conv_direct_fits(geometry_, filters_) || (output_.h % 2 == 1 && pool->padding == 0))
        return false;
    inference_pool_ = *pool;
    if (direct_scratch_floats() <= thread_floats()) return true;
    inference_pool_.reset();
    return false;
}

std::vector<Param> ConvolutionalLayer::params() {
    std::vector<Param> list{{weights_.data(), weight_grad_.data(), weights_.size(), true},
                            {biases_.data(), bias_grad_.data(), biases_.size(), false}};
    if (batch_normalize_) list.push_back({scales_.data(), scale_grad_.data(), scales_.size(), false});
    return list;
}

void ConvolutionalLayer::init_weights(Rng& rng) {
    const float scale = std::sqrt(2.0f / float(patch()));
    for (auto& w : weights_) w = scale * rng.uniform(-1.0f, 1.0f);
    gemm_weights_ready_ = false;
    binary_.ready = false;
}

void ConvolutionalLayer::read_weights(WeightsReader& reader) {
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
    gemm_weights_ready_ = false;
}

void ConvolutionalLayer::write_weights(WeightsWriter& writer) const {
    writer.write_floats(biases_.data(), biases_.size());
    if (batch_normalize_) {
        writer.write_floats(scales_.data(), scales_.size());
        writer.write_floats(rolling_mean_.data(), rolling_mean_.size());
        writer.write_floats(rolling_variance_.data(), rolling_variance_.size());
    }
    if (mode_ == BinaryMode::none)
        writer.write_floats(weights_.data(), weights_.size());
    else
        write_binary_weights(writer, weights_.data(), filters_, patch(), zero_);
}

void ConvolutionalLayer::forward(const ForwardPass& pass) {
    if (mode_ != BinaryMode::none) return binary_forward(pass);
    if (inference_pool_) return direct_forward(pass);
    if (pool_) return pooled_forward(pass);
    float_forward(pass);
}

void ConvolutionalLayer::backward(const BackwardPass& pass) {
    if (mode_ != BinaryMode::none) return binary_backward(pass);
    if (pool_) return pooled_backward(pass);
    float_backward(pass);
}

std::size_t ConvolutionalLayer::thread_floats() const {
    std::size_t floats = columns_size() + weights_.size();
    if (mode_ == BinaryMode::xnor) {
        const std::size_t pixels = std::size_t(input_.h) * std::size_t(input_.w);
        floats += 2 * input_.size() + pixels + std::size_t(spatial());
        floats += packed_workspace_floats_;
    }
    return floats;
}

kernels::PackedFilters ConvolutionalLayer::shape_only_filters() const {
    const std::vector<float> zeros(weights_.size(), 0.0f);
    return kernels::pack_filters(zeros.data(), filters_, input_.c, geometry_.size, zero_);
}

const float* ConvolutionalLayer::lowered(const kernels::Ops& ops, const float* image, float* columns) const {
    if (is_pointwise()) return image;
    ops.im2col(geometry_, image, columns);
    return columns;
}

void ConvolutionalLayer::add_image_gradient(const kernels::Ops& ops, const float* delta, float* columns,
                                            float* image_grad) const {
    if (is_pointwise()) {
        ops.gemm_single({true, false, patch(), spatial(), filters_, 1.0f, weights_.data(), patch(), delta, spatial(),
                         1.0f, image_grad, spatial()});
        return;
    }
    ops.gemm_single({true, false, patch(), spatial(), filters_, 1.0f, weights_.data(), patch(), delta, spatial(),
                     0.0f, columns, spatial()});
    ops.col2im_add(geometry_, columns, image_grad);
}

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
    const BinarySpec binary = parse_binary_spec(section);
    section.get_bool("bin_output", false);  // a hint that the output feeds binary layers only
    const double weight_count = double(filters) * input.c * size * size;
    if (weight_count > double(1 << 28))
        section.fail("filters", cat(filters, " filters of ", input.c, "x", size, "x", size, " need ", weight_count,
                                    " weights: too many (at most 2^28)"));
    if (input.h + 2 * padding < size || input.w + 2 * padding < size)
        section.fail("size", cat("a ", size, "x", size, " window does not fit the ", to_string(input),
                                 " input with padding ", padding));
    return std::make_unique<ConvolutionalLayer>(input, filters, size, stride, padding, activation, batch_normalize,
                                                binary);
}

}  // namespace lenet
