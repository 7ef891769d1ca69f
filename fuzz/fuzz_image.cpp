// Fuzz target: the image path of `predict`: load_image_for_network(path, {1,28,28}, false).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "core/error.h"
#include "core/shape.h"
#include "data/image.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerInitialize(int*, char*** argv) {
    // OpenCV's own decoder cap is 2^30 pixels; a header claiming that many would blow through
    // -rss_limit_mb=2048 inside OpenCV (not lenet). Cap it for the fuzz process only, and quiet
    // OpenCV's logger. (imread's own "can't read header" lines still go to std::cerr, so
    // build-fuzz/fuzz_image.log grows by about one line per damaged input.)
    lenet_fuzz::cap_opencv_image_size(argv);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string& path = lenet_fuzz::write_input(data, size, "input.img");
    try {
        (void)lenet::load_image_for_network(path, lenet::Shape{1, 28, 28}, false);
    } catch (const lenet::Error&) {
    }
    return 0;
}
