// Fuzz target: read_idx on the input written to a file (raw or gzip: zlib decides by content).
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "data/idx.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string& path = lenet_fuzz::write_input(data, size, "input.idx");
    try {
        (void)lenet::read_idx(path);
    } catch (const lenet::Error&) {
    }
    return 0;
}
