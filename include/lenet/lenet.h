// lenet's public interface: load a network from a cfg (and weights) and run it. A Model runs a
// classifier (or any network) on CHW floats; a Detector runs a YOLO detector on 8-bit images and
// returns boxes in image pixels. Everything else (layers, kernels, the trainer) stays behind this
// header in src/.
//
// With CMake: find_package(lenet REQUIRED) and target_link_libraries(app PRIVATE lenet::lenet).
//
// OpenCV: this header needs no OpenCV headers. Detector::detect(const cv::Mat&) is declared with a
// forward declaration of cv::Mat, so it is always there (the library itself is built with OpenCV,
// and lenet::lenet links it); to call it, include <opencv2/core.hpp> as for any use of cv::Mat.
// Without OpenCV code of your own, use the raw-pixel overload or detect_file.
//
// Errors (a missing or malformed cfg, weights, names or image file, a bad argument) are thrown as
// std::runtime_error whose message names the file, line or byte offset at fault.
//
// Threads: one Model or Detector runs one image at a time (it owns its activation buffers and its
// thread pool); use one object per calling thread.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace cv {
class Mat;
}

namespace lenet {

const char* version();

class Model {
public:
    // Builds the network in `cfg_path`, then loads `weights_path` (Darknet .weights) unless it is
    // empty. threads <= 0 means all cores.
    static std::unique_ptr<Model> load(const std::string& cfg_path, const std::string& weights_path = "",
                                       int threads = 0);
    ~Model();
    Model(const Model&) = delete;
    Model& operator=(const Model&) = delete;

    int input_width() const;
    int input_height() const;
    int input_channels() const;
    int outputs() const;

    // One image as CHW floats (input_channels x input_height x input_width, values in [0, 1]);
    // returns the last layer's outputs (class probabilities for a classifier).
    std::vector<float> predict(const std::vector<float>& image);
    // An image file (PNG, JPEG, ...), letterboxed to the input; `invert` for dark-on-light digits.
    std::vector<float> predict_file(const std::string& image_path, bool invert = false);

    // Darknet .weights; a network with [batchnorm] layers also gets path + ".state" (their biases).
    void save_weights(const std::string& path) const;

private:
    struct Impl;
    explicit Model(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// One detected object. Corners are in pixels of the image passed in (not the network input),
// clipped to it as Darknet does: 0 <= left <= right <= width, 0 <= top <= bottom <= height (a box
// that lies in the letterbox's padding clips to zero width or height).
struct Detection {
    int class_id = 0;
    float score = 0;  // objectness times the class probability, in (thresh, 1]
    float left = 0, top = 0, right = 0, bottom = 0;
};

class Detector {
public:
    // Builds the detector in `cfg_path` (a network with [yolo] layers), then loads `weights_path`:
    // Darknet .weights, a packed file from `lenet export -binary`, or "" / "none" for the cfg's
    // seeded random initialization (for tests). `names_path`, unless empty, is a file of class
    // names, one per line (Darknet's .names). threads <= 0 means all cores.
    static std::unique_ptr<Detector> load(const std::string& cfg_path, const std::string& weights_path = "",
                                          int threads = 0, const std::string& names_path = "");
    ~Detector();
    Detector(const Detector&) = delete;
    Detector& operator=(const Detector&) = delete;

    int input_width() const;
    int input_height() const;
    int input_channels() const;  // 1: the image is converted to grey first; 3: to RGB
    int classes() const;

    // Class names: at most classes() of them; a class without a name is called by its number.
    void set_names(std::vector<std::string> names);
    const std::string& class_name(int class_id) const;

    // The image is letterboxed into the network input as Darknet does, then boxes with a score
    // above `thresh` survive per-class non-maximum suppression at IoU `nms`; in Darknet's order.
    // One box per (candidate, class) above thresh, so one object may appear under two classes.
    //
    // An 8-bit image, 1 channel (grey) or 3 (BGR, OpenCV's order).
    std::vector<Detection> detect(const cv::Mat& image, float thresh = 0.25f, float nms = 0.45f);
    // The same from raw 8-bit pixels: `height` rows of `width` pixels of `channels` bytes (1: grey,
    // 3: BGR), each row starting `row_stride` bytes after the previous (>= width * channels). The
    // pixels are read, never kept.
    std::vector<Detection> detect(const unsigned char* pixels, int width, int height, int channels,
                                  std::size_t row_stride, float thresh = 0.25f, float nms = 0.45f);
    // An image file (PNG, JPEG, BMP, PNM, TIFF, WebP).
    std::vector<Detection> detect_file(const std::string& image_path, float thresh = 0.25f, float nms = 0.45f);

private:
    struct Impl;
    explicit Detector(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace lenet
