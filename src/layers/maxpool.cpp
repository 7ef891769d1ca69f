// [maxpool]: size, stride, padding (Darknet's default is size - 1; padding positions never win).
#include <cstdint>
#include "cfg/cfg.h"
#include "core/thread_pool.h"
#include "kernels/ops/pool.h"
#include "kernels/ops.h"
#include "layers/layer.h"

namespace lenet {

namespace {

class MaxpoolLayer final : public Layer {
public:
    MaxpoolLayer(Shape input, int size, int stride, int padding) : geometry_{input.c, input.h, input.w, size, stride, padding} {
        input_ = input;
        output_ = Shape{input.c, geometry_.out_h(), geometry_.out_w()};
    }

    LayerSummary summary() const override {
        return {"max", "", cat(geometry_.size, " x ", geometry_.size, " / ", geometry_.stride), 0,
                double(output_.size()) * geometry_.size * geometry_.size};
    }

    const kernels::PoolGeometry* maxpool_geometry() const override { return &geometry_; }

    void reserve(int max_batch) override { argmax_.assign(std::size_t(max_batch) * output_.size(), 0); }

    // Signs pool by OR (AND where a decreasing per-channel layer follows): windows over padding
    // alone would output 0 in float, which no bit stands for.
    SignPass sign_pass() const override {
        return geometry_.windows_hold_input() ? SignPass::structural : SignPass::none;
    }
    void plan_signs(const SignPlan& plan) override {
        signs_ = plan.output;
        sign_stages_ = plan.stages;
    }

    void forward(const ForwardPass& pass) override {
        if (signs_) return sign_forward(pass);
        const kernels::Ops& ops = *pass.compute.ops;
        const double work = double(output_.size()) * geometry_.size * geometry_.size;
        if (pass.batch < pass.compute.pool->size() && work >= ThreadPool::kMinSplitWork) {
            // Too few images to share out: each image's channels are split over the pool.
            const std::size_t in_plane = std::size_t(input_.h) * std::size_t(input_.w);
            const std::size_t out_plane = std::size_t(output_.h) * std::size_t(output_.w);
            for (std::size_t b = 0; b < std::size_t(pass.batch); ++b)
                pass.compute.pool->parallel_for(std::size_t(input_.c), [&](std::size_t first, std::size_t last, int) {
                    kernels::PoolGeometry part = geometry_;
                    part.channels = int(last - first);
                    const std::size_t out_at = b * output_.size() + first * out_plane;
                    std::int32_t* argmax = argmax_.data() + out_at;
                    ops.maxpool_forward(part, 1, pass.input + b * input_.size() + first * in_plane,
                                        pass.output + out_at, argmax);
                    // Winners index the whole image, as backward reads them.
                    const auto shift = std::int32_t(first * in_plane);
                    for (std::size_t o = 0; o < (last - first) * out_plane; ++o)
                        if (argmax[o] >= 0) argmax[o] += shift;
                });
            return;
        }
        pass.compute.pool->parallel_for(std::size_t(pass.batch), [&](std::size_t begin, std::size_t end, int) {
            ops.maxpool_forward(geometry_, int(end - begin), pass.input + begin * input_.size(),
                                pass.output + begin * output_.size(), argmax_.data() + begin * output_.size());
        });
    }

    void backward(const BackwardPass& pass) override {
        const kernels::Ops& ops = *pass.compute.ops;
        if (!pass.input_grad) return;
        pass.compute.pool->parallel_for(std::size_t(pass.batch), [&](std::size_t begin, std::size_t end, int) {
            ops.maxpool_backward_add(geometry_, int(end - begin), pass.output_grad + begin * output_.size(),
                                     argmax_.data() + begin * output_.size(), pass.input_grad + begin * input_.size());
        });
    }

private:
    void sign_forward(const ForwardPass& pass) {
        const int planes = kernels::sign_plane_count(input_.c);
        // A channel pools by AND when the per-channel layers after it, together, decrease there.
        and_bits_.assign(std::size_t(planes), 0);
        for (int c = 0; c < input_.c; ++c) {
            bool decreasing = false;
            for (const SignStage& stage : sign_stages_) decreasing ^= stage.layer->sign_stage_decreasing(c + stage.shift);
            if (decreasing) and_bits_[std::size_t(c / 8)] |= std::uint8_t(1u << (c % 8));
        }
        const std::size_t in_plane = std::size_t(input_.h) * std::size_t(input_.w);
        const std::size_t out_plane = std::size_t(output_.h) * std::size_t(output_.w);
        const auto* in = reinterpret_cast<const std::uint8_t*>(pass.input);
        auto* out = reinterpret_cast<std::uint8_t*>(pass.output);
        const kernels::Ops& ops = *pass.compute.ops;
        for (std::size_t b = 0; b < std::size_t(pass.batch); ++b) {
            const std::size_t image = b * std::size_t(planes);
            const int chunks = double(in_plane) * planes >= ThreadPool::kMinSplitWork ? pass.compute.pool->size() : 1;
            pass.compute.pool->parallel_for(std::size_t(planes), [&](std::size_t first, std::size_t last, int) {
                kernels::PoolGeometry part = geometry_;
                part.channels = int(last - first);
                ops.maxpool_signs(part, and_bits_.data() + first, in + (image + first) * in_plane,
                                  out + (image + first) * out_plane);
            }, chunks);
        }
    }

    kernels::PoolGeometry geometry_;
    std::vector<std::int32_t> argmax_;
    bool signs_ = false;
    std::vector<SignStage> sign_stages_;
    std::vector<std::uint8_t> and_bits_;
};

}  // namespace

std::unique_ptr<Layer> make_maxpool(const CfgSection& section, Shape input) {
    const int size = section.get_int("size", 1, 1, 1 << 12);
    const int stride = section.get_int("stride", size, 1, 1 << 12);
    const int padding = section.get_int("padding", size - 1, 0, 1 << 12);
    if (input.h + padding < size || input.w + padding < size)
        section.fail("size", cat("a ", size, "x", size, " window does not fit the ", to_string(input), " input"));
    return std::make_unique<MaxpoolLayer>(input, size, stride, padding);
}

}  // namespace lenet
