// [route]: layers (Darknet indices, negative ones relative to this layer) whose NCHW outputs, all of
// one height and width, are concatenated along channels. AlexeyAB's groups/group_id take slice
// group_id of `groups` equal channel slices from each input instead of the whole.
#include <cstring>
#include <algorithm>

#include "cfg/cfg.h"
#include "cfg/registry.h"
#include "kernels/ops.h"
#include "layers/layer.h"

namespace lenet {

namespace {

class RouteLayer final : public Layer {
public:
    RouteLayer(std::vector<int> layers, const std::vector<Shape>& shapes, int groups, int group_id)
        : groups_(groups), group_id_(group_id) {
        input_layers_ = std::move(layers);
        input_ = shapes.front();
        int channels = 0;
        for (const Shape& s : shapes) {
            input_sizes_.push_back(s.size());
            input_channels_.push_back(s.c);
            channels += s.c / groups;
        }
        output_ = Shape{channels, input_.h, input_.w};
    }

    LayerSummary summary() const override {
        std::string window;
        for (int j : input_layers_) window += cat(window.empty() ? "" : " ", j);
        if (groups_ > 1) window += cat(" (", group_id_, "/", groups_, ")");
        return {"route", "", window, 0, 0};
    }

    // Sign planes concatenate as whole planes: every input but the last fills its planes.
    SignPass sign_pass() const override {
        if (groups_ != 1) return SignPass::none;
        for (std::size_t k = 0; k + 1 < input_channels_.size(); ++k)
            if (input_channels_[k] % 8 != 0) return SignPass::none;
        return SignPass::structural;
    }
    void plan_signs(const SignPlan& plan) override { signs_ = plan.output; }

    void forward(const ForwardPass& pass) override {
        if (signs_) return sign_forward(pass);
        const kernels::Ops& ops = *pass.compute.ops;
        const std::size_t out_size = output_.size();
        std::size_t offset = 0;
        for (std::size_t k = 0; k < input_sizes_.size(); ++k) {
            const std::size_t part = input_sizes_[k] / std::size_t(groups_), first = part * std::size_t(group_id_);
            ops.copy_rows(pass.batch, part, pass.inputs[k] + first, input_sizes_[k], pass.output + offset, out_size);
            offset += part;
        }
    }

    // Adds: another reader of the same input may have written its gradient first.
    void backward(const BackwardPass& pass) override {
        const kernels::Ops& ops = *pass.compute.ops;
        const std::size_t out_size = output_.size();
        std::size_t offset = 0;
        for (std::size_t k = 0; k < input_sizes_.size(); ++k) {
            const std::size_t part = input_sizes_[k] / std::size_t(groups_), first = part * std::size_t(group_id_);
            if (float* grad = pass.input_grads[k])
                ops.add_rows(pass.batch, part, pass.output_grad + offset, out_size, grad + first, input_sizes_[k]);
            offset += part;
        }
    }

private:
    void sign_forward(const ForwardPass& pass) const {
        const std::size_t pixels = std::size_t(input_.h) * std::size_t(input_.w);
        const std::size_t out_bytes = kernels::sign_planes_bytes(output_.c, output_.h, output_.w);
        auto* out = reinterpret_cast<std::uint8_t*>(pass.output);
        for (std::size_t b = 0; b < std::size_t(pass.batch); ++b) {
            std::size_t offset = 0;
            for (std::size_t k = 0; k < input_channels_.size(); ++k) {
                const std::size_t bytes = std::size_t(kernels::sign_plane_count(input_channels_[k])) * pixels;
                std::memcpy(out + b * out_bytes + offset, reinterpret_cast<const std::uint8_t*>(pass.inputs[k]) + b * bytes,
                            bytes);
                offset += bytes;
            }
        }
    }

    std::vector<std::size_t> input_sizes_;  // floats per image of each input
    std::vector<int> input_channels_;
    bool signs_ = false;
    int groups_, group_id_;
};

}  // namespace

std::unique_ptr<Layer> make_route(const CfgSection& section, const GraphContext& context) {
    const std::vector<int> written = section.get_int_list("layers");
    if (written.empty()) section.fail("layers", "expected one or more layer indices");
    const int groups = section.get_int("groups", 1, 1, 1 << 16);
    const int group_id = section.get_int("group_id", 0, 0, groups - 1);
    std::vector<int> layers;
    std::vector<Shape> shapes;
    for (int value : written) {
        layers.push_back(context.resolve(section, "layers", value));
        shapes.push_back((*context.shapes)[std::size_t(layers.back())]);
        const Shape& s = shapes.back();
        if (s.h != shapes.front().h || s.w != shapes.front().w)
            section.fail("layers", cat("layer ", layers.back(), "'s output (", to_string(s), ") differs in width or height from layer ",
                                       layers.front(), "'s (", to_string(shapes.front()), "): route concatenates channels only"));
        if (s.c % groups != 0)
            section.fail("groups", cat("layer ", layers.back(), "'s ", s.c, " channels do not split into ", groups, " groups"));
    }
    return std::make_unique<RouteLayer>(std::move(layers), shapes, groups, group_id);
}

}  // namespace lenet
