#include "detect/frame_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

namespace lenet::detect {

namespace {

// Rounded so that a line stays short: pixels to 0.01, scores and relative coordinates to 1e-6.
// Dividing by the power of ten (not multiplying by its inverse) gives the double nearest the
// decimal, which the JSON writer then prints as that decimal.
double round_to(double v, double per_unit) { return std::round(v * per_unit) / per_unit; }

}  // namespace

std::string class_name(const std::vector<std::string>& names, int cls) {
    return cls >= 0 && std::size_t(cls) < names.size() ? names[std::size_t(cls)] : std::to_string(cls);
}

// ordered_json: the keys in the order written (frame first), not sorted.
std::string json_line(const FrameResult& frame, const std::vector<std::string>& names) {
    nlohmann::ordered_json boxes = nlohmann::ordered_json::array();
    for (const FoundBox& b : frame.boxes)
        boxes.push_back({{"class", b.cls},
                         {"name", class_name(names, b.cls)},
                         {"score", round_to(b.score, 1e6)},
                         {"left", round_to(b.left, 100)},
                         {"top", round_to(b.top, 100)},
                         {"right", round_to(b.right, 100)},
                         {"bottom", round_to(b.bottom, 100)}});
    const nlohmann::ordered_json line = {{"frame", frame.index},
                                 {"timestamp", round_to(frame.unix_time, 1e6)},
                                 {"latency_ms", round_to(frame.latency_ms, 1000)},
                                 {"width", frame.width},
                                 {"height", frame.height},
                                 {"boxes", std::move(boxes)}};
    return line.dump();
}

std::string darknet_json_line(const FrameResult& frame, const std::vector<std::string>& names) {
    nlohmann::ordered_json objects = nlohmann::ordered_json::array();
    const double w = std::max(1, frame.width), h = std::max(1, frame.height);
    for (const FoundBox& b : frame.boxes)
        objects.push_back({{"class_id", b.cls},
                           {"name", class_name(names, b.cls)},
                           {"relative_coordinates",
                            {{"center_x", round_to((b.left + b.right) / 2 / w, 1e6)},
                             {"center_y", round_to((b.top + b.bottom) / 2 / h, 1e6)},
                             {"width", round_to((b.right - b.left) / w, 1e6)},
                             {"height", round_to((b.bottom - b.top) / h, 1e6)}}},
                           {"confidence", round_to(b.score, 1e6)}});
    const nlohmann::ordered_json line = {{"frame_id", frame.index}, {"objects", std::move(objects)}};
    return line.dump();
}

std::string ext_output_text(const FrameResult& frame, const std::vector<std::string>& names) {
    std::string text = "Objects:\n\n";
    for (const FoundBox& b : frame.boxes) {
        char row[256];
        std::snprintf(row, sizeof row, "%s: %.0f%%\t(left_x: %4.0f   top_y: %4.0f   width: %4.0f   height: %4.0f)\n",
                      class_name(names, b.cls).c_str(), 100.0 * double(b.score), double(b.left), double(b.top),
                      double(b.right - b.left), double(b.bottom - b.top));
        text += row;
    }
    return text;
}

void draw_boxes(cv::Mat& image, const std::vector<FoundBox>& boxes, const std::vector<std::string>& names, double fps) {
    const double scale = std::max(0.4, double(std::min(image.cols, image.rows)) / 800.0);
    const int thick = std::max(1, int(std::lround(2 * scale)));
    for (const FoundBox& b : boxes) {
        // One colour per class, far apart on the hue circle (golden-ratio steps).
        cv::Mat hsv(1, 1, CV_8UC3, cv::Scalar(std::fmod(b.cls * 0.618034, 1.0) * 180, 220, 255)), bgr;
        cv::cvtColor(hsv, bgr, cv::COLOR_HSV2BGR);
        const cv::Vec3b c = bgr.at<cv::Vec3b>(0, 0);
        const cv::Scalar colour(c[0], c[1], c[2]);
        const cv::Point p0(int(b.left), int(b.top)), p1(int(b.right), int(b.bottom));
        cv::rectangle(image, p0, p1, colour, thick);
        const std::string label = class_name(names, b.cls) + " " + std::to_string(int(std::lround(100 * b.score))) + "%";
        int baseline = 0;
        const cv::Size size = cv::getTextSize(label, cv::FONT_HERSHEY_SIMPLEX, 0.5 * scale, thick, &baseline);
        const cv::Point corner(p0.x, std::max(size.height + 2, p0.y));
        cv::rectangle(image, corner + cv::Point(0, baseline - size.height - 4), corner + cv::Point(size.width + 2, baseline - 2),
                      colour, cv::FILLED);
        cv::putText(image, label, corner + cv::Point(1, -3), cv::FONT_HERSHEY_SIMPLEX, 0.5 * scale, cv::Scalar(0, 0, 0),
                    thick);
    }
    if (fps > 0) {
        char text[32];
        std::snprintf(text, sizeof text, "%.1f FPS", fps);
        const cv::Point at(4, int(16 * scale) + 4);
        cv::putText(image, text, at, cv::FONT_HERSHEY_SIMPLEX, 0.5 * scale, cv::Scalar(0, 0, 0), thick + 2);
        cv::putText(image, text, at, cv::FONT_HERSHEY_SIMPLEX, 0.5 * scale, cv::Scalar(255, 255, 255), thick);
    }
}

}  // namespace lenet::detect
