// Fuzz target: cfg text -> parse_cfg -> Network::from_sections (reference backend, 1 thread,
// max_batch 1). Success or lenet::Error are fine; anything else is a finding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cfg/cfg.h"
#include "core/error.h"
#include "kernels/ops.h"
#include "net/network.h"

namespace {
// The builder legitimately allows layers of up to 2^28 weights and 16 GiB of activations, which
// is far above libFuzzer's -rss_limit_mb=2048 (and would be reported as an OOM "finding"). So the
// harness, not lenet, rejects inputs containing any run of digits whose value exceeds kMaxNumber
// before building. Small numbers still reach every code path (sizes, strides, pads, counts...);
// the big-value limits themselves are covered by the unit tests.
constexpr unsigned long long kMaxNumber = 512;

bool has_big_number(std::string_view text) {
    unsigned long long value = 0;
    bool in_number = false;
    for (char ch : text) {
        if (ch >= '0' && ch <= '9') {
            value = in_number ? value * 10 + unsigned(ch - '0') : unsigned(ch - '0');
            in_number = true;
            if (value > kMaxNumber) return true;
        } else {
            in_number = false;
        }
    }
    return false;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::vector<lenet::CfgSection> sections;
    try {
        sections = lenet::parse_cfg(text, "fuzz.cfg");
    } catch (const lenet::Error&) {
        return 0;
    }
    if (has_big_number(text)) return 0;  // see kMaxNumber
    try {
        lenet::BuildOptions build;
        build.threads = 1;
        build.backend = &lenet::kernels::reference_ops();
        build.max_batch = 1;
        auto net = lenet::Network::from_sections(sections, build);
        (void)net->summary_table();
    } catch (const lenet::Error&) {
    }
    return 0;
}
