// What `lenet detect` writes per frame (detect/frame_report.h) and its fixed-memory medians
// (detect/run_stats.h), on hand-made values.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "detect/frame_report.h"
#include "detect/run_stats.h"

using nlohmann::json;

namespace {

lenet::detect::FrameResult sample() {
    lenet::detect::FrameResult r;
    r.index = 41;
    r.unix_time = 1764650000.1234567;
    r.latency_ms = 12.34567;
    r.width = 200;
    r.height = 100;
    r.boxes.push_back({3, 0.9f, 20, 10, 60, 50});   // 40x40 centred at (40, 30)
    r.boxes.push_back({12, 0.5f, 0, 0, 200, 100});  // a class beyond the names
    return r;
}

}  // namespace

TEST_CASE("frame report: lenet's JSON line, in pixels, keys in order", "[detect-report]") {
    const std::vector<std::string> names = {"zero", "one", "two", "three"};
    const std::string text = lenet::detect::json_line(sample(), names);
    CHECK(text.rfind("{\"frame\":41,\"timestamp\":1764650000.123457,\"latency_ms\":12.346,\"width\":200,\"height\":100,", 0) == 0);
    const json line = json::parse(text);
    REQUIRE(line.at("boxes").size() == 2);
    const json& b = line.at("boxes")[0];
    CHECK(b.at("class") == 3);
    CHECK(b.at("name") == "three");
    CHECK(b.at("score").get<double>() == Approx(0.9).margin(1e-6));
    CHECK(b.at("left") == 20.0);
    CHECK(b.at("top") == 10.0);
    CHECK(b.at("right") == 60.0);
    CHECK(b.at("bottom") == 50.0);
    CHECK(line.at("boxes")[1].at("name") == "12");
    CHECK(text.find('\n') == std::string::npos);
}

TEST_CASE("frame report: AlexeyAB's JSON fields and -ext_output lines", "[detect-report]") {
    const json line = json::parse(lenet::detect::darknet_json_line(sample(), {"a", "b", "c", "d"}));
    CHECK(line.at("frame_id") == 41);
    const json& o = line.at("objects")[0];
    CHECK(o.at("class_id") == 3);
    CHECK(o.at("name") == "d");
    CHECK(o.at("relative_coordinates").at("center_x").get<double>() == Approx(0.2));
    CHECK(o.at("relative_coordinates").at("center_y").get<double>() == Approx(0.3));
    CHECK(o.at("relative_coordinates").at("width").get<double>() == Approx(0.2));
    CHECK(o.at("relative_coordinates").at("height").get<double>() == Approx(0.4));
    CHECK(o.at("confidence").get<double>() == Approx(0.9).margin(1e-6));
    CHECK(line.at("objects")[1].at("relative_coordinates").at("width").get<double>() == Approx(1.0));

    const std::string text = lenet::detect::ext_output_text(sample(), {"a", "b", "c", "d"});
    CHECK(text == "Objects:\n\nd: 90%\t(left_x:   20   top_y:   10   width:   40   height:   40)\n"
                  "12: 50%\t(left_x:    0   top_y:    0   width:  200   height:  100)\n");
}

TEST_CASE("frame report: boxes are drawn inside the image", "[detect-report]") {
    cv::Mat image(100, 200, CV_8UC3, cv::Scalar(0, 0, 0));
    lenet::detect::draw_boxes(image, sample().boxes, {}, 30.0);
    // The first box's left edge is coloured, the middle of the image is not.
    CHECK(cv::norm(image.at<cv::Vec3b>(30, 20)) > 100);
    CHECK(cv::norm(image.at<cv::Vec3b>(70, 120)) == 0);
}

TEST_CASE("run stats: the median in fixed memory, within 0.1%", "[detect-report]") {
    lenet::detect::MedianTracker t;
    CHECK(t.median() == 0);
    for (int i = 1; i <= 101; ++i) t.add(i);
    CHECK(t.count() == 101);
    CHECK(t.median() == Approx(51).epsilon(0.002));
    lenet::detect::MedianTracker skewed;
    for (int i = 0; i < 1000; ++i) skewed.add(0.5);
    for (int i = 0; i < 999; ++i) skewed.add(5000);
    CHECK(skewed.median() == Approx(0.5).epsilon(0.002));
    skewed.add(5000);
    skewed.add(5000);
    CHECK(skewed.median() == Approx(5000).epsilon(0.002));
}
