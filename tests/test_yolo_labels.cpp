// YOLO label files: parsing, errors naming file and line, skipping bad lines, Darknet's path rule.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>

#include "core/error.h"
#include "data/yolo_labels.h"
#include "io/atomic_file.h"

using namespace lenet;
using Catch::Matchers::Contains;

namespace {

std::string error_of(const std::string& text, int classes = 10) {
    try {
        LabelOptions options;
        options.classes = classes;
        parse_yolo_labels(text, "labels/a.txt", options);
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("yolo labels: good files", "[labels]") {
    LabelOptions options;
    options.classes = 10;
    const auto boxes = parse_yolo_labels("3 0.5 0.25 0.2 0.1\n\n  7\t0.1 0.9 0.2 0.2  \r\n9 1e-1 0.5 0.2 1\n", "x.txt", options);
    REQUIRE(boxes.size() == 3);
    CHECK(boxes[0].cls == 3);
    CHECK(boxes[0].box.x == 0.5f);
    CHECK(boxes[0].box.y == 0.25f);
    CHECK(boxes[0].box.w == 0.2f);
    CHECK(boxes[0].box.h == 0.1f);
    CHECK(boxes[0].line == 1);
    CHECK(boxes[1].cls == 7);
    CHECK(boxes[1].line == 3);  // blank lines count
    CHECK(boxes[2].box.x == 0.1f);
    CHECK(boxes[2].box.h == 1.0f);
    CHECK(parse_yolo_labels("", "empty.txt", options).empty());
    // Edges that six decimals push just past 1 are accepted.
    CHECK(parse_yolo_labels("0 0.950001 0.5 0.100000 0.2\n", "r.txt", options).size() == 1);
    // The writer's format reads back the same.
    CHECK(format_yolo_labels(boxes) == "3 0.500000 0.250000 0.200000 0.100000\n7 0.100000 0.900000 0.200000 0.200000\n"
                                       "9 0.100000 0.500000 0.200000 1.000000\n");
    const auto again = parse_yolo_labels(format_yolo_labels(boxes), "y.txt", options);
    REQUIRE(again.size() == 3);
    CHECK(again[1].box.y == boxes[1].box.y);
}

TEST_CASE("yolo labels: errors name the file, the line and the problem", "[labels]") {
    CHECK(error_of("3 0.5 0.5 0.2 0.2\n12 0.5 0.5 0.2 0.2\n") == "labels/a.txt:2: class 12 out of range: classes=10 (0..9)");
    CHECK(error_of("-1 0.5 0.5 0.2 0.2\n") == "labels/a.txt:1: class -1 out of range: classes=10 (0..9)");
    CHECK(error_of("3 0.5 0.5 0.2\n") == "labels/a.txt:1: expected 5 fields (class x_center y_center width height), found 4");
    CHECK(error_of("3 0.5 0.5 0.2 0.2 1\n") == "labels/a.txt:1: expected 5 fields (class x_center y_center width height), found 6");
    CHECK(error_of("3 0.5 abc 0.2 0.2\n") == "labels/a.txt:1: y_center 'abc': expected a number");
    CHECK(error_of("3 0.5 0.5 nan 0.2\n") == "labels/a.txt:1: width 'nan': expected a number");
    CHECK(error_of("3.0 0.5 0.5 0.2 0.2\n") == "labels/a.txt:1: class '3.0': expected an integer");
    CHECK(error_of("3 1.5 0.5 0.2 0.2\n") == "labels/a.txt:1: x_center 1.5 is outside [0, 1]");
    CHECK(error_of("3 0.5 0.5 0 0.2\n") == "labels/a.txt:1: empty box: width 0, height 0.2");
    CHECK(error_of("3 0.95 0.5 0.2 0.2\n") == "labels/a.txt:1: box spans x 0.85 to 1.05, outside [0, 1]");
    CHECK(error_of("3 0.5 0.05 0.2 0.2\n") == "labels/a.txt:1: box spans y -0.05 to 0.15, outside [0, 1]");
    CHECK_THAT(error_of("3 0.5 0.5 0.2 \x01\xff\n"), Contains("height '?" "?': expected a number"));
    // Without a class count, any class >= 0 is accepted.
    CHECK(error_of("12 0.5 0.5 0.2 0.2\n", 0) == "no error");
}

TEST_CASE("yolo labels: detection files carry a score", "[labels]") {
    LabelOptions options;
    options.classes = 10;
    options.with_score = true;
    const auto boxes = parse_yolo_labels("3 0.5 0.5 0.2 0.2 0.75\n", "d.txt", options);
    REQUIRE(boxes.size() == 1);
    CHECK(boxes[0].score == 0.75f);
    CHECK_THROWS_WITH(parse_yolo_labels("3 0.5 0.5 0.2 0.2 1.5\n", "d.txt", options), "d.txt:1: score 1.5 is outside [0, 1]");
    CHECK_THROWS_WITH(parse_yolo_labels("3 0.5 0.5 0.2 0.2 high\n", "d.txt", options), "d.txt:1: score 'high': expected a number");
}

TEST_CASE("yolo labels: skip_bad drops bad lines with one warning each", "[labels]") {
    std::vector<std::string> warnings;
    LabelOptions options;
    options.classes = 10;
    options.skip_bad = true;
    options.warnings = &warnings;
    const auto boxes = parse_yolo_labels("3 0.5 0.5 0.2 0.2\n11 0.5 0.5 0.2 0.2\nx\n4 0.5 0.5 0.2 0.2\n", "b.txt", options);
    REQUIRE(boxes.size() == 2);
    CHECK(boxes[1].cls == 4);
    CHECK(boxes[1].line == 4);
    REQUIRE(warnings.size() == 2);
    CHECK(warnings[0] == "b.txt:2: class 11 out of range: classes=10 (0..9); line skipped");
    CHECK(warnings[1] == "b.txt:3: expected 5 fields (class x_center y_center width height), found 1; line skipped");
}

TEST_CASE("yolo labels: Darknet's label path rule, and files", "[labels]") {
    CHECK(label_path_for_image("data/scenes/images/train/000001.png") == "data/scenes/labels/train/000001.txt");
    CHECK(label_path_for_image("/voc/VOC2007/JPEGImages/000005.jpg") == "/voc/VOC2007/labels/000005.txt");
    CHECK(label_path_for_image("set/raw/a.JPEG") == "set/labels/a.txt");
    // Whole directory names only, the one nearest the file; any extension, or none, becomes .txt.
    CHECK(label_path_for_image("/home/myimages/x/images/b.bmp") == "/home/myimages/x/labels/b.txt");
    CHECK(label_path_for_image("images/a/images/c.tiff") == "images/a/labels/c.txt");
    CHECK(label_path_for_image("pics/d.png") == "pics/d.txt");
    CHECK(label_path_for_image("pics/noext") == "pics/noext.txt");
    CHECK(label_path_beside_image("x/images/e.jpg") == "x/images/e.txt");

    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("lenet_labels_" + std::to_string(::getpid()));
    fs::create_directories(dir / "images");
    fs::create_directories(dir / "labels");
    const std::string image = (dir / "images" / "f.png").string();
    CHECK_THROWS_WITH(find_label_file(image), Contains("no label file (looked for") && Contains("labels/f.txt") &&
                                                  Contains("images/f.txt"));
    write_file_atomically((dir / "images" / "f.txt").string(), "1 0.5 0.5 0.1 0.1\n");  // AlexeyAB's place
    CHECK(find_label_file(image) == (dir / "images" / "f.txt").string());
    std::vector<LabelBox> boxes(1);
    boxes[0].cls = 2;
    boxes[0].box = {0.25f, 0.75f, 0.5f, 0.5f};
    write_yolo_labels((dir / "labels" / "f.txt").string(), boxes);  // pjreddie's place wins
    CHECK(find_label_file(image) == (dir / "labels" / "f.txt").string());
    LabelOptions options;
    options.classes = 3;
    const auto read = read_yolo_labels(find_label_file(image), options);
    REQUIRE(read.size() == 1);
    CHECK(read[0].cls == 2);
    CHECK(read[0].box.y == 0.75f);
    CHECK_THROWS_WITH(read_yolo_labels((dir / "nothing.txt").string(), options), Contains("nothing.txt: cannot open label file"));
    fs::remove_all(dir);
}

