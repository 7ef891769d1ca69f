// Darknet detection data: a .data file's train=/valid= image lists, one YOLO label file per image
// (data/yolo_labels.h, found by Darknet's rule), images letterboxed to the network input as
// Darknet's detector does (detect/letterbox.h) and their boxes mapped into network coordinates.
// Labels are read and checked when the source opens (errors name the file and line). Small sets
// keep their letterboxed images in memory; larger ones decode per gather (the prefetch thread).
// With an Augmentation (data/augment.h: [yolo] jitter, [net] hue, saturation, exposure, flip),
// gather_train() makes each training image afresh from the original (kept decoded in memory when
// the originals fit the cache); gather(), which evaluation uses, never augments.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "data/augment.h"
#include "data/opencv_mat.h"
#include "data/source.h"
#include "data/yolo_labels.h"
#include "detect/box.h"

namespace lenet {

class DetectionSource final : public DataSource {
public:
    DetectionSource(const std::string& list_path, std::vector<std::string> names, Shape input, int limit,
                    const LabelOptions& labels, const Augmentation& augmentation = {},
                    std::size_t cache_floats = kCacheFloats);
    const std::string& name() const override { return name_; }
    Shape shape() const override { return shape_; }
    int classes() const override { return int(names_.size()); }
    int count() const override { return int(paths_.size()); }
    const std::vector<std::string>& class_names() const override { return names_; }
    // labels: the first object's class (or -1), for sources' common interface.
    void gather(const int* indices, int n, float* images, int* labels) const override;
    bool has_boxes() const override { return true; }
    void gather_boxes(const int* indices, int n, std::vector<detect::Truth>* boxes) const override;
    void gather_train(const int* indices, int n, std::uint64_t key, float* images, int* labels,
                      std::vector<detect::Truth>* boxes) const override;

    const std::string& path(int index) const { return paths_[std::size_t(index)]; }
    const detect::Letterbox& geometry(int index) const { return geometries_[std::size_t(index)]; }

    static constexpr std::size_t kCacheFloats = std::size_t(256) << 20;  // 1 GiB

private:
    void decode(int index, float* out) const;
    // Image `index` as decoded, in the network's channels.
    detect::PlanarImage original(int index) const;

    std::string name_;
    std::vector<std::string> names_;
    Shape shape_;
    std::vector<std::string> paths_;
    std::vector<detect::Letterbox> geometries_;
    std::vector<std::vector<detect::Truth>> truths_;  // network coordinates
    std::vector<std::vector<detect::Truth>> image_truths_;  // relative to the image (augmenting only)
    std::vector<float> cache_;
    Augmentation augmentation_;
    // Augmenting: the decoded 8-bit images (grey for a 1-channel network), when they fit in the
    // cache's bytes (else empty: decoded per gather).
#ifndef LENET_NO_OPENCV
    std::vector<cv::Mat> originals_;
#endif
};

// The `split` ("train" or "valid") of a Darknet detection .data file as a source for a network
// taking `input`; the trainer gives its train split the cfg's augmentation.
std::unique_ptr<DetectionSource> open_detection_data(const std::string& data_path, const std::string& split,
                                                     Shape input, int limit = 0, bool skip_bad = false,
                                                     const Augmentation& augmentation = {});

}  // namespace lenet
