#include "data/image_list.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <string_view>

#include "core/error.h"
#include "data/augment.h"
#include "data/image.h"

namespace lenet {

namespace {

namespace fs = std::filesystem;

std::string_view trim(std::string_view s) {
    const char* spaces = " \t\r\n\f\v";
    const auto first = s.find_first_not_of(spaces);
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(spaces) - first + 1);
}

// The lines of a text file, in order (line k at index k - 1).
std::vector<std::string> read_lines(const std::string& path, const char* what) {
    if (fs::is_directory(path)) throw Error(cat(path, ": is a directory, expected ", what));
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(cat(path, ": cannot open ", what));
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
    if (in.bad()) throw Error(cat(path, ": read error"));
    return lines;
}

// Darknet opens the paths it is given from the working directory; lenet also finds them beside the
// file that names them, so a data folder can be moved whole.
std::string resolve(const std::string& value, const std::string& named_in) {
    const fs::path p(value);
    std::error_code error;
    if (p.is_absolute() || fs::exists(p, error)) return value;
    const fs::path beside = fs::path(named_in).parent_path() / p;
    if (fs::exists(beside, error)) return beside.string();
    return value;
}

}  // namespace

DataFile read_data_file(const std::string& path) {
    const std::vector<std::string> lines = read_lines(path, "a .data file");
    DataFile data;
    data.path = path;
    std::vector<int> seen_at(6, 0);  // line of each known key, for duplicates
    static const char* const kKeys[] = {"classes", "train", "valid", "test", "labels", "names"};
    std::string test;
    int names_line = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const int line = int(i) + 1;
        const std::string_view text = trim(lines[i]);
        if (text.empty() || text.front() == '#' || text.front() == ';') continue;
        const auto eq = text.find('=');
        if (eq == std::string_view::npos) {
            // Shown printable and short: the file may be no text at all.
            std::string shown(text.substr(0, 40));
            for (char& ch : shown)
                if (static_cast<unsigned char>(ch) < 32 || static_cast<unsigned char>(ch) > 126) ch = '?';
            throw Error(cat(path, ":", line, ": ", shown, text.size() > 40 ? "...": "",
                            ": expected key=value (a Darknet .data file) or an MNIST directory"));
        }
        const std::string key(trim(text.substr(0, eq))), value(trim(text.substr(eq + 1)));
        auto fail = [&](std::string_view what) { throw Error(cat(path, ":", line, ": ", key, "=", value, ": ", what)); };
        if (key == "backup") {
            if (value.empty()) fail("expected a folder");
            data.backup = value;
            continue;
        }
        if (key == "top" || key == "eval" || key == "results" || key == "map" || key == "tree") {
            std::cerr << "lenet: warning: " << path << ":" << line << ": " << key << "=" << value
                      << ": Darknet key lenet does not use (ignored)\n";
            continue;
        }
        const auto known = std::find_if(std::begin(kKeys), std::end(kKeys), [&](const char* k) { return key == k; });
        if (known == std::end(kKeys)) fail("unknown key (expected classes, train, valid, test, labels, names or backup)");
        int& at = seen_at[std::size_t(known - std::begin(kKeys))];
        if (at) fail(cat("given twice (first on line ", at, ")"));
        at = line;
        if (value.empty()) fail(key == "classes" ? "expected a number of classes" : "expected a file name");
        if (key == "classes") {
            int classes = 0;
            const char* end = value.data() + value.size();
            const auto result = std::from_chars(value.data(), end, classes);
            if (result.ec != std::errc() || result.ptr != end) fail("expected an integer");
            if (classes < 1 || classes > (1 << 20)) fail("expected 1 to 1048576 classes");
            data.classes = classes;
            data.classes_line = line;
        } else if (key == "train") {
            data.train = resolve(value, path);
        } else if (key == "valid") {
            data.valid = resolve(value, path);
        } else if (key == "test") {
            test = resolve(value, path);
        } else {  // labels or names: Darknet's classifier reads labels=, its predictor names=
            if (!data.names.empty()) fail(cat("a class-name file was already given on line ", names_line));
            data.names = resolve(value, path);
            names_line = line;
        }
    }
    if (data.valid.empty()) data.valid = test;
    if (data.names.empty()) throw Error(cat(path, ": no labels= (or names=): the file of class names is required"));
    return data;
}

