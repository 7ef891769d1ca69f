// Image files (PNG, JPEG, ... through OpenCV) turned into a network's input.
#pragma once
#include <string>
#include <vector>

#include "core/shape.h"
#include "data/opencv_mat.h"

namespace lenet {

// Decodes `path` with cv::imread(path, imread_flags), but only a file whose leading bytes name a
// common format (PNG, JPEG, BMP, PNM, TIFF, WebP: some of OpenCV's other decoders abort on damaged
// files); a missing file, another format, OpenCV's exceptions (a header claiming too many pixels)
// and an empty result are Errors naming the path. Every image lenet reads goes through here.
cv::Mat read_image_file(const std::string& path, int imread_flags);

// Loads `path` and letterboxes it into shape (aspect ratio kept, the border filled with
// `background`), as CHW floats in [0, 1]; one channel means grayscale, three mean RGB. `invert`
// maps v to 1 - v (for dark digits on a light page, since MNIST is light on dark).
std::vector<float> load_image_for_network(const std::string& path, Shape shape, bool invert, float background = 0.0f);

}  // namespace lenet
