// Command-line arguments in Darknet's style: positionals, `-name value` options and `-name` flags.
// Each command declares what it takes; anything else is an error naming the argument.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kernels/backend.h"

namespace lenet {

struct OptionSpec {
    std::string name;  // with the dash: "-epochs"
    bool takes_value;
};

class Args {
public:
    Args(std::string command, const std::vector<std::string>& argv, const std::vector<OptionSpec>& specs);

    const std::vector<std::string>& positionals() const { return positionals_; }
    // Requires between min and max positionals; `usage` names them in the error.
    void expect_positionals(std::size_t min, std::size_t max, const std::string& usage) const;

    bool flag(const std::string& name) const { return values_.count(name) != 0; }
    std::optional<std::string> value(const std::string& name) const;
    std::string value_or(const std::string& name, const std::string& fallback) const;
    // An integer in [low, high]; the fallback if absent.
    long long integer(const std::string& name, long long fallback, long long low, long long high) const;

private:
    std::string command_;
    std::vector<std::string> positionals_;
    std::map<std::string, std::string> values_;
};

// The kernel table the options name: -gpu N (the cuda backend on device N), else -backend
// (default auto); both at once is an error. For commands that declare both options.
Backend backend_option(const Args& args);

}  // namespace lenet
