// Small builders shared by the layer and graph tests.
#pragma once
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "core/rng.h"

namespace lenet::test {

// The [net] section for inputs of c x h x w.
inline std::string net_section(int c, int h, int w) {
    std::ostringstream s;
    s << "[net]\nbatch=1\nwidth=" << w << "\nheight=" << h << "\nchannels=" << c << "\n";
    return s.str();
}

inline std::vector<float> random_values(std::size_t n, std::uint64_t seed, float low = -1.0f, float high = 1.0f) {
    Rng rng(seed);
    std::vector<float> v(n);
    for (auto& x : v) x = rng.uniform(low, high);
    return v;
}

}  // namespace lenet::test
