#include "commands/args.h"

#include <charconv>

#include "core/error.h"

namespace lenet {

Args::Args(std::string command, const std::vector<std::string>& argv, const std::vector<OptionSpec>& specs)
    : command_(std::move(command)) {
    for (std::size_t i = 0; i < argv.size(); ++i) {
        const std::string& arg = argv[i];
        const bool looks_like_option = arg.size() > 1 && arg[0] == '-' && !(arg[1] >= '0' && arg[1] <= '9');
        if (!looks_like_option) {
            positionals_.push_back(arg);
            continue;
        }
        std::string_view view(arg);
        if (view.starts_with("--")) view.remove_prefix(1);  // accept --name too
        const std::string name(view);
        const OptionSpec* spec = nullptr;
        for (const auto& s : specs)
            if (s.name == name) spec = &s;
        if (!spec) throw Error(cat("lenet ", command_, ": unknown option ", arg, " (see: lenet help ", command_, ")"));
        if (spec->takes_value) {
            if (i + 1 >= argv.size()) throw Error(cat("lenet ", command_, ": option ", name, " needs a value"));
            values_[name] = argv[++i];
        } else {
            values_.insert_or_assign(name, std::string(1, '1'));  // a flag: present
        }
    }
}

void Args::expect_positionals(std::size_t min, std::size_t max, const std::string& usage) const {
    if (positionals_.size() < min || positionals_.size() > max)
        throw Error(cat("lenet ", command_, ": expected ", usage, " (see: lenet help ", command_, ")"));
}

std::optional<std::string> Args::value(const std::string& name) const {
    const auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    return it->second;
}

std::string Args::value_or(const std::string& name, const std::string& fallback) const {
    return value(name).value_or(fallback);
}

long long Args::integer(const std::string& name, long long fallback, long long low, long long high) const {
    const auto text = value(name);
    if (!text) return fallback;
    long long number = 0;
    const auto result = std::from_chars(text->data(), text->data() + text->size(), number);
    if (result.ec != std::errc() || result.ptr != text->data() + text->size() || number < low || number > high)
        throw Error(cat("lenet ", command_, ": ", name, " ", *text, ": expected an integer from ", low, " to ", high));
    return number;
}

Backend backend_option(const Args& args) {
    if (!args.value("-gpu")) return parse_backend(args.value_or("-backend", "auto"));
    if (args.value("-backend")) throw Error("-gpu selects the cuda backend: give -gpu or -backend, not both");
    return select_gpu(args.integer("-gpu", 0, 0, 1023));
}

}  // namespace lenet
