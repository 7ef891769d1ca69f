// [shortcut]: from (one earlier layer), activation (default linear), alpha and beta (default 1):
// out = activation(alpha * previous + beta * from), the output shaped as the previous layer's.
// Shapes may differ as Darknet's shortcut_cpu allows: channels up to the smaller count, and where
// one output's width and height are the same whole multiple of the other's, every stride-th
// position of the larger is paired with the smaller (positions not paired keep the previous value).
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
        : from_(from),
          geometry_{previous_shape.c, previous_shape.h, previous_shape.w, from_shape.c, from_shape.h, from_shape.w},
          activation_(activation),
          alpha_(alpha),
          beta_(beta) {
        input_layers_ = {previous, from};
        input_ = output_ = previous_shape;
    }

    LayerSummary summary() const override {
        return {"shortcut", "", cat(from_), 0, double(output_.size()) * (geometry_.same() ? 2 : 1)};
    }

    void forward(const ForwardPass& pass) override {
        const kernels::Ops& ops = *pass.compute.ops;
        const std::size_t total = std::size_t(pass.batch) * output_.size();
        ops.shortcut_forward(geometry_, pass.batch, alpha_, pass.inputs[0], beta_, pass.inputs[1], pass.output);
        ops.activate(pass.compute, activation_, pass.output, total);
    }

    void backward(const BackwardPass& pass) override {
        const kernels::Ops& ops = *pass.compute.ops;
        const std::size_t total = std::size_t(pass.batch) * output_.size();
        ops.activation_gradient(pass.compute, activation_, pass.output, pass.output_grad, total);
        ops.shortcut_backward(geometry_, pass.batch, alpha_, beta_, pass.output_grad, pass.input_grads[0],
                              pass.input_grads[1]);
    }

private:
    int from_;
    kernels::ShortcutGeometry geometry_;
    Activation activation_;
    float alpha_, beta_;
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
