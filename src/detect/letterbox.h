// Network input for detection, as Darknet prepares it: planar float images (CHW, 0..1, RGB),
// Darknet's bilinear resize (its sampling, which differs from OpenCV's INTER_LINEAR: sample
// c * (in - 1) / (out - 1), the last column and row copied), and the letterbox (scaled by
// letterbox_geometry, embedded at (dx, dy) in grey 0.5). Same arithmetic, so the same input floats.
#pragma once
#include <vector>

#include "data/opencv_mat.h"
#include "detect/box.h"

namespace lenet::detect {

struct PlanarImage {
    int w = 0, h = 0, c = 0;
    std::vector<float> data;  // c planes of h rows of w
    float& at(int x, int y, int k) { return data[(std::size_t(k) * std::size_t(h) + std::size_t(y)) * std::size_t(w) + std::size_t(x)]; }
    float at(int x, int y, int k) const {
        return data[(std::size_t(k) * std::size_t(h) + std::size_t(y)) * std::size_t(w) + std::size_t(x)];
    }
};

// An 8-bit OpenCV image (1 or 3 channels, BGR) -> planar floats with `channels` channels (1: grey,
// 3: RGB, Darknet's order), v / 255.
PlanarImage planar_from_mat(const cv::Mat& image, int channels);
PlanarImage resize_darknet(const PlanarImage& image, int w, int h);
// The letterboxed input and where the image went.
PlanarImage letterbox_darknet(const PlanarImage& image, int net_w, int net_h, Letterbox* geometry = nullptr,
                              float fill = 0.5f);

}  // namespace lenet::detect
