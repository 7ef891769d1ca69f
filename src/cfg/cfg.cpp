#include "cfg/cfg.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>

#include "core/error.h"

namespace lenet {

namespace {

std::string_view trim(std::string_view s) {
    const char* spaces = " \t\r\n\f\v";
    const auto first = s.find_first_not_of(spaces);
    if (first == std::string_view::npos) return {};
    const auto last = s.find_last_not_of(spaces);
    return s.substr(first, last - first + 1);
}

template <class T>
bool parse_number(std::string_view text, T& out) {
    text = trim(text);
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    if (text.empty()) return false;
    const auto result = std::from_chars(text.data(), text.data() + text.size(), out);
    if (result.ec != std::errc() || result.ptr != text.data() + text.size()) return false;
    if constexpr (std::is_floating_point_v<T>) return std::isfinite(out);
    return true;
}

std::vector<std::string_view> split_list(std::string_view value) {
    std::vector<std::string_view> items;
    std::size_t start = 0;
    for (;;) {
        const auto comma = value.find(',', start);
        items.push_back(trim(value.substr(start, comma - start)));
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return items;
}

}  // namespace

const CfgEntry* CfgSection::find(std::string_view key) const {
    for (const auto& entry : entries) {
        if (entry.key == key) {
            entry.used = true;
            return &entry;
        }
    }
    return nullptr;
}

void CfgSection::fail(const CfgEntry& entry, std::string_view message) const {
    throw Error(cat(file, ":", entry.line, ": [", name, "] ", entry.key, "=", entry.value, ": ", message));
}

void CfgSection::fail(std::string_view key, std::string_view message) const {
    if (const CfgEntry* entry = find(key)) fail(*entry, message);
    throw Error(cat(file, ":", line, ": [", name, "] ", key, ": ", message));
}

void CfgSection::fail_section(std::string_view message) const {
    throw Error(cat(file, ":", line, ": [", name, "]: ", message));
}

int CfgSection::get_int(std::string_view key, int fallback) const {
    const CfgEntry* entry = find(key);
    if (!entry) return fallback;
    int value = 0;
    if (!parse_number(entry->value, value)) fail(*entry, "expected an integer");
    return value;
}

int CfgSection::get_int(std::string_view key, int fallback, long long low, long long high) const {
    const int value = get_int(key, fallback);
    if (value < low || value > high) {
        if (const CfgEntry* entry = find(key))
            fail(*entry, cat("expected an integer from ", low, " to ", high));
    }
    return value;
}

int CfgSection::require_int(std::string_view key) const {
    if (!find(key)) fail_section(cat("missing required key '", key, "'"));
    return get_int(key, 0);
}

float CfgSection::get_float(std::string_view key, float fallback) const {
    const CfgEntry* entry = find(key);
    if (!entry) return fallback;
    float value = 0;
    if (!parse_number(entry->value, value)) fail(*entry, "expected a number");
    return value;
}

bool CfgSection::get_bool(std::string_view key, bool fallback) const {
    const CfgEntry* entry = find(key);
    if (!entry) return fallback;
    int value = 0;
    if (!parse_number(entry->value, value) || (value != 0 && value != 1)) fail(*entry, "expected 0 or 1");
    return value == 1;
}

std::string CfgSection::get_string(std::string_view key, std::string_view fallback) const {
    const CfgEntry* entry = find(key);
    return entry ? entry->value : std::string(fallback);
}

std::vector<int> CfgSection::get_int_list(std::string_view key) const {
    const CfgEntry* entry = find(key);
    std::vector<int> values;
    if (!entry) return values;
    for (auto item : split_list(entry->value)) {
        int value = 0;
        if (!parse_number(item, value)) fail(*entry, "expected a comma-separated list of integers");
        values.push_back(value);
    }
    return values;
}

std::vector<float> CfgSection::get_float_list(std::string_view key) const {
    const CfgEntry* entry = find(key);
    std::vector<float> values;
    if (!entry) return values;
    for (auto item : split_list(entry->value)) {
        float value = 0;
        if (!parse_number(item, value)) fail(*entry, "expected a comma-separated list of numbers");
        values.push_back(value);
    }
    return values;
}

std::string CfgSection::get_choice(std::string_view key, std::string_view fallback,
                                   const std::vector<std::string_view>& choices) const {
    const CfgEntry* entry = find(key);
    if (!entry) return std::string(fallback);
    for (auto choice : choices)
        if (entry->value == choice) return entry->value;
    std::string list;
    for (auto choice : choices) list += (list.empty() ? "" : ", ") + std::string(choice);
    fail(*entry, cat("expected one of: ", list));
}

void CfgSection::finish(const std::vector<std::string_view>& darknet_keys) const {
    for (const auto& entry : entries) {
        if (entry.used) continue;
        bool darknet = false;
        for (auto key : darknet_keys) darknet = darknet || key == entry.key;
        if (!darknet) fail(entry, "unknown key");
        warn_once(cat(file, ":", entry.line, ": [", name, "] ", entry.key, ": Darknet key ignored by lenet"),
                  cat(name, "/", entry.key));
    }
}

std::vector<CfgSection> parse_cfg(std::string_view text, const std::string& file) {
    std::vector<CfgSection> sections;
    int line_number = 0;
    std::size_t position = 0;
    while (position <= text.size()) {
        const auto newline = text.find('\n', position);
        std::string_view line = text.substr(position, newline - position);
        position = newline == std::string_view::npos ? text.size() + 1 : newline + 1;
        ++line_number;
        line = trim(line);
        if (line.empty() || line.front() == '#' || line.front() == ';') continue;
        if (line.front() == '[') {
            if (line.back() != ']' || line.size() < 3)
                throw Error(cat(file, ":", line_number, ": malformed section header '", line, "'"));
            CfgSection section;
            section.file = file;
            section.name = std::string(trim(line.substr(1, line.size() - 2)));
            section.line = line_number;
            sections.push_back(std::move(section));
            continue;
        }
        const auto equals = line.find('=');
        if (equals == std::string_view::npos)
            throw Error(cat(file, ":", line_number, ": expected 'key=value' or '[section]', got '", line, "'"));
        if (sections.empty())
            throw Error(cat(file, ":", line_number, ": key '", trim(line.substr(0, equals)),
                            "' before the first [section]"));
        CfgEntry entry;
        entry.key = std::string(trim(line.substr(0, equals)));
        entry.value = std::string(trim(line.substr(equals + 1)));
        entry.line = line_number;
        if (entry.key.empty()) throw Error(cat(file, ":", line_number, ": empty key"));
        auto& section = sections.back();
        for (const auto& other : section.entries)
            if (other.key == entry.key)
                throw Error(cat(file, ":", line_number, ": [", section.name, "] ", entry.key,
                                ": duplicate key (first set on line ", other.line, ")"));
        section.entries.push_back(std::move(entry));
    }
    return sections;
}

std::vector<CfgSection> read_cfg_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(cat(path, ": cannot open cfg file"));
    std::ostringstream text;
    text << in.rdbuf();
    const std::string contents = text.str();
    if (contents.find('\0') != std::string::npos) throw Error(cat(path, ": not a text cfg file (contains NUL bytes)"));
    auto sections = parse_cfg(contents, path);
    if (sections.empty()) throw Error(cat(path, ": no sections (expected [net] followed by layers)"));
    return sections;
}

void warn_once(const std::string& message, const std::string& key) {
    static std::mutex mutex;
    static std::set<std::string> seen;
    std::lock_guard<std::mutex> lock(mutex);
    if (seen.insert(key.empty() ? message : key).second) std::cerr << "lenet: warning: " << message << "\n";
}

}  // namespace lenet
