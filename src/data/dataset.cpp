#include "data/dataset.h"

#include <filesystem>

#include "core/error.h"
#include "data/idx.h"

namespace lenet {

void Dataset::gather(const int* indices, int n, float* images, int* out_labels) const {
    const std::size_t size = shape.size();
    constexpr float kScale = 1.0f / 255.0f;
    for (int i = 0; i < n; ++i) {
        const std::uint8_t* src = pixels.data() + std::size_t(indices[i]) * size;
        float* dst = images + std::size_t(i) * size;
        for (std::size_t p = 0; p < size; ++p) dst[p] = float(src[p]) * kScale;
        if (out_labels) out_labels[i] = labels[std::size_t(indices[i])];
    }
}

namespace {

std::string find_idx_file(const std::string& directory, const std::string& stem) {
    namespace fs = std::filesystem;
    for (const std::string& candidate : {stem, stem + ".gz"}) {
        const fs::path path = fs::path(directory) / candidate;
        if (fs::exists(path)) return path.string();
    }
    // Some copies use '.' in place of the last '-' (train-images.idx3-ubyte).
    std::string dotted = stem;
    dotted[dotted.rfind('-', dotted.find("idx"))] = '.';
    for (const std::string& candidate : {dotted, dotted + ".gz"}) {
        const fs::path path = fs::path(directory) / candidate;
        if (fs::exists(path)) return path.string();
    }
    throw Error(cat(directory, ": no ", stem, " (or ", stem,
                    ".gz): expected an MNIST-format directory; scripts/get_mnist.sh fetches MNIST"));
}

}  // namespace

Dataset load_mnist(const std::string& directory, const std::string& split, int limit) {
    if (!std::filesystem::is_directory(directory))
        throw Error(cat(directory, ": not a directory (expected one holding the four MNIST IDX files)"));
    const std::string prefix = split == "train" ? "train" : "t10k";
    const std::string images_path = find_idx_file(directory, prefix + "-images-idx3-ubyte");
    const std::string labels_path = find_idx_file(directory, prefix + "-labels-idx1-ubyte");
    IdxArray images = read_idx(images_path);
    IdxArray labels = read_idx(labels_path);
    if (images.dims.size() != 3)
        throw Error(cat(images_path, ": byte offset 3: expected 3 dimensions (count, rows, columns), found ",
                        images.dims.size()));
    if (labels.dims.size() != 1)
        throw Error(cat(labels_path, ": byte offset 3: expected 1 dimension (count), found ", labels.dims.size()));
    if (images.dims[0] != labels.dims[0])
        throw Error(cat(images_path, " holds ", images.dims[0], " images but ", labels_path, " holds ", labels.dims[0],
                        " labels"));
    Dataset set;
    set.name = cat(directory, " (", split, ")");
    set.shape = Shape{1, int(images.dims[1]), int(images.dims[2])};
    std::size_t count = images.dims[0];
    if (limit > 0 && std::size_t(limit) < count) count = std::size_t(limit);
    images.data.resize(count * set.shape.size());
    labels.data.resize(count);
    set.pixels = std::move(images.data);
    set.labels = std::move(labels.data);
    for (std::size_t i = 0; i < set.labels.size(); ++i) {
        if (set.labels[i] > 9)
            throw Error(cat(labels_path, ": byte offset ", 8 + i, ": label ", int(set.labels[i]), " is not a digit 0-9"));
    }
    set.classes = 10;
    return set;
}

}  // namespace lenet
