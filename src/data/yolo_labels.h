// YOLO label files, as Darknet reads them: one text file per image, one line per object,
// `class x_center y_center width height`, the four numbers relative to the image (0..1).
// Errors name the file and line and say what is wrong; with skip_bad, a bad line is dropped with
// one warning instead (never a silently wrong box).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "detect/box.h"

namespace lenet {

struct LabelBox {
    int cls = 0;
    detect::Box box;  // relative
    int line = 0;     // in its file, from 1
    float score = 1;  // detection files only
};

struct LabelOptions {
    int classes = 0;  // > 0: a class outside [0, classes) is an error
    bool skip_bad = false;
    // Detection files: a sixth field, the score (confidence) in [0, 1], as written by detectors
    // that save their boxes in label format with a confidence column.
    bool with_score = false;
    // With skip_bad: where the warnings go; null prints "lenet: warning: ..." to stderr.
    std::vector<std::string>* warnings = nullptr;
};

// `file` names the text in messages.
std::vector<LabelBox> parse_yolo_labels(std::string_view text, const std::string& file, const LabelOptions& options);
std::vector<LabelBox> read_yolo_labels(const std::string& path, const LabelOptions& options);
// One line per box, "%d %.6f %.6f %.6f %.6f", written atomically.
void write_yolo_labels(const std::string& path, const std::vector<LabelBox>& boxes);
std::string format_yolo_labels(const std::vector<LabelBox>& boxes);

// Darknet's rule for an image's label file: the nearest directory named `images`, `JPEGImages`
// or `raw` becomes `labels`, and the image extension becomes `.txt`
// (data/images/train/0001.png -> data/labels/train/0001.txt). pjreddie's Darknet replaces the
// first occurrence of those words anywhere in the path, which mangles names like /home/myimages/;
// lenet matches whole directory names.
std::string label_path_for_image(const std::string& image_path);
// The same file beside the image (AlexeyAB's Darknet keeps labels there unless the path holds
// /JPEGImages/ or COCO's /images/train2017/ and the like).
std::string label_path_beside_image(const std::string& image_path);
// The first of the two that exists; an error naming both when neither does.
std::string find_label_file(const std::string& image_path);

}  // namespace lenet
