// Fuzz target: parse_training_log (`lenet plot`'s reader of JSON-lines training logs) on the input
// as text.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "commands/training_log.h"
#include "core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        (void)lenet::parse_training_log(std::string_view(reinterpret_cast<const char*>(data), size), "input.jsonl");
    } catch (const lenet::Error&) {
    }
    return 0;
}
