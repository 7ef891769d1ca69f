// Training logs read back (`lenet plot`) and the curves drawn from them.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "cli_helpers.h"
#include "commands/training_log.h"
#include "core/error.h"

namespace fs = std::filesystem;
using lenet::parse_training_log;

namespace {

const char* const kClassifierLog =
    "{\"epoch\":1,\"updates\":469,\"learning_rate\":0.001,\"train_loss\":0.25,\"test_accuracy\":0.97}\n"
    "{\"epoch\":2,\"updates\":938,\"learning_rate\":0.001,\"train_loss\":0.07,\"test_accuracy\":0.98}\n"
    "\n"
    "{\"epoch\":3,\"updates\":1407,\"learning_rate\":0.001,\"train_loss\":0.04,\"test_accuracy\":0.985}\n";

std::string error_of(const std::string& text, const std::string& source = "run.jsonl") {
    try {
        parse_training_log(text, source);
    } catch (const lenet::Error& e) {
        return e.what();
    }
    return "(no error)";
}

struct ScratchDir {
    fs::path path = fs::temp_directory_path() / ("lenet_plot_" + std::to_string(::getpid()));
    ScratchDir() { fs::create_directories(path); }
    ~ScratchDir() { fs::remove_all(path); }
    std::string write(const std::string& name, const std::string& text) const {
        std::ofstream(path / name, std::ios::binary) << text;
        return (path / name).string();
    }
};

}  // namespace

TEST_CASE("training log: epochs, losses and scores read back", "[plot]") {
    const lenet::TrainingLog log = parse_training_log(kClassifierLog, "results/lenet_xnor.jsonl");
    CHECK(log.name == "lenet_xnor");
    CHECK(log.score_key == "test_accuracy");
    REQUIRE(log.points.size() == 3);
    CHECK(log.points[1].epoch == 2);
    CHECK(log.points[1].train_loss == 0.07);
    REQUIRE(log.points[2].score);
    CHECK(*log.points[2].score == 0.985);

    // The PyTorch peer's summary line has no "epoch": skipped. A detector's score is mAP@0.5.
    const lenet::TrainingLog peer = parse_training_log(
        "{\"peer\":\"pytorch\",\"epoch\":1,\"train_loss\":0.2,\"test_accuracy\":0.97}\r\n"
        "{\"peer\":\"pytorch\",\"mode\":\"train\",\"epochs\":1,\"test_accuracy\":0.97}\n",
        "torch.jsonl");
    CHECK(peer.points.size() == 1);
    const lenet::TrainingLog detector = parse_training_log("{\"epoch\":1,\"train_loss\":12.5,\"valid_map50\":0.4}", "d");
    CHECK(detector.score_key == "valid_map50");
    CHECK(*detector.points[0].score == 0.4);
    const lenet::TrainingLog no_score = parse_training_log("{\"epoch\":1,\"train_loss\":1.5}\n", "d");
    CHECK(no_score.score_key.empty());
    CHECK(!no_score.points[0].score);
}

TEST_CASE("training log: an appended log is drawn from its latest run", "[plot]") {
    // Epochs 1-3, then a resume that redoes epoch 3 and goes on: 1, 2, 3 (redone), 4.
    lenet::TrainingLog log = parse_training_log(std::string(kClassifierLog) +
                                                    "{\"epoch\":3,\"train_loss\":0.05}\n{\"epoch\":4,\"train_loss\":0.03}\n",
                                                "a");
    REQUIRE(log.points.size() == 4);
    CHECK(log.points[2].train_loss == 0.05);
    CHECK(log.points[3].epoch == 4);
    // A fresh run appended: epoch 1 again drops the whole earlier run.
    log = parse_training_log(std::string(kClassifierLog) + "{\"epoch\":1,\"train_loss\":0.3}\n", "a");
    REQUIRE(log.points.size() == 1);
    CHECK(log.points[0].train_loss == 0.3);
}

