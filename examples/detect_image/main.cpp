// Detects objects in one image with lenet's public API and prints one line per box:
//   detect_image <cfg> <weights|none> <image> [-thresh 0.25] [-nms 0.45] [-names file] [-threads n]
// With -classify <cfg> <weights> instead, runs a classifier (lenet::Model) on the image and prints
// its scores.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include <lenet/lenet.h>

namespace {

// std::stof alone would report just "stof"; say which option and value.
float number(const std::string& key, const std::string& value) {
    std::size_t used = 0;
    float v = 0;
    try {
        v = std::stof(value, &used);
    } catch (const std::exception&) {
    }
    if (used == 0 || used != value.size()) throw std::runtime_error(key + " " + value + ": expected a number");
    return v;
}

int classify(const std::string& cfg, const std::string& weights, const std::string& image) {
    const auto model = lenet::Model::load(cfg, weights == "none" ? "" : weights);
    const std::vector<float> scores = model->predict_file(image);
    for (std::size_t k = 0; k < scores.size(); ++k) std::printf("class %zu: %.6f\n", k, double(scores[k]));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    try {
        if (args.size() == 4 && args[0] == "-classify") return classify(args[1], args[2], args[3]);
        if (args.size() < 3) {
            std::fprintf(stderr,
                         "usage: detect_image <cfg> <weights|none> <image> [-thresh t] [-nms t] [-names file] [-threads n]\n"
                         "       detect_image -classify <cfg> <weights|none> <image>\n");
            return 2;
        }
        float thresh = 0.25f, nms = 0.45f;
        std::string names;
        int threads = 0;
        for (std::size_t i = 3; i < args.size(); ++i) {
            if (i + 1 == args.size()) throw std::runtime_error(args[i] + ": expected a value after it");
            const std::string& key = args[i];
            const std::string& value = args[++i];
            if (key == "-thresh") thresh = number(key, value);
            else if (key == "-nms") nms = number(key, value);
            else if (key == "-names") names = value;
            else if (key == "-threads") threads = int(number(key, value));
            else throw std::runtime_error(key + ": unknown option");
        }
        const auto detector = lenet::Detector::load(args[0], args[1], threads, names);
        std::printf("lenet %s, input %dx%dx%d, %d classes\n", lenet::version(), detector->input_width(),
                    detector->input_height(), detector->input_channels(), detector->classes());
        const std::vector<lenet::Detection> boxes = detector->detect_file(args[2], thresh, nms);
        for (const lenet::Detection& d : boxes)
            std::printf("%s %.6f %.3f %.3f %.3f %.3f\n", detector->class_name(d.class_id).c_str(), double(d.score),
                        double(d.left), double(d.top), double(d.right), double(d.bottom));
        std::printf("%zu boxes\n", boxes.size());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "detect_image: %s\n", e.what());
        return 1;
    }
}
