// [upsample]: stride (default 2) repeats each value in a stride x stride block (nearest neighbour),
// times `scale` (default 1), as Darknet's upsample_layer does. Darknet's negative stride (a
// summing downsample) is refused.
#include "cfg/cfg.h"
#include "core/thread_pool.h"
#include "layers/layer.h"

namespace lenet {

namespace {

class UpsampleLayer final : public Layer {
public:
    UpsampleLayer(Shape input, int stride, float scale) : stride_(stride), scale_(scale) {
        input_ = input;
        output_ = Shape{input.c, input.h * stride, input.w * stride};
    }

    LayerSummary summary() const override { return {"upsample", "", cat(stride_, "x"), 0, 0}; }

    void forward(const ForwardPass& pass) override {
        const std::size_t planes = std::size_t(pass.batch) * std::size_t(input_.c);
        pass.compute.pool->parallel_for(planes, [&](std::size_t begin, std::size_t end, int) {
            for (std::size_t p = begin; p < end; ++p) {
                const float* in = pass.input + p * std::size_t(input_.h * input_.w);
                float* out = pass.output + p * std::size_t(output_.h * output_.w);
                for (int y = 0; y < output_.h; ++y)
                    for (int x = 0; x < output_.w; ++x)
                        out[y * output_.w + x] = scale_ * in[(y / stride_) * input_.w + x / stride_];
            }
        });
    }

    void backward(const BackwardPass& pass) override {
        if (!pass.input_grad) return;
        const std::size_t planes = std::size_t(pass.batch) * std::size_t(input_.c);
        pass.compute.pool->parallel_for(planes, [&](std::size_t begin, std::size_t end, int) {
            for (std::size_t p = begin; p < end; ++p) {
                const float* delta = pass.output_grad + p * std::size_t(output_.h * output_.w);
                float* grad = pass.input_grad + p * std::size_t(input_.h * input_.w);
                for (int y = 0; y < output_.h; ++y)
                    for (int x = 0; x < output_.w; ++x)
                        grad[(y / stride_) * input_.w + x / stride_] += scale_ * delta[y * output_.w + x];
            }
        });
    }

private:
    int stride_;
    float scale_;
};

}  // namespace

std::unique_ptr<Layer> make_upsample(const CfgSection& section, Shape input) {
    const int stride = section.get_int("stride", 2, -(1 << 10), 1 << 10);
    if (stride < 0) section.fail("stride", "a negative stride (Darknet's downsampling) is not supported yet");
    if (stride == 0) section.fail("stride", "expected a positive stride");
    const float scale = section.get_float("scale", 1.0f);
    if (double(input.h) * stride * double(input.w) * stride * input.c > double(1 << 30))
        section.fail("stride", cat("upsampling ", to_string(input), " by ", stride, " is too large"));
    return std::make_unique<UpsampleLayer>(input, stride, scale);
}

}  // namespace lenet
