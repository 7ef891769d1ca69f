// Digit scenes for the detector: MNIST digits placed on varied backgrounds, with exact boxes from
// the ink. Deterministic by seed: scene i of a seed is the same image on every run (it depends on
// (seed, split, i) only, not on how many scenes are made). Train scenes take MNIST's training
// digits, validation scenes its test digits, so the two never share a handwritten digit.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "data/dataset.h"
#include "data/yolo_labels.h"

namespace lenet {

struct SceneOptions {
    int size = 320;          // square scenes, pixels
    std::uint64_t seed = 1;
    int min_digits = 1, max_digits = 5;
    int max_distractors = 3;
    std::vector<std::string> photos;  // optional background photographs (any size), used for some scenes
    std::string format = "jpg";       // of the written scenes: "jpg" (quality 95, ~4x smaller) or "png"
};

struct Scene {
    cv::Mat image;  // CV_8UC3, BGR
    std::vector<LabelBox> boxes;  // relative, line = 0
    std::vector<int> sources;     // index of each box's digit in the Dataset
};

class SceneGenerator {
public:
    // `digits` is an MNIST-format split (light ink on dark, 28x28); `split_salt` separates the
    // random streams of splits that share a seed. `digits` must outlive the generator.
    SceneGenerator(const Dataset& digits, SceneOptions options, std::uint64_t split_salt);
    Scene make(std::uint64_t index) const;

private:
    const Dataset& digits_;
    SceneOptions options_;
    std::uint64_t salt_;
    std::vector<cv::Mat> photos_;
};

// Writes `count` scenes of `split` ("train" or "valid") under out_dir in Darknet's layout:
// images/<split>/NNNNNN.jpg (or .png), labels/<split>/NNNNNN.txt, <split>.txt (the image list), and
// digits.data (classes=10, train=, valid=, names=, backup=) with digits.names beside it.
// Prints progress to stdout when `verbose`.
void write_digit_scenes(const std::string& mnist_dir, const std::string& out_dir, const std::string& split,
                        int count, const SceneOptions& options, bool verbose);

// A video of digits moving over a scene background (MJPG in AVI, 10 frames/s) and its ground
// truth, one JSON line per frame: {"frame":0,"boxes":[{"class":7,"x":..,"y":..,"w":..,"h":..}]},
// relative. Digits come from `split`'s source (test digits for "valid").
void write_digit_video(const std::string& mnist_dir, const std::string& video_path, const std::string& split,
                       int frames, const SceneOptions& options);

}  // namespace lenet
