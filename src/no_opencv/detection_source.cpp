// Built without OpenCV (-DLENET_OPENCV=OFF): detection data (image lists with YOLO labels) cannot
// be read; the trainer and `lenet detector` get this error instead.
#include "core/error.h"
#include "data/detection_source.h"

namespace lenet {

namespace {
[[noreturn]] void no_opencv(const std::string& path) {
    throw Error(cat(path, ": cannot read detection images: lenet was built without OpenCV (LENET_OPENCV=OFF)"));
}
}  // namespace

DetectionSource::DetectionSource(const std::string& list_path, std::vector<std::string>, Shape, int,
                                 const LabelOptions&, const Augmentation&, std::size_t) {
    no_opencv(list_path);
}
void DetectionSource::gather(const int*, int, float*, int*) const { no_opencv(name_); }
void DetectionSource::gather_boxes(const int*, int, std::vector<detect::Truth>*) const { no_opencv(name_); }
void DetectionSource::gather_train(const int*, int, std::uint64_t, float*, int*, std::vector<detect::Truth>*) const {
    no_opencv(name_);
}

std::unique_ptr<DetectionSource> open_detection_data(const std::string& data_path, const std::string&, Shape, int,
                                                     bool, const Augmentation&) {
    no_opencv(data_path);
}

}  // namespace lenet
