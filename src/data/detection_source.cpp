#include "data/detection_source.h"

#include <cstring>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/error.h"
#include "data/image.h"
#include "data/image_list.h"
#include "detect/letterbox.h"

namespace lenet {

namespace {

cv::Mat read_image(const std::string& path, const std::string& where) {
    try {
        return read_image_file(path, cv::IMREAD_COLOR);
    } catch (const Error& e) {
        throw Error(cat(where, ": ", e.what()));
    }
}

}  // namespace

DetectionSource::DetectionSource(const std::string& list_path, std::vector<std::string> names, Shape input, int limit,
                                 const LabelOptions& labels, const Augmentation& augmentation,
                                 std::size_t cache_floats)
    : name_(list_path), names_(std::move(names)), shape_(input), augmentation_(augmentation) {
    if (shape_.c != 1 && shape_.c != 3)
        throw Error(cat(list_path, ": the network takes ", shape_.c, "-channel input; images give 1 or 3 channels"));
    std::vector<ListEntry> entries = read_image_list(list_path);
    if (limit > 0 && std::size_t(limit) < entries.size()) entries.resize(std::size_t(limit));
    // Augmenting, each training image is made from its original: keep those (if they fit), not
    // the letterboxed inputs.
    const bool augment = augmentation_.active();
    const bool cache = !augment && entries.size() * shape_.size() <= cache_floats;
    if (cache) cache_.resize(entries.size() * shape_.size());
    bool keep_originals = augment;
    std::size_t original_bytes = 0;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const ListEntry& entry = entries[i];
        const std::string where = cat(list_path, ":", entry.line);
        const cv::Mat image = read_image(entry.path, where);
        const detect::Letterbox geometry = detect::letterbox_geometry(image.cols, image.rows, shape_.w, shape_.h);
        std::vector<detect::Truth> truths, image_truths;
        for (const LabelBox& b : read_yolo_labels(find_label_file(entry.path), labels)) {
            truths.push_back({detect::image_to_network(b.box, geometry, true), b.cls});
            if (augment) image_truths.push_back({b.box, b.cls});
        }
        paths_.push_back(entry.path);
        geometries_.push_back(geometry);
        truths_.push_back(std::move(truths));
        if (augment) image_truths_.push_back(std::move(image_truths));
        if (keep_originals) {
            cv::Mat kept;  // planar_from_mat makes the same floats of either
            if (shape_.c == 1 && image.channels() == 3) cv::cvtColor(image, kept, cv::COLOR_BGR2GRAY);
            else kept = image;
            original_bytes += kept.total() * kept.elemSize();
            if (original_bytes <= cache_floats * sizeof(float)) {
                originals_.push_back(kept);
            } else {
                keep_originals = false;
                originals_ = {};
            }
        }
        if (cache) {
            const detect::PlanarImage planar =
                detect::letterbox_darknet(detect::planar_from_mat(image, shape_.c), shape_.w, shape_.h);
            std::memcpy(cache_.data() + i * shape_.size(), planar.data.data(), shape_.size() * sizeof(float));
        }
    }
}

detect::PlanarImage DetectionSource::original(int index) const {
    if (!originals_.empty()) return detect::planar_from_mat(originals_[std::size_t(index)], shape_.c);
    return detect::planar_from_mat(read_image(paths_[std::size_t(index)], name_), shape_.c);
}

void DetectionSource::decode(int index, float* out) const {
    const detect::PlanarImage planar = detect::letterbox_darknet(original(index), shape_.w, shape_.h);
    std::memcpy(out, planar.data.data(), shape_.size() * sizeof(float));
}

void DetectionSource::gather(const int* indices, int n, float* images, int* labels) const {
    const std::size_t size = shape_.size();
    for (int i = 0; i < n; ++i) {
        const std::size_t index = std::size_t(indices[i]);
        float* out = images + std::size_t(i) * size;
        if (!cache_.empty()) std::memcpy(out, cache_.data() + index * size, size * sizeof(float));
        else decode(int(index), out);
        if (labels) labels[i] = truths_[index].empty() ? -1 : truths_[index].front().cls;
    }
}

void DetectionSource::gather_boxes(const int* indices, int n, std::vector<detect::Truth>* boxes) const {
    for (int i = 0; i < n; ++i) boxes[i] = truths_[std::size_t(indices[i])];
}

void DetectionSource::gather_train(const int* indices, int n, std::uint64_t key, float* images, int* labels,
                                   std::vector<detect::Truth>* boxes) const {
    if (!augmentation_.active()) {
        DataSource::gather_train(indices, n, key, images, labels, boxes);
        return;
    }
    const std::size_t size = shape_.size();
    std::vector<detect::Truth> truths;
    for (int i = 0; i < n; ++i) {
        const int index = indices[i];
        Rng rng = image_rng(key, index);
        const detect::PlanarImage made = augment_detection(original(index), image_truths_[std::size_t(index)],
                                                           shape_.w, shape_.h, augmentation_, rng, truths);
        std::memcpy(images + std::size_t(i) * size, made.data.data(), size * sizeof(float));
        if (labels) labels[i] = truths.empty() ? -1 : truths.front().cls;
        if (boxes) boxes[i] = truths;
    }
}

std::unique_ptr<DetectionSource> open_detection_data(const std::string& data_path, const std::string& split,
                                                     Shape input, int limit, bool skip_bad,
                                                     const Augmentation& augmentation) {
    const DataFile data = read_data_file(data_path);
    const std::string& list = split == "train" ? data.train : data.valid;
    if (list.empty())
        throw Error(cat(data_path, ": no ", split == "train" ? "train=" : "valid=", " list of images"));
    std::vector<std::string> names = read_names(data.names);
    if (data.classes && data.classes != int(names.size()))
        throw Error(cat(data_path, ":", data.classes_line, ": classes=", data.classes, ": ", data.names, " names ",
                        names.size(), " classes"));
    LabelOptions labels;
    labels.classes = int(names.size());
    labels.skip_bad = skip_bad;
    return std::make_unique<DetectionSource>(list, std::move(names), input, limit, labels, augmentation);
}

}  // namespace lenet
