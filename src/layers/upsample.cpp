// [upsample]: stride (default 2) repeats each value in a stride x stride block (nearest neighbour),
// times `scale` (default 1), as Darknet's upsample_layer does. A negative stride is Darknet's
// reverse: each output is scale times the sum of a |stride| x |stride| block (rows and columns
// past the last whole block are dropped).
#include "cfg/cfg.h"
#include "kernels/ops.h"
#include "layers/layer.h"

namespace lenet {

namespace {

class UpsampleLayer final : public Layer {
public:
    UpsampleLayer(Shape input, int stride, float scale) : geometry_{input.h, input.w, stride, scale} {
        input_ = input;
        output_ = Shape{input.c, geometry_.out_h(), geometry_.out_w()};
    }

    LayerSummary summary() const override {
        const int factor = geometry_.factor();
        return {"upsample", "", geometry_.stride < 0 ? cat("1/", factor, "x") : cat(factor, "x"), 0, 0};
    }

    // Nearest-neighbour copies keep signs (scale 1 only: a scaled tiny value could round to 0).
    SignPass sign_pass() const override {
        return geometry_.stride > 0 && geometry_.scale == 1.0f ? SignPass::structural : SignPass::none;
    }
    void plan_signs(const SignPlan& plan) override { signs_ = plan.output; }

    void forward(const ForwardPass& pass) override {
        if (signs_)
            return pass.compute.ops->upsample_signs(
                geometry_, std::size_t(pass.batch) * std::size_t(kernels::sign_plane_count(input_.c)),
                reinterpret_cast<const std::uint8_t*>(pass.input), reinterpret_cast<std::uint8_t*>(pass.output));
        pass.compute.ops->upsample_forward(pass.compute, geometry_, planes(pass.batch), pass.input, pass.output);
    }

    void backward(const BackwardPass& pass) override {
        if (!pass.input_grad) return;
        pass.compute.ops->upsample_backward_add(pass.compute, geometry_, planes(pass.batch), pass.output_grad,
                                                pass.input_grad);
    }

private:
    // One (image, channel) plane after another.
    std::size_t planes(int batch) const { return std::size_t(batch) * std::size_t(input_.c); }

    kernels::UpsampleGeometry geometry_;
    bool signs_ = false;
};

}  // namespace

std::unique_ptr<Layer> make_upsample(const CfgSection& section, Shape input) {
    const int stride = section.get_int("stride", 2, -(1 << 10), 1 << 10);
    if (stride == 0) section.fail("stride", "expected a nonzero stride");
    if (stride < 0 && (input.h < -stride || input.w < -stride))
        section.fail("stride", cat("a ", -stride, "x", -stride, " block does not fit the ", to_string(input), " input"));
    const float scale = section.get_float("scale", 1.0f);
    if (double(input.h) * stride * double(input.w) * stride * input.c > double(1 << 30))
        section.fail("stride", cat("upsampling ", to_string(input), " by ", stride, " is too large"));
    return std::make_unique<UpsampleLayer>(input, stride, scale);
}

}  // namespace lenet
