#include "data/yolo_labels.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "io/atomic_file.h"

namespace lenet {

namespace {

// Rounding to six decimals (as label writers print) may push an edge just past 0 or 1.
constexpr float kEdgeTolerance = 1e-5f;

const char* const kFieldNames[5] = {"class", "x_center", "y_center", "width", "height"};

// The fields of one line, split on spaces and tabs.
std::vector<std::string_view> split_fields(std::string_view line) {
    std::vector<std::string_view> fields;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        const std::size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
        if (i > start) fields.push_back(line.substr(start, i - start));
    }
    return fields;
}

std::string shown(std::string_view field) {
    std::string s(field.substr(0, 40));
    for (char& c : s)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
    return "'" + s + (field.size() > 40 ? "...'" : "'");
}

// Parses one non-blank line; returns an empty string and fills `box` when it is good, else what is wrong.
std::string parse_line(std::string_view line, int classes, bool with_score, LabelBox& box) {
    const auto fields = split_fields(line);
    if (!with_score && fields.size() != 5)
        return cat("expected 5 fields (class x_center y_center width height), found ", fields.size());
    if (with_score && fields.size() != 6)
        return cat("expected 6 fields (class x_center y_center width height score), found ", fields.size());
    int cls = 0;
    const auto r = std::from_chars(fields[0].data(), fields[0].data() + fields[0].size(), cls);
    if (r.ec != std::errc() || r.ptr != fields[0].data() + fields[0].size())
        return cat("class ", shown(fields[0]), ": expected an integer");
    if (cls < 0 || (classes > 0 && cls >= classes))
        return classes > 0 ? cat("class ", cls, " out of range: classes=", classes, " (0..", classes - 1, ")")
                           : cat("class ", cls, " is negative");
    float v[4];
    for (int k = 0; k < 4; ++k) {
        const std::string_view f = fields[std::size_t(k) + 1];
        const auto rv = std::from_chars(f.data(), f.data() + f.size(), v[k]);
        if (rv.ec != std::errc() || rv.ptr != f.data() + f.size() || !std::isfinite(v[k]))
            return cat(kFieldNames[k + 1], " ", shown(f), ": expected a number");
    }
    for (int k = 0; k < 4; ++k)
        if (v[k] < 0 || v[k] > 1) return cat(kFieldNames[k + 1], " ", v[k], " is outside [0, 1]");
    if (v[2] <= 0 || v[3] <= 0) return cat("empty box: width ", v[2], ", height ", v[3]);
    const detect::Box b{v[0], v[1], v[2], v[3]};
    if (b.left() < -kEdgeTolerance || b.right() > 1 + kEdgeTolerance)
        return cat("box spans x ", b.left(), " to ", b.right(), ", outside [0, 1]");
    if (b.top() < -kEdgeTolerance || b.bottom() > 1 + kEdgeTolerance)
        return cat("box spans y ", b.top(), " to ", b.bottom(), ", outside [0, 1]");
    box.cls = cls;
    box.box = b;
    if (with_score) {
        const std::string_view f = fields[5];
        float score = 0;
        const auto rs = std::from_chars(f.data(), f.data() + f.size(), score);
        if (rs.ec != std::errc() || rs.ptr != f.data() + f.size() || !std::isfinite(score))
            return cat("score ", shown(f), ": expected a number");
        if (score < 0 || score > 1) return cat("score ", score, " is outside [0, 1]");
        box.score = score;
    }
    return {};
}

}  // namespace

std::vector<LabelBox> parse_yolo_labels(std::string_view text, const std::string& file, const LabelOptions& options) {
    std::vector<LabelBox> boxes;
    int line_number = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        ++line_number;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // CRLF files
        if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
        LabelBox box;
        box.line = line_number;
        const std::string problem = parse_line(line, options.classes, options.with_score, box);
        if (problem.empty()) {
            boxes.push_back(box);
            continue;
        }
        const std::string message = cat(file, ":", line_number, ": ", problem);
        if (!options.skip_bad) throw Error(message);
        if (options.warnings)
            options.warnings->push_back(message + "; line skipped");
        else
            std::fprintf(stderr, "lenet: warning: %s; line skipped\n", message.c_str());
    }
    return boxes;
}

std::vector<LabelBox> read_yolo_labels(const std::string& path, const LabelOptions& options) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(cat(path, ": cannot open label file"));
    std::ostringstream text;
    text << in.rdbuf();
    return parse_yolo_labels(text.str(), path, options);
}

std::string format_yolo_labels(const std::vector<LabelBox>& boxes) {
    std::string out;
    char line[128];
    for (const LabelBox& b : boxes) {
        std::snprintf(line, sizeof line, "%d %.6f %.6f %.6f %.6f\n", b.cls, double(b.box.x), double(b.box.y),
                      double(b.box.w), double(b.box.h));
        out += line;
    }
    return out;
}

void write_yolo_labels(const std::string& path, const std::vector<LabelBox>& boxes) {
    write_file_atomically(path, format_yolo_labels(boxes));
}

namespace {

std::string with_txt_extension(const std::filesystem::path& p) {
    std::filesystem::path out = p;
    out.replace_extension(".txt");  // no extension: appended
    return out.string();
}

}  // namespace

std::string label_path_for_image(const std::string& image_path) {
    const std::filesystem::path p(image_path);
    std::vector<std::filesystem::path> parts(p.begin(), p.end());
    for (std::size_t i = parts.size() - (parts.empty() ? 0 : 1); i-- > 0;) {
        const std::string name = parts[i].string();
        if (name == "images" || name == "JPEGImages" || name == "raw") {
            parts[i] = "labels";
            break;
        }
    }
    std::filesystem::path rebuilt;
    for (const auto& part : parts) rebuilt /= part;
    return with_txt_extension(rebuilt);
}

std::string label_path_beside_image(const std::string& image_path) {
    return with_txt_extension(std::filesystem::path(image_path));
}

std::string find_label_file(const std::string& image_path) {
    const std::string first = label_path_for_image(image_path);
    if (std::filesystem::is_regular_file(first)) return first;
    const std::string second = label_path_beside_image(image_path);
    if (second != first && std::filesystem::is_regular_file(second)) return second;
    if (second == first) throw Error(cat(image_path, ": no label file ", first));
    throw Error(cat(image_path, ": no label file (looked for ", first, " and ", second, ")"));
}

}  // namespace lenet