TEST_CASE("training log: a malformed line is an error naming the file and line", "[plot]") {
    CHECK_THAT(error_of("{\"epoch\":1,\"train_loss\":0.2}\n{\"epoch\":2,\"train_loss\":0.1\n"),
               Catch::Matchers::StartsWith("run.jsonl:2: not JSON"));
    CHECK_THAT(error_of("\n\n[1,2]\n"), Catch::Matchers::StartsWith("run.jsonl:3: expected a JSON object"));
    CHECK_THAT(error_of("{\"epoch\":0,\"train_loss\":0.2}"),
               Catch::Matchers::StartsWith("run.jsonl:1: \"epoch\" is 0: expected a positive integer"));
    CHECK_THAT(error_of("{\"epoch\":1.5,\"train_loss\":0.2}"), Catch::Matchers::StartsWith("run.jsonl:1: \"epoch\""));
    CHECK_THAT(error_of("{\"epoch\":1}"), Catch::Matchers::StartsWith("run.jsonl:1: no \"train_loss\""));
    CHECK_THAT(error_of("{\"epoch\":1,\"train_loss\":\"low\"}"),
               Catch::Matchers::StartsWith("run.jsonl:1: \"train_loss\" is \"low\": expected a number"));
    CHECK_THAT(error_of("{\"epoch\":1,\"train_loss\":0.2,\"test_accuracy\":null}"),
               Catch::Matchers::StartsWith("run.jsonl:1: \"test_accuracy\" is null"));
    CHECK_THAT(error_of("{\"epoch\":1,\"train_loss\":1e999}"), Catch::Matchers::StartsWith("run.jsonl:1: not JSON"));
    CHECK_THAT(error_of("{\"epoch\":1,\"train_loss\":1,\"test_accuracy\":0.9}\n{\"epoch\":2,\"train_loss\":1,\"valid_map50\":0.9}"),
               Catch::Matchers::StartsWith("run.jsonl:2: \"valid_map50\" in a log whose earlier lines have \"test_accuracy\""));
}

TEST_CASE("cli: lenet plot writes a PNG of the asked size, and a bad log is an error naming its line", "[plot][cli]") {
    const ScratchDir dir;
    const std::string first = dir.write("lenet.jsonl", kClassifierLog);
    const std::string second = dir.write("lenet_xnor.jsonl",
                                         "{\"epoch\":1,\"train_loss\":0.9,\"test_accuracy\":0.80}\n"
                                         "{\"epoch\":2,\"train_loss\":0.5,\"test_accuracy\":0.90}\n");
    const std::string png = (dir.path / "curves.png").string();
    lenet_test::Run run = lenet_test::run_lenet(dir.path, "plot '" + first + "' '" + second + "' -o '" + png + "' -title 'float vs XNOR'");
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    cv::Mat image = cv::imread(png);
    REQUIRE(!image.empty());
    CHECK(image.size() == cv::Size(1200, 500));
    // Both runs' colours are drawn (matplotlib's first two: blue, orange as BGR).
    auto has_colour = [&](cv::Vec3b colour) {
        for (int y = 0; y < image.rows; ++y)
            for (int x = 0; x < image.cols; ++x)
                if (image.at<cv::Vec3b>(y, x) == colour) return true;
        return false;
    };
    CHECK(has_colour({180, 119, 31}));
    CHECK(has_colour({14, 127, 255}));

    run = lenet_test::run_lenet(dir.path, "plot '" + first + "' -o '" + png + "' -width 640 -height 360");
    REQUIRE(run.exit_code == 0);
    image = cv::imread(png);
    CHECK(image.size() == cv::Size(640, 360));

    const std::string bad = dir.write("bad.jsonl", std::string(kClassifierLog) + "{\"epoch\":4,\"train_loss\":nan}\n");
    run = lenet_test::run_lenet(dir.path, "plot '" + first + "' '" + bad + "' -o '" + png + "'");
    CHECK(run.exit_code != 0);
    CHECK_THAT(run.err, Catch::Matchers::Contains("bad.jsonl:5: not JSON"));
    run = lenet_test::run_lenet(dir.path, "plot '" + first + "'");
    CHECK(run.exit_code != 0);
    CHECK_THAT(run.err, Catch::Matchers::Contains("-o <file.png> is required"));
    run = lenet_test::run_lenet(dir.path, "plot '" + dir.write("empty.jsonl", "\n") + "' -o '" + png + "'");
    CHECK(run.exit_code != 0);
    CHECK_THAT(run.err, Catch::Matchers::Contains("empty.jsonl: no epoch lines"));
}
