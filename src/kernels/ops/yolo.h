// [yolo]'s arithmetic (Darknet YOLOv3's yolo_layer.c): the forward's logistic, the loss as
// Darknet's deltas, and decoding to candidate boxes. Layout per image: for each of the layer's
// anchors (its mask), planes of width x height for tx, ty, tw, th, objectness, then one per class.
#pragma once
#include <cstddef>
#include <vector>

#include "detect/box.h"

namespace lenet::kernels {

struct YoloGeometry {
    int width = 0, height = 0;  // the grid
    int anchors = 0;            // this layer's (the mask's length)
    int classes = 0;
    int entries() const { return 5 + classes; }
    std::size_t plane() const { return std::size_t(width) * std::size_t(height); }
    std::size_t per_image() const { return plane() * std::size_t(anchors) * std::size_t(entries()); }
    // Index of `entry` of anchor a at cell `cell` (y * width + x) within one image.
    std::size_t index(int a, int entry, std::size_t cell) const {
        return (std::size_t(a) * std::size_t(entries()) + std::size_t(entry)) * plane() + cell;
    }
};

// out = in, with the logistic on tx, ty, objectness and the classes (not tw, th).
void yolo_forward_reference(const YoloGeometry& g, int batch, const float* in, float* out);

struct YoloLoss {
    YoloGeometry g;
    int net_w = 0, net_h = 0;          // the network input, pixels
    const float* anchors = nullptr;    // all anchors of the cfg (w, h pairs in input pixels)
    int total = 0;                     // their count (num=)
    const int* mask = nullptr;         // g.anchors indices into anchors
    float ignore_thresh = 0.5f, truth_thresh = 1.0f;
};

// Darknet's forward_yolo_layer deltas (pjreddie, MSE box terms): every prediction's objectness is
// pushed to 0 unless its best IoU with a truth of its image is > ignore_thresh (no term) or
// > truth_thresh (pushed to 1, with class and box terms for that truth). Each truth then goes to
// the anchor, over all `total`, whose shape fits it best (IoU of centred boxes); if that anchor is
// in the mask, the prediction at the truth's cell gets box terms scaled by (2 - w*h), objectness
// pushed to 1, and each class to 1 or 0 (a class already pushed in that cell by an earlier truth
// only gets its own term, as Darknet's delta_yolo_class). The delta (target - output, on the
// logistic's output for tx, ty, objectness and classes, on the raw value for tw, th) is Darknet's
// negative gradient, which its backward passes through unchanged: grad = -delta * grad_scale.
// Truth boxes are relative to the network input; truths[b] holds image b's. Returns Darknet's
// cost, the sum of the squared deltas over the batch.
float yolo_loss_reference(const YoloLoss& l, const float* output, int batch, const std::vector<detect::Truth>* truths,
                          float grad_scale, float* grad);

// Darknet's get_yolo_detections for one image's output: every (cell, anchor) whose objectness is
// > thresh becomes a candidate with its box relative to the network input
// ((cell + sigmoid) / grid, anchor * exp(t) / input size) and prob[k] = objectness * class k's
// probability where that is > thresh, else 0. Appended to `out` in Darknet's order (cell by cell, the
// anchors within a cell).
void yolo_decode_reference(const YoloLoss& l, const float* output, float thresh, std::vector<detect::Detection>& out);

}  // namespace lenet::kernels
