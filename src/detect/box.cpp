#include "detect/box.h"

#include <algorithm>
#include <numeric>

namespace lenet::detect {

Box box_from_corners(float left, float top, float right, float bottom) {
    return {(left + right) / 2, (top + bottom) / 2, right - left, bottom - top};
}

float intersection(const Box& a, const Box& b) {
    const float w = std::min(a.right(), b.right()) - std::max(a.left(), b.left());
    const float h = std::min(a.bottom(), b.bottom()) - std::max(a.top(), b.top());
    if (w <= 0 || h <= 0) return 0;
    return w * h;
}

float iou(const Box& a, const Box& b) {
    const float i = intersection(a, b);
    const float u = a.w * a.h + b.w * b.h - i;
    if (i <= 0 || u <= 0) return 0;
    return i / u;
}

namespace {

// Indices of the candidates that take part (objectness != 0), in input order.
std::vector<std::size_t> live_candidates(const std::vector<Detection>& detections) {
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < detections.size(); ++i)
        if (detections[i].objectness != 0) order.push_back(i);
    return order;
}

}  // namespace

void nms_sort(std::vector<Detection>& detections, float thresh) {
    std::vector<std::size_t> order = live_candidates(detections);
    std::size_t classes = 0;
    for (std::size_t i : order) classes = std::max(classes, detections[i].prob.size());
    for (std::size_t k = 0; k < classes; ++k) {
        auto score = [&](std::size_t i) { return k < detections[i].prob.size() ? detections[i].prob[k] : 0.0f; };
        std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return score(a) > score(b); });
        for (std::size_t i = 0; i < order.size(); ++i) {
            if (score(order[i]) == 0) continue;
            const Box& kept = detections[order[i]].box;
            for (std::size_t j = i + 1; j < order.size(); ++j) {
                Detection& other = detections[order[j]];
                if (k < other.prob.size() && iou(kept, other.box) > thresh) other.prob[k] = 0;
            }
        }
    }
}

void nms_objectness(std::vector<Detection>& detections, float thresh) {
    std::vector<std::size_t> order = live_candidates(detections);
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return detections[a].objectness > detections[b].objectness; });
    for (std::size_t i = 0; i < order.size(); ++i) {
        if (detections[order[i]].objectness == 0) continue;
        for (std::size_t j = i + 1; j < order.size(); ++j) {
            Detection& other = detections[order[j]];
            if (other.objectness == 0) continue;
            if (iou(detections[order[i]].box, other.box) > thresh) {
                other.objectness = 0;
                std::fill(other.prob.begin(), other.prob.end(), 0.0f);
            }
        }
    }
}

Letterbox letterbox_geometry(int image_w, int image_h, int net_w, int net_h) {
    Letterbox g{image_w, image_h, net_w, net_h, net_w, net_h, 0, 0};
    if (image_w <= 0 || image_h <= 0) return g;
    // Darknet compares the two scales in float and computes the other side in integers (truncated).
    if (float(net_w) / float(image_w) < float(net_h) / float(image_h)) {
        g.new_w = net_w;
        g.new_h = int((long long)image_h * net_w / image_w);
    } else {
        g.new_h = net_h;
        g.new_w = int((long long)image_w * net_h / image_h);
    }
    g.new_w = std::max(g.new_w, 1);
    g.new_h = std::max(g.new_h, 1);
    g.dx = (net_w - g.new_w) / 2;
    g.dy = (net_h - g.new_h) / 2;
    return g;
}

Letterbox stretch_geometry(int image_w, int image_h, int net_w, int net_h) {
    return {image_w, image_h, net_w, net_h, net_w, net_h, 0, 0};
}

Box network_to_image(const Box& box, const Letterbox& g, bool relative) {
    const double pad_x = (g.net_w - g.new_w) / 2.0 / g.net_w, pad_y = (g.net_h - g.new_h) / 2.0 / g.net_h;
    const double scale_x = double(g.new_w) / g.net_w, scale_y = double(g.new_h) / g.net_h;
    Box b{float((box.x - pad_x) / scale_x), float((box.y - pad_y) / scale_y), float(box.w / scale_x),
          float(box.h / scale_y)};
    if (!relative) {
        b.x *= float(g.image_w);
        b.w *= float(g.image_w);
        b.y *= float(g.image_h);
        b.h *= float(g.image_h);
    }
    return b;
}

Box image_to_network(const Box& box, const Letterbox& g, bool relative) {
    Box b = box;
    if (!relative) {
        b.x /= float(g.image_w);
        b.w /= float(g.image_w);
        b.y /= float(g.image_h);
        b.h /= float(g.image_h);
    }
    const double pad_x = (g.net_w - g.new_w) / 2.0 / g.net_w, pad_y = (g.net_h - g.new_h) / 2.0 / g.net_h;
    const double scale_x = double(g.new_w) / g.net_w, scale_y = double(g.new_h) / g.net_h;
    return {float(b.x * scale_x + pad_x), float(b.y * scale_y + pad_y), float(b.w * scale_x), float(b.h * scale_y)};
}

}  // namespace lenet::detect
