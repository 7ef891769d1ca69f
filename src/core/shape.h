// The shape of one sample: channels x height x width (NCHW within a batch). A flat layer output
// (connected, softmax) is c x 1 x 1.
#pragma once
#include <cstddef>
#include <string>

#include "core/error.h"

namespace lenet {

struct Shape {
    int c = 0, h = 0, w = 0;
    std::size_t size() const {
        return static_cast<std::size_t>(c) * static_cast<std::size_t>(h) * static_cast<std::size_t>(w);
    }
    bool operator==(const Shape&) const = default;
};

inline std::string to_string(const Shape& s) { return cat(s.w, " x ", s.h, " x ", s.c); }

}  // namespace lenet
