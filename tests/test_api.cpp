// The public header: a Model loads a cfg and weights, and predicts what the Network computes; a
// Detector finds the boxes detect::Detector finds, whichever way the image is handed over.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "cfg/cfg.h"
#include "cli_helpers.h"
#include "core/error.h"
#include "detect/detector.h"
#include "lenet/lenet.h"
#include "net/network.h"

TEST_CASE("public Model: load, predict, save round trip", "[api]") {
    const std::string dir = (std::filesystem::temp_directory_path() / ("lenet_api_" + std::to_string(::getpid()))).string();
    std::filesystem::create_directories(dir);
    lenet::BuildOptions build;
    build.threads = 1;
    build.max_batch = 1;
    auto net = lenet::Network::from_cfg_file(LENET_SOURCE_DIR "/cfg/lenet.cfg", build);
    net->init_weights(3);
    net->save_weights(dir + "/w.weights", 77);

    auto model = lenet::Model::load(LENET_SOURCE_DIR "/cfg/lenet.cfg", dir + "/w.weights", 1);
    CHECK(model->input_width() == 28);
    CHECK(model->input_height() == 28);
    CHECK(model->input_channels() == 1);
    CHECK(model->outputs() == 10);
    std::vector<float> image(784);
    for (std::size_t i = 0; i < image.size(); ++i) image[i] = float(i % 29) / 29.0f;
    const std::vector<float> scores = model->predict(image);
    const float* expected = net->forward(image.data(), 1, false);
    REQUIRE(scores.size() == 10);
    float sum = 0;
    for (int k = 0; k < 10; ++k) {
        CHECK(scores[std::size_t(k)] == expected[k]);
        sum += scores[std::size_t(k)];
    }
    CHECK(sum == Approx(1.0f));
    CHECK_THROWS_WITH(model->predict(std::vector<float>(5)), Catch::Matchers::Contains("the image has 5 values"));
    model->save_weights(dir + "/again.weights");
    auto reloaded = lenet::Model::load(LENET_SOURCE_DIR "/cfg/lenet.cfg", dir + "/again.weights", 1);
    CHECK(reloaded->predict(image) == scores);
    CHECK_THROWS_WITH(lenet::Model::load(dir + "/missing.cfg"), Catch::Matchers::Contains("missing.cfg: cannot open"));
    std::filesystem::remove_all(dir);
}

namespace {

const std::string kTinyDetector = LENET_SOURCE_DIR "/tests/cfg/test_yolo_tiny.cfg";
// The random initialization scores every candidate near 0.25 (objectness x class, both near 0.5,
// at most 0.269 on scene()): 0.26 keeps a few hundred of the 14400 (candidate, class) pairs.
constexpr float kThresh = 0.26f;

// A 160x120 BGR scene: mid-grey with two bright squares (wider than the 96x96 input, so the
// letterbox pads top and bottom).
cv::Mat scene() {
    cv::Mat image(120, 160, CV_8UC3, cv::Scalar(128, 128, 128));
    image(cv::Rect(20, 30, 40, 40)).setTo(cv::Scalar(240, 240, 240));
    image(cv::Rect(100, 50, 30, 50)).setTo(cv::Scalar(10, 200, 250));
    return image;
}

void check_same(const std::vector<lenet::Detection>& a, const std::vector<lenet::Detection>& b) {
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        CHECK(a[i].class_id == b[i].class_id);
        CHECK(a[i].score == b[i].score);
        CHECK(a[i].left == b[i].left);
        CHECK(a[i].top == b[i].top);
        CHECK(a[i].right == b[i].right);
        CHECK(a[i].bottom == b[i].bottom);
    }
}

std::string temp_dir(const char* name) {
    const auto dir = std::filesystem::temp_directory_path() / (name + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    return dir.string();
}

void write_text(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
}

}  // namespace

TEST_CASE("public Detector: shape, classes and the boxes the internal detector finds", "[api]") {
    auto detector = lenet::Detector::load(kTinyDetector, "none", 1);
    CHECK(detector->input_width() == 96);
    CHECK(detector->input_height() == 96);
    CHECK(detector->input_channels() == 1);
    CHECK(detector->classes() == 10);

    const cv::Mat image = scene();
    const std::vector<lenet::Detection> boxes = detector->detect(image, kThresh, 0.45f);
    REQUIRE(!boxes.empty());
    for (const lenet::Detection& d : boxes) {
        CHECK(d.class_id >= 0);
        CHECK(d.class_id < 10);
        CHECK(d.score > kThresh);
        CHECK(d.score <= 1.0f);
        CHECK(0.0f <= d.left);
        CHECK(d.left <= d.right);
        CHECK(d.right <= 160.0f);
        CHECK(0.0f <= d.top);
        CHECK(d.top <= d.bottom);
        CHECK(d.bottom <= 120.0f);
    }

    // The same as detect::Detector, field for field, and as its pieces run by hand.
    lenet::DetectorOptions options;
    options.threads = 1;
    lenet::detect::Detector internal(kTinyDetector, "none", options);
    const std::vector<lenet::FoundBox> found = internal.detect(image, kThresh, 0.45f);
    REQUIRE(found.size() == boxes.size());
    for (std::size_t i = 0; i < found.size(); ++i) {
        CHECK(boxes[i].class_id == found[i].cls);
        CHECK(boxes[i].score == found[i].score);
        CHECK(boxes[i].left == found[i].left);
        CHECK(boxes[i].top == found[i].top);
        CHECK(boxes[i].right == found[i].right);
        CHECK(boxes[i].bottom == found[i].bottom);
    }
    // A lower threshold keeps more; 0.3 nothing; a stricter NMS (IoU 0.1) keeps fewer.
    CHECK(detector->detect(image, 0.25f, 0.45f).size() > boxes.size());
    CHECK(detector->detect(image, 0.3f, 0.45f).empty());
    CHECK(detector->detect(image, kThresh, 0.1f).size() < boxes.size());
    // A second call reuses the buffers and gives the same answer.
    check_same(detector->detect(image, kThresh, 0.45f), boxes);
}

