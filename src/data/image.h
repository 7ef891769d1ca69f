// Image files (PNG, JPEG, ... through OpenCV) turned into a network's input.
#pragma once
#include <string>
#include <vector>

#include "core/shape.h"

namespace lenet {

// Loads `path` and letterboxes it into shape (aspect ratio kept, the border filled with
// `background`), as CHW floats in [0, 1]; one channel means grayscale, three mean RGB. `invert`
// maps v to 1 - v (for dark digits on a light page, since MNIST is light on dark).
std::vector<float> load_image_for_network(const std::string& path, Shape shape, bool invert, float background = 0.0f);

}  // namespace lenet
