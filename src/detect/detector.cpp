#include "detect/detector.h"

#include <algorithm>

#include "core/error.h"
#include "net/evaluate.h"
#include "layers/yolo.h"
#include "net/network.h"

namespace lenet::detect {

Detector::Detector(const std::string& cfg, const std::string& weights, const DetectorOptions& options) {
    BuildOptions build;
    build.inference = true;
    build.packed_binary = !options.float_binary;
    build.threads = options.threads;
    build.backend = options.backend;
    build.max_batch = options.max_batch;
    net_ = Network::from_cfg_file(cfg, build);
    if (!is_detector(*net_)) throw Error(cat(cfg, ": no [yolo] layer: not a detector"));
    if (weights != "none") net_->load_weights(weights);
}

Detector::~Detector() = default;

int Detector::input_width() const { return net_->input_shape().w; }
int Detector::input_height() const { return net_->input_shape().h; }
int Detector::input_channels() const { return net_->input_shape().c; }
int Detector::classes() const {
    for (int i = 0; i < net_->layer_count(); ++i)
        if (const YoloLayer* yolo = as_yolo(net_->layer(i))) return yolo->classes();
    return 0;
}

#ifndef LENET_NO_OPENCV
detect::PlanarImage Detector::letterbox(const cv::Mat& image, detect::Letterbox* geometry) const {
    const Shape input = net_->input_shape();
    return detect::letterbox_darknet(detect::planar_from_mat(image, input.c), input.w, input.h, geometry);
}
#endif

std::vector<detect::Detection> Detector::run(const detect::PlanarImage& input, float thresh, float nms) {
    net_->forward(input.data.data(), 1, false);
    std::vector<detect::Detection> detections = network_detections(*net_, 0, thresh);
    detect::nms_sort(detections, nms);
    return detections;
}

std::vector<FoundBox> Detector::to_pixels(const std::vector<detect::Detection>& detections,
                                          const detect::Letterbox& geometry, float thresh) {
    std::vector<FoundBox> boxes;
    const float w = float(geometry.image_w), h = float(geometry.image_h);
    for (const detect::Detection& d : detections)
        for (std::size_t c = 0; c < d.prob.size(); ++c) {
            if (d.prob[c] <= thresh) continue;
            const detect::Box b = detect::network_to_image(d.box, geometry, false);
            boxes.push_back({int(c), d.prob[c], std::clamp(b.left(), 0.0f, w), std::clamp(b.top(), 0.0f, h),
                             std::clamp(b.right(), 0.0f, w), std::clamp(b.bottom(), 0.0f, h)});
        }
    return boxes;
}

#ifndef LENET_NO_OPENCV
std::vector<FoundBox> Detector::detect(const cv::Mat& image, float thresh, float nms) {
    detect::Letterbox geometry;
    const detect::PlanarImage input = letterbox(image, &geometry);
    return to_pixels(run(input, thresh, nms), geometry, thresh);
}
#endif

}  // namespace lenet::detect
