// Fuzz target: parse_yolo_labels on the input as label text (strict, and with skip_bad) and as a
// detection file (a score column, with skip_bad); every box it returns must be a valid one.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "data/yolo_labels.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    lenet::LabelOptions options;
    options.classes = 10;
    try {
        (void)lenet::parse_yolo_labels(text, "fuzz.txt", options);
    } catch (const lenet::Error&) {
    }
    std::vector<std::string> warnings;
    options.skip_bad = true;
    options.warnings = &warnings;
    auto check = [](const std::vector<lenet::LabelBox>& boxes) {
        for (const lenet::LabelBox& b : boxes) {
            const bool ok = b.cls >= 0 && b.cls < 10 && std::isfinite(b.box.x) && b.box.w > 0 && b.box.h > 0 &&
                            b.box.left() >= -1e-4f && b.box.right() <= 1 + 1e-4f && b.box.top() >= -1e-4f &&
                            b.box.bottom() <= 1 + 1e-4f && b.line >= 1 && b.score >= 0 && b.score <= 1;
            if (!ok) std::abort();  // a bad box got through
        }
    };
    check(lenet::parse_yolo_labels(text, "fuzz.txt", options));
    options.with_score = true;
    check(lenet::parse_yolo_labels(text, "fuzz.txt", options));
    return 0;
}
