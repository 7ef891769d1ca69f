// [shortcut]: from (one earlier layer), activation (default linear), alpha and beta (default 1):
// out = activation(alpha * previous + beta * from), the output shaped as the previous layer's.
// Shapes may differ as Darknet's shortcut_cpu allows: channels up to the smaller count, and where
// one output's width and height are the same whole multiple of the other's, every stride-th
// position of the larger is paired with the smaller (positions not paired keep the previous value).
#include <algorithm>
#include <cstring>

#include "cfg/cfg.h"
#include "cfg/registry.h"
#include "kernels/ops.h"
#include "layers/layer.h"

namespace lenet {

Activation parse_activation_key(const CfgSection& section, std::string_view fallback);

namespace {

class ShortcutLayer final : public Layer {
public:
    ShortcutLayer(int previous, Shape previous_shape, int from, Shape from_shape, Activation activation, float alpha,
                  float beta)
        : from_(from), from_shape_(from_shape), activation_(activation), alpha_(alpha), beta_(beta) {
        input_layers_ = {previous, from};
        input_ = output_ = previous_shape;
        stride_ = std::max(1, from_shape.w / output_.w);  // from is larger: step over it
        sample_ = std::max(1, output_.w / from_shape.w);  // from is smaller: step over the output
        same_ = from_shape == output_;
    }

    LayerSummary summary() const override {
        return {"shortcut", "", cat(from_), 0, double(output_.size()) * (same_ ? 2 : 1)};
    }

    void forward(const ForwardPass& pass) override {
        const std::size_t total = std::size_t(pass.batch) * output_.size();
        const float* previous = pass.inputs[0];
        const float* from = pass.inputs[1];
        if (same_) {
            for (std::size_t t = 0; t < total; ++t) pass.output[t] = alpha_ * previous[t] + beta_ * from[t];
        } else {
            std::memcpy(pass.output, previous, total * sizeof(float));
            for_pairs(pass.batch, [&](std::size_t out, std::size_t add) {
                pass.output[out] = alpha_ * pass.output[out] + beta_ * from[add];
            });
        }
        pass.compute.ops->activate(pass.compute, activation_, pass.output, total);
    }

    void backward(const BackwardPass& pass) override {
        const std::size_t total = std::size_t(pass.batch) * output_.size();
        pass.compute.ops->activation_gradient(pass.compute, activation_, pass.output, pass.output_grad, total);
        const float* delta = pass.output_grad;
        if (float* grad = pass.input_grads[0]) {
            if (same_) {
                for (std::size_t t = 0; t < total; ++t) grad[t] += alpha_ * delta[t];
            } else {  // unpaired positions passed the previous value through unscaled
                for (std::size_t t = 0; t < total; ++t) grad[t] += delta[t];
                for_pairs(pass.batch, [&](std::size_t out, std::size_t) { grad[out] += (alpha_ - 1.0f) * delta[out]; });
            }
        }
        if (float* grad = pass.input_grads[1]) {
            if (same_) {
                for (std::size_t t = 0; t < total; ++t) grad[t] += beta_ * delta[t];
            } else {
                for_pairs(pass.batch, [&](std::size_t out, std::size_t add) { grad[add] += beta_ * delta[out]; });
            }
        }
    }

private:
    // Calls f(output index, from index) for every paired position, as Darknet's shortcut_cpu.
    template <class F>
    void for_pairs(int batch, F f) const {
        const int min_w = std::min(output_.w, from_shape_.w), min_h = std::min(output_.h, from_shape_.h);
        const int min_c = std::min(output_.c, from_shape_.c);
        for (int b = 0; b < batch; ++b)
            for (int k = 0; k < min_c; ++k)
                for (int j = 0; j < min_h; ++j)
                    for (int i = 0; i < min_w; ++i) {
                        const std::size_t out = std::size_t(i * sample_) +
                                                std::size_t(output_.w) * (std::size_t(j * sample_) +
                                                                          std::size_t(output_.h) * (std::size_t(k) + std::size_t(output_.c) * std::size_t(b)));
                        const std::size_t add = std::size_t(i * stride_) +
                                                std::size_t(from_shape_.w) * (std::size_t(j * stride_) +
                                                                              std::size_t(from_shape_.h) * (std::size_t(k) + std::size_t(from_shape_.c) * std::size_t(b)));
                        f(out, add);
                    }
    }

    int from_;
    Shape from_shape_;
    Activation activation_;
    float alpha_, beta_;
    int stride_ = 1, sample_ = 1;
    bool same_ = true;
};

}  // namespace

std::unique_ptr<Layer> make_shortcut(const CfgSection& section, const GraphContext& context) {
    const std::vector<int> written = section.get_int_list("from");
    if (written.size() != 1) section.fail("from", "expected one layer index");
    const int from = context.resolve(section, "from", written.front());
    const Shape from_shape = (*context.shapes)[std::size_t(from)];
    const Shape out = context.previous();
    // Darknet's rule (shortcut_cpu's asserts): the same whole ratio in width and height.
    const int stride = from_shape.w / out.w, sample = out.w / from_shape.w;
    if (out.h == 0 || from_shape.h == 0 || stride != from_shape.h / out.h || sample != out.h / from_shape.h)
        section.fail("from", cat("layer ", from, "'s output (", to_string(from_shape), ") cannot be added to the previous layer's (",
                                 to_string(out), "): width and height must scale by the same whole factor"));
    const Activation activation = parse_activation_key(section, "linear");
    const float alpha = section.get_float("alpha", 1.0f);
    const float beta = section.get_float("beta", 1.0f);
    return std::make_unique<ShortcutLayer>(context.index - 1, out, from, from_shape, activation, alpha, beta);
}

}  // namespace lenet
