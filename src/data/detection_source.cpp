#include "data/detection_source.h"

#include <cstring>

#include <opencv2/imgcodecs.hpp>

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
                                 const LabelOptions& labels, std::size_t cache_floats)
    : name_(list_path), names_(std::move(names)), shape_(input) {
    if (shape_.c != 1 && shape_.c != 3)
        throw Error(cat(list_path, ": the network takes ", shape_.c, "-channel input; images give 1 or 3 channels"));
    std::vector<ListEntry> entries = read_image_list(list_path);
    if (limit > 0 && std::size_t(limit) < entries.size()) entries.resize(std::size_t(limit));
    const bool cache = entries.size() * shape_.size() <= cache_floats;
    if (cache) cache_.resize(entries.size() * shape_.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const ListEntry& entry = entries[i];
        const std::string where = cat(list_path, ":", entry.line);
        const cv::Mat image = read_image(entry.path, where);
        const detect::Letterbox geometry = detect::letterbox_geometry(image.cols, image.rows, shape_.w, shape_.h);
        std::vector<detect::Truth> truths;
        for (const LabelBox& b : read_yolo_labels(find_label_file(entry.path), labels))
            truths.push_back({detect::image_to_network(b.box, geometry, true), b.cls});
        paths_.push_back(entry.path);
        geometries_.push_back(geometry);
        truths_.push_back(std::move(truths));
        if (cache) {
            const detect::PlanarImage planar =
                detect::letterbox_darknet(detect::planar_from_mat(image, shape_.c), shape_.w, shape_.h);
            std::memcpy(cache_.data() + i * shape_.size(), planar.data.data(), shape_.size() * sizeof(float));
        }
    }
}

void DetectionSource::decode(int index, float* out) const {
    const cv::Mat image = read_image(paths_[std::size_t(index)], name_);
    const detect::PlanarImage planar =
        detect::letterbox_darknet(detect::planar_from_mat(image, shape_.c), shape_.w, shape_.h);
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

std::unique_ptr<DetectionSource> open_detection_data(const std::string& data_path, const std::string& split,
                                                     Shape input, int limit, bool skip_bad) {
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
    return std::make_unique<DetectionSource>(list, std::move(names), input, limit, labels);
}

}  // namespace lenet
