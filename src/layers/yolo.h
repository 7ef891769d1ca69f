// [yolo]: Darknet YOLOv3's detection head (yolo_layer.c). Keys: mask, anchors, classes, num,
// ignore_thresh, truth_thresh, jitter (Darknet's crop jitter for training: the trainer takes it from
// the last [yolo], as Darknet takes the last layer's; data/augment.h) and random (multi-scale
// training: accepted with a warning, lenet trains at the cfg's size). Forward: the logistic on tx, ty, objectness and classes;
// loss: Darknet's deltas (kernels/ops/yolo.h); backward passes the loss's gradient through, as
// Darknet's backward_yolo_layer does.
#pragma once
#include <vector>

#include "detect/box.h"
#include "kernels/ops/yolo.h"
#include "layers/layer.h"

namespace lenet {

class YoloLayer final : public Layer {
public:
    YoloLayer(Shape input, Shape network_input, std::vector<int> mask, std::vector<float> anchors, int classes,
              float ignore_thresh, float truth_thresh, float jitter = 0);

    LayerSummary summary() const override;
    void forward(const ForwardPass& pass) override;
    void backward(const BackwardPass& pass) override;
    bool has_loss() const override { return true; }
    float loss(const LossPass& pass) override;

    int classes() const { return geometry_.classes; }
    float jitter() const { return jitter_; }
    // Image `image`'s candidates from this layer's output (after forward), boxes relative to the
    // network input (Darknet's get_yolo_detections), appended to `out`.
    void detections(const Compute& compute, const float* output, int image, float thresh,
                    std::vector<detect::Detection>& out) const;

private:
    kernels::YoloLoss args() const;

    kernels::YoloGeometry geometry_;
    Shape network_input_;
    std::vector<int> mask_;
    std::vector<float> anchors_;
    float ignore_thresh_, truth_thresh_, jitter_;
};

// Null when `layer` is not a [yolo].
const YoloLayer* as_yolo(const Layer& layer);

}  // namespace lenet
