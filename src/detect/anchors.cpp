#include "detect/anchors.h"

#include <algorithm>

#include "core/error.h"
#include "core/rng.h"

namespace lenet::detect {

float shape_iou(float w1, float h1, float w2, float h2) {
    const float inter = std::min(w1, w2) * std::min(h1, h2);
    const float uni = w1 * h1 + w2 * h2 - inter;
    return uni > 0 ? inter / uni : 0;
}

namespace {

std::size_t best_anchor(const std::pair<float, float>& box, const std::vector<std::pair<float, float>>& centres, float* iou) {
    std::size_t best = 0;
    float best_iou = -1;
    for (std::size_t c = 0; c < centres.size(); ++c) {
        const float v = shape_iou(box.first, box.second, centres[c].first, centres[c].second);
        if (v > best_iou) best_iou = v, best = c;
    }
    if (iou) *iou = best_iou;
    return best;
}

}  // namespace

namespace {

Anchors kmeans_once(const std::vector<std::pair<float, float>>& sizes, int k, Rng& rng, int iterations) {
    // k-means++: each next centre drawn with probability proportional to its distance (1 - IoU)
    // from the nearest centre so far.
    std::vector<std::pair<float, float>> centres{sizes[rng.below(sizes.size())]};
    std::vector<double> distance(sizes.size());
    while (centres.size() < std::size_t(k)) {
        double total = 0;
        for (std::size_t i = 0; i < sizes.size(); ++i) {
            float iou = 0;
            best_anchor(sizes[i], centres, &iou);
            distance[i] = 1.0 - double(iou);
            total += distance[i];
        }
        std::size_t pick = rng.below(sizes.size());
        if (total > 0) {
            double r = double(rng.uniform()) * total;
            for (std::size_t i = 0; i < sizes.size(); ++i)
                if ((r -= distance[i]) <= 0) {
                    pick = i;
                    break;
                }
        }
        centres.push_back(sizes[pick]);
    }
    std::vector<std::size_t> assignment(sizes.size(), std::size_t(-1));
    for (int it = 0; it < iterations; ++it) {
        bool changed = false;
        for (std::size_t i = 0; i < sizes.size(); ++i) {
            const std::size_t c = best_anchor(sizes[i], centres, nullptr);
            if (c != assignment[i]) assignment[i] = c, changed = true;
        }
        if (!changed) break;
        std::vector<double> sw(centres.size(), 0), sh(centres.size(), 0);
        std::vector<int> n(centres.size(), 0);
        for (std::size_t i = 0; i < sizes.size(); ++i) {
            sw[assignment[i]] += sizes[i].first;
            sh[assignment[i]] += sizes[i].second;
            ++n[assignment[i]];
        }
        for (std::size_t c = 0; c < centres.size(); ++c)
            if (n[c] > 0) centres[c] = {float(sw[c] / n[c]), float(sh[c] / n[c])};  // an empty cluster keeps its centre
    }
    std::sort(centres.begin(), centres.end(),
              [](const auto& a, const auto& b) { return a.first * a.second < b.first * b.second; });
    Anchors result;
    result.sizes = centres;
    double sum = 0;
    for (const auto& s : sizes) {
        float iou = 0;
        best_anchor(s, centres, &iou);
        sum += double(iou);
    }
    result.average_iou = sum / double(sizes.size());
    return result;
}

}  // namespace

Anchors kmeans_anchors(const std::vector<std::pair<float, float>>& sizes, int k, std::uint64_t seed, int iterations) {
    if (k < 1) throw Error(cat("anchors: ", k, " clusters: expected at least 1"));
    if (sizes.size() < std::size_t(k)) throw Error(cat("anchors: ", sizes.size(), " boxes for ", k, " clusters: need at least as many boxes"));
    // A few seedings, the best kept: one k-means++ draw can put two centres in one cluster.
    Rng rng(seed);
    Anchors best;
    for (int run = 0; run < 5; ++run) {
        Anchors a = kmeans_once(sizes, k, rng, iterations);
        if (run == 0 || a.average_iou > best.average_iou) best = std::move(a);
    }
    return best;
}

}  // namespace lenet::detect
