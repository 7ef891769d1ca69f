#include "data/data_file.h"

#include <charconv>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace lenet {

namespace {

std::string trim(const std::string& s) {
    const auto first = s.find_first_not_of(" \t\r");
    if (first == std::string::npos) return {};
    return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

std::string slurp(const std::string& path, const char* what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(cat(path, ": cannot open ", what));
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

}  // namespace

DataFile parse_data_file(const std::string& text, const std::string& path) {
    DataFile data;
    data.path = path;
    bool has_classes = false;
    const auto lines = lines_of(text);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::string line = trim(lines[i]);
        const int number = int(i) + 1;
        if (line.empty() || line[0] == '#' || line[0] == ';') continue;
        const auto eq = line.find('=');
        if (eq == std::string::npos) throw Error(cat(path, ":", number, ": '", line, "': expected key=value"));
        const std::string key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
        if (key.empty()) throw Error(cat(path, ":", number, ": '", line, "': no key before '='"));
        if (key == "classes") {
            int classes = 0;
            const auto r = std::from_chars(value.data(), value.data() + value.size(), classes);
            if (r.ec != std::errc() || r.ptr != value.data() + value.size() || classes < 1 || classes > 100000)
                throw Error(cat(path, ":", number, ": classes=", value, ": expected an integer from 1 to 100000"));
            data.classes = classes;
            has_classes = true;
        } else if (key == "train") {
            data.train = value;
        } else if (key == "valid") {
            data.valid = value;
        } else if (key == "names") {
            data.names = value;
        } else if (key == "backup") {
            data.backup = value;
        } else {
            data.other.emplace_back(key, value);
        }
    }
    if (!has_classes) throw Error(cat(path, ": no classes= line (the number of object classes)"));
    return data;
}

DataFile read_data_file(const std::string& path) { return parse_data_file(slurp(path, "data file"), path); }

std::vector<std::string> read_image_list(const std::string& path) {
    std::vector<std::string> images;
    for (const std::string& line : lines_of(slurp(path, "image list")))
        if (std::string t = trim(line); !t.empty()) images.push_back(t);
    if (images.empty()) throw Error(cat(path, ": the image list is empty"));
    return images;
}

std::vector<std::string> read_names(const std::string& path, int classes) {
    std::vector<std::string> names;
    for (const std::string& line : lines_of(slurp(path, "names file")))
        if (std::string t = trim(line); !t.empty()) names.push_back(t);
    if (classes > 0 && int(names.size()) != classes)
        throw Error(cat(path, ": ", names.size(), " names for classes=", classes));
    return names;
}

}  // namespace lenet
