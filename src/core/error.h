// Errors. A user-facing Error carries a message that already names where the problem is (file:line
// for cfg text, file and byte offset for binary files). LENET_CHECK is for internal invariants: a
// failure there is a bug in lenet, reported with the source file and line.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace lenet {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Concatenates anything streamable into one string: cat("layer ", 3, ": ", name).
template <class... Parts>
std::string cat(const Parts&... parts) {
    std::ostringstream out;
    (out << ... << parts);
    return out.str();
}

[[noreturn]] void internal_failure(const char* file, int line, const std::string& what);

}  // namespace lenet

#define LENET_CHECK(condition, ...)                                                          \
    do {                                                                                     \
        if (!(condition))                                                                    \
            ::lenet::internal_failure(__FILE__, __LINE__,                                    \
                                      ::lenet::cat("check failed: " #condition " ", ##__VA_ARGS__)); \
    } while (0)
