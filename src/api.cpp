// The public handles: Model, a thin wrapper around Network, and Detector, one around
// detect::Detector.
#include "lenet/lenet.h"

#ifndef LENET_NO_OPENCV
#include <opencv2/imgcodecs.hpp>
#endif

#include "data/image.h"
#include "data/image_list.h"
#include "detect/detector.h"
#include "io/train_state.h"
#include "net/network.h"

namespace lenet {

// CMakeLists.txt passes project()'s version, so the library and its package config agree.
const char* version() { return LENET_VERSION; }

struct Model::Impl {
    std::unique_ptr<Network> net;
    std::uint64_t seen = 0;
};

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

std::unique_ptr<Model> Model::load(const std::string& cfg_path, const std::string& weights_path, int threads) {
    auto impl = std::make_unique<Impl>();
    BuildOptions build;
    build.threads = threads;
    build.max_batch = 1;
    build.inference = true;  // forward passes only: dead activations' memory is reused
    impl->net = Network::from_cfg_file(cfg_path, build);
    if (!weights_path.empty()) impl->seen = impl->net->load_weights(weights_path);
    return std::unique_ptr<Model>(new Model(std::move(impl)));
}

int Model::input_width() const { return impl_->net->input_shape().w; }
int Model::input_height() const { return impl_->net->input_shape().h; }
int Model::input_channels() const { return impl_->net->input_shape().c; }
int Model::outputs() const { return int(impl_->net->output_shape().size()); }

std::vector<float> Model::predict(const std::vector<float>& image) {
    if (image.size() != impl_->net->input_shape().size())
        throw Error(cat("Model::predict: the image has ", image.size(), " values, the network takes ",
                        impl_->net->input_shape().size(), " (", to_string(impl_->net->input_shape()), ")"));
    const float* out = impl_->net->forward(image.data(), 1, false);
    return std::vector<float>(out, out + outputs());
}

std::vector<float> Model::predict_file(const std::string& image_path, bool invert) {
    return predict(load_image_for_network(image_path, impl_->net->input_shape(), invert));
}

void Model::save_weights(const std::string& path) const {
    impl_->net->save_weights(path, impl_->seen);
    // [batchnorm] biases, which Darknet's layout does not hold, go to the .state beside it.
    save_lenet_only_state(path, impl_->seen, impl_->net->lenet_only_values());
}

struct Detector::Impl {
    std::unique_ptr<detect::Detector> detector;
    std::vector<std::string> names;  // classes() entries, numbers where unnamed
};

Detector::Detector(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Detector::~Detector() = default;

std::unique_ptr<Detector> Detector::load(const std::string& cfg_path, const std::string& weights_path, int threads,
                                         const std::string& names_path) {
    auto impl = std::make_unique<Impl>();
    DetectorOptions options;
    options.threads = threads;
    impl->detector = std::make_unique<detect::Detector>(cfg_path, weights_path.empty() ? "none" : weights_path, options);
    std::unique_ptr<Detector> detector(new Detector(std::move(impl)));
    detector->set_names({});
    if (!names_path.empty()) {
        std::vector<std::string> names = read_names(names_path);
        if (names.size() > std::size_t(detector->classes()))
            throw Error(cat(names_path, ": ", names.size(), " class names, but ", cfg_path, " has ",
                            detector->classes(), " classes"));
        detector->set_names(std::move(names));
    }
    return detector;
}

int Detector::input_width() const { return impl_->detector->input_width(); }
int Detector::input_height() const { return impl_->detector->input_height(); }
int Detector::input_channels() const { return impl_->detector->input_channels(); }
int Detector::classes() const { return impl_->detector->classes(); }

void Detector::set_names(std::vector<std::string> names) {
    const std::size_t classes = std::size_t(this->classes());
    if (names.size() > classes)
        throw Error(cat("Detector::set_names: ", names.size(), " names for ", classes, " classes"));
    for (std::size_t c = names.size(); c < classes; ++c) names.push_back(std::to_string(c));
    impl_->names = std::move(names);
}

const std::string& Detector::class_name(int class_id) const {
    if (class_id < 0 || class_id >= classes())
        throw Error(cat("Detector::class_name: class ", class_id, " is not in 0..", classes() - 1));
    return impl_->names[std::size_t(class_id)];
}

namespace {

// NaN compares false both ways, so test for the range rather than against it.
[[maybe_unused]] void check_thresholds(float thresh, float nms) {
    if (!(thresh >= 0.0f && thresh <= 1.0f)) throw Error(cat("Detector::detect: thresh ", thresh, " is not in [0, 1]"));
    if (!(nms >= 0.0f && nms <= 1.0f)) throw Error(cat("Detector::detect: nms ", nms, " is not in [0, 1]"));
}

[[maybe_unused]] std::vector<Detection> to_public(const std::vector<FoundBox>& boxes) {
    std::vector<Detection> out;
    out.reserve(boxes.size());
    for (const FoundBox& b : boxes) out.push_back({b.cls, b.score, b.left, b.top, b.right, b.bottom});
    return out;
}

}  // namespace

#ifndef LENET_NO_OPENCV
std::vector<Detection> Detector::detect(const cv::Mat& image, float thresh, float nms) {
    check_thresholds(thresh, nms);
    if (image.empty()) throw Error("Detector::detect: the image is empty");
    if (image.depth() != CV_8U || (image.channels() != 1 && image.channels() != 3))
        throw Error(cat("Detector::detect: expected an 8-bit image of 1 or 3 channels, got depth ", image.depth(),
                        " with ", image.channels(), " channels"));
    return to_public(impl_->detector->detect(image, thresh, nms));
}

std::vector<Detection> Detector::detect(const unsigned char* pixels, int width, int height, int channels,
                                        std::size_t row_stride, float thresh, float nms) {
    if (!pixels) throw Error("Detector::detect: pixels is null");
    if (width <= 0 || height <= 0) throw Error(cat("Detector::detect: a ", width, "x", height, " image"));
    if (channels != 1 && channels != 3) throw Error(cat("Detector::detect: ", channels, " channels: expected 1 (grey) or 3 (BGR)"));
    if (row_stride < std::size_t(width) * std::size_t(channels))
        throw Error(cat("Detector::detect: row_stride ", row_stride, " is less than width x channels = ",
                        std::size_t(width) * std::size_t(channels)));
    // A header over the caller's bytes, no copy; only read (planar_from_mat converts into new memory).
    const cv::Mat image(height, width, channels == 1 ? CV_8UC1 : CV_8UC3, const_cast<unsigned char*>(pixels), row_stride);
    return detect(image, thresh, nms);
}

std::vector<Detection> Detector::detect_file(const std::string& image_path, float thresh, float nms) {
    return detect(read_image_file(image_path, cv::IMREAD_COLOR), thresh, nms);
}
#else
// Built without OpenCV (-DLENET_OPENCV=OFF): the network runs, but images cannot be converted.
namespace {
[[noreturn]] void no_opencv(const char* call) {
    throw Error(cat("Detector::", call, ": lenet was built without OpenCV (LENET_OPENCV=OFF)"));
}
}  // namespace

std::vector<Detection> Detector::detect(const cv::Mat&, float, float) { no_opencv("detect"); }
std::vector<Detection> Detector::detect(const unsigned char*, int, int, int, std::size_t, float, float) {
    no_opencv("detect");
}
std::vector<Detection> Detector::detect_file(const std::string&, float, float) { no_opencv("detect_file"); }
#endif

}  // namespace lenet
