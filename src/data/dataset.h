// An image classification set held in memory as bytes (pixels 0..255, one label per image).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/shape.h"

namespace lenet {

struct Dataset {
    std::string name;
    Shape shape;  // of one image
    int classes = 0;
    std::vector<std::uint8_t> pixels;  // count x c x h x w
    std::vector<std::uint8_t> labels;

    int count() const { return int(labels.size()); }
    // Writes images indices[0..n) as floats in [0, 1] (NCHW) and their labels.
    void gather(const int* indices, int n, float* images, int* out_labels) const;
};

// The four MNIST-format files in a directory (raw or .gz): train-images-idx3-ubyte,
// train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte. `split` is "train" or
// "test". limit > 0 keeps only the first `limit` images.
Dataset load_mnist(const std::string& directory, const std::string& split, int limit = 0);

}  // namespace lenet
