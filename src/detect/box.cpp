#include "detect/box.h"

#include <algorithm>
#include <cmath>
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
    const std::vector<std::size_t> live = live_candidates(detections);
    std::size_t classes = 0;
    for (std::size_t i : live) classes = std::max(classes, detections[i].prob.size());
    auto score = [&](std::size_t i, std::size_t k) {
        return k < detections[i].prob.size() ? detections[i].prob[k] : 0.0f;
    };
    // Per class, only the candidates with a score take part: a zero one neither suppresses nor
    // changes when suppressed, so leaving it out changes nothing. Their boxes and edges sit side by
    // side; a pair whose edges do not overlap has intersection 0 or NaN (min - max of the same
    // edges as in intersection()), so an IoU never above a thresh >= 0: it is skipped before
    // iou(). A box with a NaN edge is always tested (iou() can still come out above thresh for it).
    // The scores are zeroed once every class is done, so each sort sees the input's scores.
    const int test_all = !(thresh >= 0);
    std::vector<std::size_t> bucket;
    constexpr std::size_t kBlock = 32;
    std::vector<float> kept, left, right, top, bottom;
    std::vector<int> meets, nan_edge;
    std::vector<Box> boxes;
    std::vector<std::pair<std::size_t, std::size_t>> zeroed;  // (candidate, class)
    for (std::size_t k = 0; k < classes; ++k) {
        bucket.clear();
        for (std::size_t i : live)
            if (score(i, k) != 0) bucket.push_back(i);
        // Descending score; ties as one list stable-sorted in place class after class orders them:
        // by the earlier classes' scores (the latest first), then input order.
        std::stable_sort(bucket.begin(), bucket.end(), [&](std::size_t a, std::size_t b) {
            for (std::size_t c = k + 1; c-- > 0;) {
                const float sa = score(a, c), sb = score(b, c);
                if (sa != sb) return sa > sb;
            }
            return a < b;
        });
        const std::size_t n = bucket.size();
        kept.assign(n, 1.0f);
        meets.resize(n);
        nan_edge.resize(n);
        boxes.resize(n);
        left.resize(n);
        right.resize(n);
        top.resize(n);
        bottom.resize(n);
        for (std::size_t i = 0; i < n; ++i) {
            const Box& box = detections[bucket[i]].box;
            boxes[i] = box;
            left[i] = box.left();
            right[i] = box.right();
            top[i] = box.top();
            bottom[i] = box.bottom();
            nan_edge[i] = std::isnan(left[i]) || std::isnan(right[i]) || std::isnan(top[i]) || std::isnan(bottom[i]);
        }
        for (std::size_t i = 0; i < n; ++i) {
            if (kept[i] == 0) continue;  // suppressed: suppresses nothing
            const float l = left[i], r = right[i], t = top[i], b = bottom[i];
            const int all = test_all | nan_edge[i];
            // Which later, unsuppressed boxes may meet box i, in blocks: the test is branch-free
            // (it vectorizes), and a block where none does is passed over.
            for (std::size_t start = i + 1; start < n; start += kBlock) {
                const std::size_t end = std::min(n, start + kBlock);
                int any = 0;
                for (std::size_t j = start; j < end; ++j) {
                    const int m = int(kept[j] != 0) & (all | nan_edge[j] | (int(left[j] < r) & int(right[j] > l) &
                                                                            int(top[j] < b) & int(bottom[j] > t)));
                    meets[j] = m;
                    any |= m;
                }
                if (!any) continue;
                for (std::size_t j = start; j < end; ++j)
                    if (meets[j] && iou(boxes[i], boxes[j]) > thresh) kept[j] = 0;
            }
        }
        for (std::size_t i = 0; i < n; ++i)
            if (kept[i] == 0) zeroed.emplace_back(bucket[i], k);
    }
    for (const auto& [i, k] : zeroed) detections[i].prob[k] = 0;
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