std::vector<std::string> read_names(const std::string& path) {
    const std::vector<std::string> lines = read_lines(path, "a file of class names");
    std::vector<std::string> names;
    std::set<std::string> unique;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::string name(trim(lines[i]));
        if (name.empty()) continue;
        if (!unique.insert(name).second) throw Error(cat(path, ":", i + 1, ": class name '", name, "' given twice"));
        names.push_back(name);
    }
    if (names.empty()) throw Error(cat(path, ": no class names (one per line expected)"));
    return names;
}

std::vector<ListEntry> read_image_list(const std::string& path) {
    const std::vector<std::string> lines = read_lines(path, "an image list");
    std::vector<ListEntry> entries;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::string_view text = trim(lines[i]);
        if (text.empty()) continue;
        entries.push_back({std::string(text), resolve(std::string(text), path), int(i) + 1});
    }
    if (entries.empty()) throw Error(cat(path, ": the image list names no images"));
    return entries;
}

int label_from_path(const std::string& image, const std::vector<std::string>& names, const std::string& where) {
    int found = -1;
    for (std::size_t k = 0; k < names.size(); ++k) {
        if (image.find(names[k]) == std::string::npos) continue;
        if (found >= 0)
            throw Error(cat(where, ": ", image, ": the path holds two class names, '", names[std::size_t(found)], "' and '",
                            names[k], "' (a path must contain exactly one)"));
        found = int(k);
    }
    if (found < 0) throw Error(cat(where, ": ", image, ": the path holds none of the ", names.size(), " class names"));
    return found;
}

ImageListSource::ImageListSource(const std::string& list_path, std::vector<std::string> names, Shape input, int limit,
                                 std::size_t cache_floats, float angle)
    : name_(list_path), list_path_(list_path), names_(std::move(names)), shape_(input), angle_(angle) {
    if (shape_.c != 1 && shape_.c != 3)
        throw Error(cat(list_path, ": the network takes ", shape_.c, "-channel input; images give 1 or 3 channels"));
    entries_ = read_image_list(list_path);
    if (limit > 0 && std::size_t(limit) < entries_.size()) entries_.resize(std::size_t(limit));
    labels_.reserve(entries_.size());
    for (const ListEntry& entry : entries_) {
        const std::string where = cat(list_path, ":", entry.line);
        std::error_code error;
        if (!fs::is_regular_file(entry.path, error)) throw Error(cat(where, ": ", entry.text, ": no such image file"));
        labels_.push_back(label_from_path(entry.text, names_, where));
    }
    if (entries_.size() * shape_.size() <= cache_floats) {
        cache_.resize(entries_.size() * shape_.size());
        for (std::size_t i = 0; i < entries_.size(); ++i) decode(int(i), cache_.data() + i * shape_.size());
    }
}

void ImageListSource::decode(int index, float* out) const {
    const ListEntry& entry = entries_[std::size_t(index)];
    std::vector<float> pixels;
    try {
        pixels = load_image_for_network(entry.path, shape_, false);
    } catch (const Error& e) {
        throw Error(cat(list_path_, ":", entry.line, ": ", e.what()));
    }
    std::copy(pixels.begin(), pixels.end(), out);
}

void ImageListSource::gather(const int* indices, int n, float* images, int* labels) const {
    const std::size_t size = shape_.size();
    for (int i = 0; i < n; ++i) {
        const std::size_t index = std::size_t(indices[i]);
        float* out = images + std::size_t(i) * size;
        if (!cache_.empty()) std::memcpy(out, cache_.data() + index * size, size * sizeof(float));
        else decode(int(index), out);
        if (labels) labels[i] = labels_[index];
    }
}

void ImageListSource::gather_train(const int* indices, int n, std::uint64_t key, float* images, int* labels,
                                   std::vector<detect::Truth>* boxes) const {
    DataSource::gather_train(indices, n, key, images, labels, boxes);
    rotate_batch(images, n, shape_, indices, key, angle_);
}

}  // namespace lenet