TEST_CASE("public Detector: cv::Mat, raw pixels with padded rows, grey and files agree", "[api]") {
    auto detector = lenet::Detector::load(kTinyDetector, "", 1);
    const cv::Mat image = scene();
    const std::vector<lenet::Detection> boxes = detector->detect(image, kThresh, 0.45f);
    REQUIRE(!boxes.empty());

    // Rows 7 bytes longer than the pixels; the padding holds junk that must not be read.
    const std::size_t stride = 160 * 3 + 7;
    std::vector<unsigned char> buffer(stride * 120, 0xAB);
    for (int y = 0; y < 120; ++y) std::memcpy(&buffer[std::size_t(y) * stride], image.ptr(y), 160 * 3);
    check_same(detector->detect(buffer.data(), 160, 120, 3, stride, kThresh, 0.45f), boxes);

    // The network is grey: a grey image of the same (colourless) scene gives the same boxes.
    cv::Mat grey_scene(120, 160, CV_8UC1, cv::Scalar(128));
    grey_scene(cv::Rect(20, 30, 40, 40)).setTo(240);
    cv::Mat colour_of_grey;
    cv::cvtColor(grey_scene, colour_of_grey, cv::COLOR_GRAY2BGR);
    const std::vector<lenet::Detection> grey_boxes = detector->detect(grey_scene, kThresh, 0.45f);
    REQUIRE(!grey_boxes.empty());
    check_same(grey_boxes, detector->detect(colour_of_grey, kThresh, 0.45f));
    check_same(grey_boxes, detector->detect(grey_scene.data, 160, 120, 1, grey_scene.step, kThresh, 0.45f));

    const std::string dir = temp_dir("lenet_api_detect_");
    REQUIRE(cv::imwrite(dir + "/scene.png", image));
    check_same(detector->detect_file(dir + "/scene.png", kThresh, 0.45f), boxes);
    CHECK_THROWS_WITH(detector->detect_file(dir + "/nothing.png"), Catch::Matchers::Contains("nothing.png"));
    std::filesystem::remove_all(dir);
}

TEST_CASE("public Detector: errors name the file or the argument at fault", "[api]") {
    const std::string dir = temp_dir("lenet_api_errors_");
    CHECK_THROWS_WITH(lenet::Detector::load(dir + "/missing.cfg"), Catch::Matchers::Contains("missing.cfg: cannot open"));
    write_text(dir + "/bad.cfg", "[net]\nwidth=96\nheight=96\nchannels=1\n[convolutional]\nfilters=abc\n");
    CHECK_THROWS_WITH(lenet::Detector::load(dir + "/bad.cfg"), Catch::Matchers::Contains("bad.cfg:6"));
    CHECK_THROWS_WITH(lenet::Detector::load(LENET_SOURCE_DIR "/cfg/lenet.cfg"),
                      Catch::Matchers::Contains("lenet.cfg: no [yolo] layer"));
    write_text(dir + "/short.weights", "abc");
    CHECK_THROWS_WITH(lenet::Detector::load(kTinyDetector, dir + "/short.weights"),
                      Catch::Matchers::Contains("short.weights"));
    CHECK_THROWS_WITH(lenet::Detector::load(kTinyDetector, "none", 1, dir + "/missing.names"),
                      Catch::Matchers::Contains("missing.names"));
    std::string eleven;
    for (int c = 0; c < 11; ++c) eleven += "class" + std::to_string(c) + "\n";
    write_text(dir + "/eleven.names", eleven);
    CHECK_THROWS_WITH(lenet::Detector::load(kTinyDetector, "none", 1, dir + "/eleven.names"),
                      Catch::Matchers::Contains("eleven.names: 11 class names") &&
                          Catch::Matchers::Contains("has 10 classes"));

    auto detector = lenet::Detector::load(kTinyDetector, "none", 1);
    const std::vector<unsigned char> pixels(100 * 4 * 50);
    CHECK_THROWS_WITH(detector->detect(pixels.data(), 100, 50, 4, 400, 0.25f, 0.45f),
                      Catch::Matchers::Contains("4 channels"));
    CHECK_THROWS_WITH(detector->detect(pixels.data(), 100, 50, 3, 299, 0.25f, 0.45f),
                      Catch::Matchers::Contains("row_stride 299 is less than width x channels = 300"));
    CHECK_THROWS_WITH(detector->detect(nullptr, 100, 50, 3, 300, 0.25f, 0.45f), Catch::Matchers::Contains("null"));
    CHECK_THROWS_WITH(detector->detect(pixels.data(), 0, 50, 3, 300, 0.25f, 0.45f), Catch::Matchers::Contains("0x50"));
    CHECK_THROWS_WITH(detector->detect(pixels.data(), 100, 50, 3, 300, std::nanf(""), 0.45f),
                      Catch::Matchers::Contains("thresh nan"));
    CHECK_THROWS_WITH(detector->detect(pixels.data(), 100, 50, 3, 300, 0.25f, 1.5f),
                      Catch::Matchers::Contains("nms 1.5"));
    CHECK_THROWS_WITH(detector->detect(cv::Mat()), Catch::Matchers::Contains("empty"));
    CHECK_THROWS_WITH(detector->detect(cv::Mat(10, 10, CV_32FC1, cv::Scalar(0))),
                      Catch::Matchers::Contains("expected an 8-bit image"));
    std::filesystem::remove_all(dir);
}

