// [upsample]: stride (default 2) repeats each value in a stride x stride block (nearest neighbour),
// times `scale` (default 1), as Darknet's upsample_layer does. A negative stride is Darknet's
// reverse: each output is scale times the sum of a |stride| x |stride| block (rows and columns
// past the last whole block are dropped).
#include <algorithm>

#include "cfg/cfg.h"
#include "core/thread_pool.h"
#include "layers/layer.h"

namespace lenet {

namespace {

class UpsampleLayer final : public Layer {
public:
    UpsampleLayer(Shape input, int stride, float scale) : stride_(stride < 0 ? -stride : stride), reverse_(stride < 0), scale_(scale) {
        input_ = input;
        output_ = reverse_ ? Shape{input.c, input.h / stride_, input.w / stride_}
                           : Shape{input.c, input.h * stride_, input.w * stride_};
    }

    LayerSummary summary() const override {
        return {"upsample", "", reverse_ ? cat("1/", stride_, "x") : cat(stride_, "x"), 0, 0};
    }

    void forward(const ForwardPass& pass) override {
        for_planes(pass.compute, pass.batch, [&](std::size_t p) {
            const float* in = pass.input + p * std::size_t(input_.h * input_.w);
            float* out = pass.output + p * std::size_t(output_.h * output_.w);
            if (!reverse_) {
                for (int y = 0; y < output_.h; ++y)
                    for (int x = 0; x < output_.w; ++x) out[y * output_.w + x] = scale_ * in[(y / stride_) * input_.w + x / stride_];
                return;
            }
            std::fill(out, out + output_.h * output_.w, 0.0f);
            for (int y = 0; y < output_.h * stride_; ++y)
                for (int x = 0; x < output_.w * stride_; ++x)
                    out[(y / stride_) * output_.w + x / stride_] += scale_ * in[y * input_.w + x];
        });
    }

    void backward(const BackwardPass& pass) override {
        if (!pass.input_grad) return;
        for_planes(pass.compute, pass.batch, [&](std::size_t p) {
            const float* delta = pass.output_grad + p * std::size_t(output_.h * output_.w);
            float* grad = pass.input_grad + p * std::size_t(input_.h * input_.w);
            if (!reverse_) {
                for (int y = 0; y < output_.h; ++y)
                    for (int x = 0; x < output_.w; ++x)
                        grad[(y / stride_) * input_.w + x / stride_] += scale_ * delta[y * output_.w + x];
                return;
            }
            for (int y = 0; y < output_.h * stride_; ++y)
                for (int x = 0; x < output_.w * stride_; ++x)
                    grad[y * input_.w + x] += scale_ * delta[(y / stride_) * output_.w + x / stride_];
        });
    }

private:
    // Calls f(plane) for every (image, channel) plane, split over the pool.
    template <class F>
    void for_planes(const Compute& compute, int batch, F f) const {
        compute.pool->parallel_for(std::size_t(batch) * std::size_t(input_.c), [&](std::size_t begin, std::size_t end, int) {
            for (std::size_t p = begin; p < end; ++p) f(p);
        });
    }

    int stride_;  // |stride|
    bool reverse_;
    float scale_;
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
