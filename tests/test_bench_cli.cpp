// `lenet bench -json`: the fields scripts/bench_devices.py reads (formats and consistency only;
// timings are for scripts, never asserted).
#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli_helpers.h"

namespace fs = std::filesystem;

namespace {

nlohmann::json bench_json(const fs::path& dir, const std::string& arguments) {
    const lenet_test::Run run = lenet_test::run_lenet(dir, "bench " + arguments + " -json");
    INFO(arguments << ": " << run.err);
    REQUIRE(run.exit_code == 0);
    return nlohmann::json::parse(run.out);
}

void check_figure(const nlohmann::json& figure, const std::string& unit, int runs) {
    INFO(figure.dump());
    CHECK(figure.at("unit") == unit);
    CHECK(figure.at("runs") == runs);
    const double median = figure.at("median"), low = figure.at("min"), high = figure.at("max");
    CHECK(low > 0);
    CHECK(low <= median);
    CHECK(median <= high);
}

}  // namespace

TEST_CASE("cli: lenet bench -json gives each whole-run figure with unit, runs, median and spread", "[cli][bench]") {
    const fs::path dir = fs::temp_directory_path() / ("lenet_bench_cli_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const nlohmann::json backends = bench_json(dir, "-backends");
    REQUIRE(backends.at("backends").size() >= 1);
    CHECK(backends["backends"][0] == nlohmann::json({{"name", "reference"}, {"available", true}}));
    bool auto_listed = false;
    for (const auto& row : backends["backends"]) auto_listed |= row["name"] == backends["auto"] && row["available"] == true;
    CHECK(auto_listed);

    const nlohmann::json train = bench_json(dir, "'" LENET_SOURCE_DIR "/cfg/lenet.cfg' -batch 2 -iters 3 -threads 1 -backend reference");
    CHECK(train.at("backend") == "reference");
    check_figure(train.at("train_step_ms"), "ms", 3);
    check_figure(train.at("inference_ms"), "ms", 3);
    check_figure(train.at("inference_rate"), "images/s", 3);
    // The rate's median is the batch over the median time.
    CHECK(double(train["inference_rate"]["median"]) == Approx(2e3 / double(train["inference_ms"]["median"])).epsilon(1e-3));

    const nlohmann::json infer = bench_json(dir, "'" LENET_SOURCE_DIR "/cfg/lenet_xnor.cfg' -infer -batch 2 -iters 3 -threads 1");
    check_figure(infer.at("pass_ms"), "ms", 3);
    check_figure(infer.at("simulated_pass_ms"), "ms", 3);
    check_figure(infer.at("images_per_second"), "images/s", 3);

    const nlohmann::json xnor = bench_json(dir, "-xnor 8,9,9,16,3,1,1 -iters 3 -threads 2");
    REQUIRE(xnor.at("runs").size() == 2);  // 1 thread, then 2
    check_figure(xnor["runs"][1].at("float"), "ms", 3);
    check_figure(xnor["runs"][1].at("xnor"), "ms", 3);
    fs::remove_all(dir);
}
