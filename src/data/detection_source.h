// Darknet detection data: a .data file's train=/valid= image lists, one YOLO label file per image
// (data/yolo_labels.h, found by Darknet's rule), images letterboxed to the network input as
// Darknet's detector does (detect/letterbox.h) and their boxes mapped into network coordinates.
// Labels are read and checked when the source opens (errors name the file and line). Small sets
// keep their letterboxed images in memory; larger ones decode per gather (the prefetch thread).
// No augmentation (jitter, hue, saturation, exposure, flip) yet.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "data/source.h"
#include "data/yolo_labels.h"
#include "detect/box.h"

namespace lenet {

class DetectionSource final : public DataSource {
public:
    DetectionSource(const std::string& list_path, std::vector<std::string> names, Shape input, int limit,
                    const LabelOptions& labels, std::size_t cache_floats = kCacheFloats);
    const std::string& name() const override { return name_; }
    Shape shape() const override { return shape_; }
    int classes() const override { return int(names_.size()); }
    int count() const override { return int(paths_.size()); }
    const std::vector<std::string>& class_names() const override { return names_; }
    // labels: the first object's class (or -1), for sources' common interface.
    void gather(const int* indices, int n, float* images, int* labels) const override;
    bool has_boxes() const override { return true; }
    void gather_boxes(const int* indices, int n, std::vector<detect::Truth>* boxes) const override;

    const std::string& path(int index) const { return paths_[std::size_t(index)]; }
    const detect::Letterbox& geometry(int index) const { return geometries_[std::size_t(index)]; }

    static constexpr std::size_t kCacheFloats = std::size_t(256) << 20;  // 1 GiB

private:
    void decode(int index, float* out) const;

    std::string name_;
    std::vector<std::string> names_;
    Shape shape_;
    std::vector<std::string> paths_;
    std::vector<detect::Letterbox> geometries_;
    std::vector<std::vector<detect::Truth>> truths_;  // network coordinates
    std::vector<float> cache_;
};

// The `split` ("train" or "valid") of a Darknet detection .data file as a source for a network
// taking `input`.
std::unique_ptr<DetectionSource> open_detection_data(const std::string& data_path, const std::string& split,
                                                     Shape input, int limit = 0, bool skip_bad = false);

}  // namespace lenet
