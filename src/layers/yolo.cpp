#include "layers/yolo.h"

#include "cfg/cfg.h"
#include "cfg/registry.h"
#include "data/truth.h"
#include "kernels/ops.h"

namespace lenet {

YoloLayer::YoloLayer(Shape input, Shape network_input, std::vector<int> mask, std::vector<float> anchors, int classes,
                     float ignore_thresh, float truth_thresh, float jitter)
    : network_input_(network_input), mask_(std::move(mask)), anchors_(std::move(anchors)),
      ignore_thresh_(ignore_thresh), truth_thresh_(truth_thresh), jitter_(jitter) {
    input_ = output_ = input;
    geometry_ = {input.w, input.h, int(mask_.size()), classes};
}

LayerSummary YoloLayer::summary() const { return {"yolo", "", "", 0, 0.0}; }

kernels::YoloLoss YoloLayer::args() const {
    return {geometry_, network_input_.w, network_input_.h, anchors_.data(), int(anchors_.size() / 2), mask_.data(),
            ignore_thresh_, truth_thresh_};
}

void YoloLayer::forward(const ForwardPass& pass) {
    pass.compute.ops->yolo_forward(geometry_, pass.batch, pass.input, pass.output);
}

void YoloLayer::backward(const BackwardPass& pass) {
    if (!pass.input_grad) return;
    pass.compute.ops->add(pass.output_grad, std::size_t(pass.batch) * geometry_.per_image(), pass.input_grad);
}

float YoloLayer::loss(const LossPass& pass) {
    LENET_CHECK(pass.truth.boxes, "[yolo] loss needs boxes (a detection data source)");
    for (int b = 0; b < pass.batch; ++b)
        for (const detect::Truth& t : pass.truth.boxes[b])
            LENET_CHECK(t.cls >= 0 && t.cls < geometry_.classes, "truth class ", t.cls, " outside 0..",
                        geometry_.classes - 1);
    return pass.compute.ops->yolo_loss(args(), pass.output, pass.batch, pass.truth.boxes, pass.grad_scale,
                                       pass.output_grad);
}

void YoloLayer::detections(const Compute& compute, const float* output, int image, float thresh,
                           std::vector<detect::Detection>& out) const {
    compute.ops->yolo_decode(args(), output + std::size_t(image) * geometry_.per_image(), thresh, out);
}

const YoloLayer* as_yolo(const Layer& layer) { return dynamic_cast<const YoloLayer*>(&layer); }

std::unique_ptr<Layer> make_yolo(const CfgSection& section, const GraphContext& context) {
    const Shape input = context.previous();
    const int classes = section.get_int("classes", 20, 1, 1 << 16);
    const int num = section.get_int("num", 1, 1, 1 << 12);
    std::vector<int> mask = section.get_int_list("mask");
    if (mask.empty())
        for (int i = 0; i < num; ++i) mask.push_back(i);  // Darknet: no mask, every anchor
    std::vector<float> anchors = section.get_float_list("anchors");
    if (anchors.empty()) anchors.assign(std::size_t(2 * num), 0.5f);  // Darknet's default biases
    if (anchors.size() != std::size_t(2 * num))
        section.fail("anchors", cat("expected ", 2 * num, " numbers (num=", num, " width,height pairs), got ",
                                    anchors.size()));
    for (float a : anchors)
        if (!(a > 0)) section.fail("anchors", "expected positive sizes");
    for (int m : mask)
        if (m < 0 || m >= num) section.fail("mask", cat("anchor ", m, " outside 0..", num - 1, " (num=", num, ")"));
    const float ignore_thresh = section.get_float("ignore_thresh", 0.5f);
    const float truth_thresh = section.get_float("truth_thresh", 1.0f);
    // Darknet's default; below 1/2 a crop of both sides keeps some of the image.
    const float jitter = section.get_float("jitter", 0.2f);
    if (!(jitter >= 0 && jitter < 0.5f)) section.fail("jitter", "expected a number in [0, 0.5)");
    // Multi-scale training would re-plan every layer's shapes and memory every 10 batches.
    const float random = section.get_float("random", 0);
    if (!(random >= 0)) section.fail("random", "expected 0 or 1 (AlexeyAB: a non-negative scale)");
    if (random != 0)
        warn_once(cat(section.file, ":", section.find("random")->line, ": [yolo] random=", section.find("random")->value,
                      ": no multi-scale training in lenet (it trains at the cfg's width x height)"),
                  "yolo/random");
    const std::size_t channels = mask.size() * std::size_t(classes + 5);
    if (std::size_t(input.c) != channels)
        section.fail_section(cat("the input has ", input.c, " channels; mask's ", mask.size(), " anchors x (classes=",
                                 classes, " + 5) need ", channels));
    return std::make_unique<YoloLayer>(input, context.network_input, std::move(mask), std::move(anchors), classes,
                                       ignore_thresh, truth_thresh, jitter);
}

}  // namespace lenet
