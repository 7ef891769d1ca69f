// Darknet's cfg language: [section] lines, key=value lines, '#' and ';' comments. Every value
// remembers its file and line, and every lookup marks the key as used, so that after a section is
// parsed the keys nobody read can be reported as unknown (an error) or as Darknet keys lenet
// ignores (a warning, once per key).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace lenet {

struct CfgEntry {
    std::string key;
    std::string value;
    int line = 0;
    mutable bool used = false;
};

class CfgSection {
public:
    std::string file;
    std::string name;  // without brackets, as written
    int line = 0;
    std::vector<CfgEntry> entries;

    const CfgEntry* find(std::string_view key) const;
    bool has(std::string_view key) const { return find(key) != nullptr; }

    int get_int(std::string_view key, int fallback) const;
    int require_int(std::string_view key) const;
    // An integer that must lie in [low, high].
    int get_int(std::string_view key, int fallback, long long low, long long high) const;
    float get_float(std::string_view key, float fallback) const;
    bool get_bool(std::string_view key, bool fallback) const;  // 0 or 1
    std::string get_string(std::string_view key, std::string_view fallback) const;
    std::vector<int> get_int_list(std::string_view key) const;
    std::vector<float> get_float_list(std::string_view key) const;
    // A value that must be one of `choices`.
    std::string get_choice(std::string_view key, std::string_view fallback,
                           const std::vector<std::string_view>& choices) const;

    // "file:line: [name] key=value: message"
    [[noreturn]] void fail(const CfgEntry& entry, std::string_view message) const;
    [[noreturn]] void fail(std::string_view key, std::string_view message) const;
    // "file:line: [name]: message"
    [[noreturn]] void fail_section(std::string_view message) const;

    // Reports keys that no lookup read: those in `darknet_keys` (accepted by Darknet, ignored by
    // lenet) warn once per process; any other is an error.
    void finish(const std::vector<std::string_view>& darknet_keys) const;
};

std::vector<CfgSection> parse_cfg(std::string_view text, const std::string& file);
std::vector<CfgSection> read_cfg_file(const std::string& path);

// Prints "lenet: warning: <message>" to stderr the first time a given key (default: the message
// itself) is seen in this process.
void warn_once(const std::string& message, const std::string& key = "");

}  // namespace lenet
