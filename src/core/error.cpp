#include "core/error.h"

namespace lenet {

void internal_failure(const char* file, int line, const std::string& what) {
    throw Error(cat("internal error at ", file, ":", line, ": ", what));
}

}  // namespace lenet
