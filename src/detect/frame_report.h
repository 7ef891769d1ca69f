// What `lenet detect` says about one frame: its JSON line (lenet's and AlexeyAB's fields), the
// -ext_output text, and the boxes drawn on the image for the window, -out and the MJPEG stream.
#pragma once
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "detect/detector.h"

namespace lenet::detect {

struct FrameResult {
    long long index = 0;    // the frame's place in the source, from 0
    double unix_time = 0;   // when it was read, seconds since the epoch
    double latency_ms = 0;  // from read to boxes
    int width = 0, height = 0;
    std::vector<FoundBox> boxes;  // pixels
};

// The class's name, or its index when there are no (or too few) names.
std::string class_name(const std::vector<std::string>& names, int cls);

// {"frame":..,"timestamp":..,"latency_ms":..,"width":..,"height":..,"boxes":[{"class":..,"name":..,
//  "score":..,"left":..,"top":..,"right":..,"bottom":..}]}, one line.
std::string json_line(const FrameResult& frame, const std::vector<std::string>& names);
// AlexeyAB's fields: {"frame_id":..,"objects":[{"class_id":..,"name":..,"relative_coordinates":
//  {"center_x":..,"center_y":..,"width":..,"height":..},"confidence":..}]}, one line.
std::string darknet_json_line(const FrameResult& frame, const std::vector<std::string>& names);
// AlexeyAB's -ext_output lines: "name: 87%\t(left_x: ... top_y: ... width: ... height: ...)".
std::string ext_output_text(const FrameResult& frame, const std::vector<std::string>& names);

// Boxes with class name and score, and the processing rate in the corner (fps <= 0: none).
void draw_boxes(cv::Mat& image, const std::vector<FoundBox>& boxes, const std::vector<std::string>& names, double fps);

}  // namespace lenet::detect
