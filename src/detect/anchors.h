// Anchor boxes for [yolo] layers by k-means on the truths' sizes with distance 1 - IoU (boxes
// compared as if they shared a centre), as AlexeyAB's `darknet detector calc_anchors`.
// Deterministic for a seed (k-means++ seeding from lenet's Rng, best of 5 seedings).
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

namespace lenet::detect {

struct Anchors {
    std::vector<std::pair<float, float>> sizes;  // (w, h), ascending by area
    double average_iou = 0;                      // of each box with its best anchor
};

// IoU of two boxes of these sizes with the same centre.
float shape_iou(float w1, float h1, float w2, float h2);

// `sizes`: (w, h) of each truth, in the units wanted (pixels at network size for a cfg).
Anchors kmeans_anchors(const std::vector<std::pair<float, float>>& sizes, int k, std::uint64_t seed, int iterations = 100);

}  // namespace lenet::detect
