// Fuzz target: Darknet's classifier .data file, class-name file and image-list readers on the input
// written to a file, then the class-from-path rule over every list entry against the names read
// from the same bytes (images are not opened: their paths come from the input).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "data/image_list.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string& path = lenet_fuzz::write_input(data, size, "input.data");
    try {
        (void)lenet::read_data_file(path);
    } catch (const lenet::Error&) {
    }
    std::vector<std::string> names;
    try {
        names = lenet::read_names(path);
    } catch (const lenet::Error&) {
    }
    try {
        for (const lenet::ListEntry& entry : lenet::read_image_list(path)) {
            try {
                (void)lenet::label_from_path(entry.text, names, "input:1");
            } catch (const lenet::Error&) {
            }
        }
    } catch (const lenet::Error&) {
    }
    return 0;
}
