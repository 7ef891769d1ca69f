// Fuzz target: load_train_state on the input written to a file.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "fuzz_util.h"
#include "io/train_state.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string& path = lenet_fuzz::write_input(data, size, "input.state");
    try {
        (void)lenet::load_train_state(path);
    } catch (const lenet::Error&) {
    }
    return 0;
}
