#include "kernels/ops/yolo.h"

#include <cmath>
#include <cstring>

namespace lenet::kernels {

namespace {

float logistic(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// Darknet's get_yolo_box: the prediction of anchor `anchor` (index into all anchors) at (x, y).
detect::Box predicted_box(const YoloLoss& l, const float* image, int a, int anchor, int x, int y) {
    const YoloGeometry& g = l.g;
    const std::size_t cell = std::size_t(y) * std::size_t(g.width) + std::size_t(x);
    return {(float(x) + image[g.index(a, 0, cell)]) / float(g.width),
            (float(y) + image[g.index(a, 1, cell)]) / float(g.height),
            std::exp(image[g.index(a, 2, cell)]) * l.anchors[2 * anchor] / float(l.net_w),
            std::exp(image[g.index(a, 3, cell)]) * l.anchors[2 * anchor + 1] / float(l.net_h)};
}

// Darknet's delta_yolo_box (MSE): targets tx, ty on the logistic's output, tw, th on the raw value.
void box_delta(const YoloLoss& l, const detect::Box& truth, const float* image, int a, int anchor, int x, int y,
               float scale, float* delta) {
    const YoloGeometry& g = l.g;
    const std::size_t cell = std::size_t(y) * std::size_t(g.width) + std::size_t(x);
    const float target[4] = {truth.x * float(g.width) - float(x), truth.y * float(g.height) - float(y),
                             std::log(truth.w * float(l.net_w) / l.anchors[2 * anchor]),
                             std::log(truth.h * float(l.net_h) / l.anchors[2 * anchor + 1])};
    for (int e = 0; e < 4; ++e) delta[g.index(a, e, cell)] = scale * (target[e] - image[g.index(a, e, cell)]);
}

// Darknet's delta_yolo_class.
void class_delta(const YoloGeometry& g, const float* image, int a, std::size_t cell, int cls, float* delta) {
    float& own = delta[g.index(a, 5 + cls, cell)];
    if (own != 0.0f) {
        own = 1.0f - image[g.index(a, 5 + cls, cell)];
        return;
    }
    for (int k = 0; k < g.classes; ++k)
        delta[g.index(a, 5 + k, cell)] = (k == cls ? 1.0f : 0.0f) - image[g.index(a, 5 + k, cell)];
}

}  // namespace

void yolo_forward_reference(const YoloGeometry& g, int batch, const float* in, float* out) {
    const std::size_t total = g.per_image() * std::size_t(batch);
    std::memcpy(out, in, total * sizeof(float));
    for (int b = 0; b < batch; ++b) {
        float* image = out + std::size_t(b) * g.per_image();
        for (int a = 0; a < g.anchors; ++a) {
            float* xy = image + g.index(a, 0, 0);
            for (std::size_t i = 0; i < 2 * g.plane(); ++i) xy[i] = logistic(xy[i]);
            float* rest = image + g.index(a, 4, 0);
            for (std::size_t i = 0; i < std::size_t(1 + g.classes) * g.plane(); ++i) rest[i] = logistic(rest[i]);
        }
    }
}

float yolo_loss_reference(const YoloLoss& l, const float* output, int batch, const std::vector<detect::Truth>* truths,
                          float grad_scale, float* grad) {
    const YoloGeometry& g = l.g;
    const std::size_t per_image = g.per_image();
    std::memset(grad, 0, per_image * std::size_t(batch) * sizeof(float));
    double cost = 0;
    for (int b = 0; b < batch; ++b) {
        const float* image = output + std::size_t(b) * per_image;
        float* delta = grad + std::size_t(b) * per_image;  // Darknet's deltas first, scaled at the end
        const std::vector<detect::Truth>& objects = truths[b];
        for (int y = 0; y < g.height; ++y)
            for (int x = 0; x < g.width; ++x)
                for (int a = 0; a < g.anchors; ++a) {
                    const std::size_t cell = std::size_t(y) * std::size_t(g.width) + std::size_t(x);
                    const detect::Box pred = predicted_box(l, image, a, l.mask[a], x, y);
                    float best_iou = 0;
                    std::size_t best_t = 0;
                    for (std::size_t t = 0; t < objects.size(); ++t) {
                        const float iou = detect::iou(pred, objects[t].box);
                        if (iou > best_iou) {
                            best_iou = iou;
                            best_t = t;
                        }
                    }
                    const std::size_t obj = g.index(a, 4, cell);
                    delta[obj] = 0.0f - image[obj];
                    if (best_iou > l.ignore_thresh) delta[obj] = 0.0f;
                    if (best_iou > l.truth_thresh) {
                        const detect::Truth& truth = objects[best_t];
                        delta[obj] = 1.0f - image[obj];
                        class_delta(g, image, a, cell, truth.cls, delta);
                        box_delta(l, truth.box, image, a, l.mask[a], x, y, 2.0f - truth.box.w * truth.box.h, delta);
                    }
                }
        for (const detect::Truth& truth : objects) {
            // The anchor over all of them whose shape fits best (first of equals, as Darknet).
            const detect::Box shape{0, 0, truth.box.w, truth.box.h};
            float best_iou = 0;
            int best_n = 0;
            for (int n = 0; n < l.total; ++n) {
                const float iou = detect::iou({0, 0, l.anchors[2 * n] / float(l.net_w), l.anchors[2 * n + 1] / float(l.net_h)}, shape);
                if (iou > best_iou) {
                    best_iou = iou;
                    best_n = n;
                }
            }
            int a = -1;
            for (int m = 0; m < g.anchors; ++m)
                if (l.mask[m] == best_n) a = m;
            if (a < 0) continue;
            int x = int(truth.box.x * float(g.width)), y = int(truth.box.y * float(g.height));
            // A centre on the far edge (x = 1) belongs to the last cell (Darknet would index past it).
            if (x >= g.width) x = g.width - 1;
            if (y >= g.height) y = g.height - 1;
            if (x < 0) x = 0;
            if (y < 0) y = 0;
            const std::size_t cell = std::size_t(y) * std::size_t(g.width) + std::size_t(x);
            box_delta(l, truth.box, image, a, best_n, x, y, 2.0f - truth.box.w * truth.box.h, delta);
            const std::size_t obj = g.index(a, 4, cell);
            delta[obj] = 1.0f - image[obj];
            class_delta(g, image, a, cell, truth.cls, delta);
        }
        for (std::size_t i = 0; i < per_image; ++i) {
            cost += double(delta[i]) * double(delta[i]);
            delta[i] *= -grad_scale;
        }
    }
    return float(cost);
}

void yolo_decode_reference(const YoloLoss& l, const float* output, float thresh, std::vector<detect::Detection>& out) {
    const YoloGeometry& g = l.g;
    for (int y = 0; y < g.height; ++y)
        for (int x = 0; x < g.width; ++x)
            for (int a = 0; a < g.anchors; ++a) {
                const std::size_t cell = std::size_t(y) * std::size_t(g.width) + std::size_t(x);
                const float objectness = output[g.index(a, 4, cell)];
                if (objectness <= thresh) continue;
                detect::Detection d;
                d.box = predicted_box(l, output, a, l.mask[a], x, y);
                d.objectness = objectness;
                d.prob.resize(std::size_t(g.classes));
                for (int k = 0; k < g.classes; ++k) {
                    const float p = objectness * output[g.index(a, 5 + k, cell)];
                    d.prob[std::size_t(k)] = p > thresh ? p : 0.0f;
                }
                out.push_back(std::move(d));
            }
}

}  // namespace lenet::kernels
