// A detector ready to run on images: a network with [yolo] layers built for inference from a cfg
// and weights, and the per-image path Darknet users know (letterbox, forward, decode, per-class
// NMS, boxes mapped back to the image). Shared by `lenet detector test`, `lenet detect` and the
// public lenet::Detector (include/lenet/lenet.h), which is why this one lives in lenet::detect.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "data/opencv_mat.h"
#include "detect/box.h"
#include "detect/letterbox.h"
#include "kernels/backend.h"

namespace lenet {

class Network;

struct DetectorOptions {
    int threads = 0;  // <= 0: all cores
    Backend backend = best_backend();
    int max_batch = 1;
    bool float_binary = false;  // XNOR layers as their float simulation (same outputs, bit for bit)
};

// One detected object in image pixels (corners clipped to the image), with its class and score.
struct FoundBox {
    int cls = 0;
    float score = 0;
    float left = 0, top = 0, right = 0, bottom = 0;
};

namespace detect {

class Detector {
public:
    // weights: a Darknet .weights file, a packed file (`lenet export -binary`) or `none` (the cfg's
    // random initialization). Errors name the file at fault.
    Detector(const std::string& cfg, const std::string& weights, const DetectorOptions& options = {});
    ~Detector();
    Detector(const Detector&) = delete;
    Detector& operator=(const Detector&) = delete;

    Network& network() { return *net_; }
    int input_width() const;
    int input_height() const;
    int input_channels() const;
    int classes() const;

    // The network input for an 8-bit BGR or grey image, and where the image went inside it.
    detect::PlanarImage letterbox(const cv::Mat& image, detect::Letterbox* geometry) const;
    // Forward one prepared input; the candidates after NMS in network coordinates, in Darknet's
    // order (each with one score per class, 0 where below thresh or suppressed).
    std::vector<detect::Detection> run(const detect::PlanarImage& input, float thresh, float nms);
    // Candidates -> one box per (candidate, class) with score > thresh, in image pixels.
    static std::vector<FoundBox> to_pixels(const std::vector<detect::Detection>& detections,
                                           const detect::Letterbox& geometry, float thresh);
    // All of the above.
    std::vector<FoundBox> detect(const cv::Mat& image, float thresh = 0.25f, float nms = 0.45f);

private:
    std::unique_ptr<Network> net_;
};

}  // namespace detect

}  // namespace lenet
