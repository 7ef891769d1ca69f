// lenet's public interface: load a network from a cfg (and weights) and run it. Everything else
// (layers, kernels, the trainer) stays behind this header in src/.
#pragma once
#include <memory>
#include <string>
#include <vector>

namespace lenet {

const char* version();

class Model {
public:
    // Builds the network in `cfg_path`, then loads `weights_path` (Darknet .weights) unless it is
    // empty. threads <= 0 means all cores. Throws std::runtime_error with a message that names the
    // file, line or byte offset at fault.
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

}  // namespace lenet
