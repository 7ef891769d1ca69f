// Fuzz target: Network::load_weights on the input written to a file, into a small fixed network
// (fuzz_net.h) built once.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "fuzz_net.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto net = lenet_fuzz::make_weights_net();
    const std::string& path = lenet_fuzz::write_input(data, size, "input.weights");
    try {
        (void)net->load_weights(path);
    } catch (const lenet::Error&) {
    }
    return 0;
}
