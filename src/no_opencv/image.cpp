// Built without OpenCV (-DLENET_OPENCV=OFF): image files cannot be decoded. Everything that reads
// images (predict, Darknet .data image lists) reaches this and reports it.
#include "core/error.h"
#include "data/image.h"

namespace lenet {

std::vector<float> load_image_for_network(const std::string& path, Shape, bool, float) {
    throw Error(cat(path, ": cannot read images: lenet was built without OpenCV (LENET_OPENCV=OFF)"));
}

}  // namespace lenet