TEST_CASE("public Detector: class names from a file, from set_names, or numbers", "[api]") {
    const std::string dir = temp_dir("lenet_api_names_");
    write_text(dir + "/digits.names", "zero\none\n\ntwo\n");
    auto detector = lenet::Detector::load(kTinyDetector, "none", 1, dir + "/digits.names");
    CHECK(detector->class_name(0) == "zero");
    CHECK(detector->class_name(2) == "two");
    CHECK(detector->class_name(3) == "3");  // unnamed classes go by number
    CHECK(detector->class_name(9) == "9");
    CHECK_THROWS_WITH(detector->class_name(10), Catch::Matchers::Contains("class 10 is not in 0..9"));
    detector->set_names({"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"});
    CHECK(detector->class_name(9) == "j");
    CHECK_THROWS_WITH(detector->set_names(std::vector<std::string>(11, "x")), Catch::Matchers::Contains("11 names for 10 classes"));
    CHECK(detector->class_name(9) == "j");  // a refused set_names changes nothing
    std::filesystem::remove_all(dir);
}

TEST_CASE("public Detector: the boxes `lenet detector test` prints", "[api]") {
    const std::string dir = temp_dir("lenet_api_cli_");
    write_text(dir + "/digits.names", "zero\none\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\n");
    write_text(dir + "/digits.data", "classes=10\nnames=" + dir + "/digits.names\n");
    REQUIRE(cv::imwrite(dir + "/scene.png", scene()));
    const lenet_test::Run run = lenet_test::run_lenet(
        dir, "detector test '" + dir + "/digits.data' '" + kTinyDetector + "' none '" + dir + "/scene.png' -thresh 0.26 -threads 1");
    REQUIRE(run.exit_code == 0);

    auto detector = lenet::Detector::load(kTinyDetector, "none", 1, dir + "/digits.names");
    const std::vector<lenet::Detection> boxes = detector->detect_file(dir + "/scene.png", kThresh, 0.45f);
    REQUIRE(!boxes.empty());
    // The CLI prints whole percents and whole pixels, unclipped; the API clips to the 160x120 image.
    std::istringstream lines(run.out);
    std::string line;
    std::size_t k = 0;
    while (std::getline(lines, line)) {
        char name[64];
        float percent = 0, left = 0, top = 0, right = 0, bottom = 0;
        if (std::sscanf(line.c_str(), "%63[^:]: %f%%  left %f top %f right %f bottom %f", name, &percent, &left, &top,
                        &right, &bottom) != 6)
            continue;
        REQUIRE(k < boxes.size());
        const lenet::Detection& d = boxes[k++];
        CHECK(detector->class_name(d.class_id) == name);
        CHECK(std::abs(100.0f * d.score - percent) <= 0.5f + 1e-4f);
        CHECK(std::abs(d.left - std::clamp(left, 0.0f, 160.0f)) <= 0.5f + 1e-3f);
        CHECK(std::abs(d.top - std::clamp(top, 0.0f, 120.0f)) <= 0.5f + 1e-3f);
        CHECK(std::abs(d.right - std::clamp(right, 0.0f, 160.0f)) <= 0.5f + 1e-3f);
        CHECK(std::abs(d.bottom - std::clamp(bottom, 0.0f, 120.0f)) <= 0.5f + 1e-3f);
    }
    CHECK(k == boxes.size());
    std::filesystem::remove_all(dir);
}
