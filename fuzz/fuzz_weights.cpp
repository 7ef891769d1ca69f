// Fuzz target: Network::load_weights on the input written to a file, into a small fixed network
// (fuzz_net.h) built once. Inputs that start with the packed format's magic get their CRC-32
// appended, so mutations reach the packed parser behind the checksum (unit tests cover the CRC).
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "fuzz_net.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto net = lenet_fuzz::make_weights_net();
    std::vector<std::uint8_t> input(data, data + size);
    if (size >= 4 && std::memcmp(data, "LNPK", 4) == 0) {
        const auto crc = std::uint32_t(crc32(0L, data, uInt(size)));
        for (int i = 0; i < 4; ++i) input.push_back(std::uint8_t(crc >> (8 * i)));
    }
    const std::string& path = lenet_fuzz::write_input(input.data(), input.size(), "input.weights");
    try {
        (void)net->load_weights(path);
    } catch (const lenet::Error&) {
    }
    return 0;
}
