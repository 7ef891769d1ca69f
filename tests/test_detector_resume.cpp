// `lenet detector train -resume` and the run's best mAP: kept in the checkpoint's .state (version
// 3), or scored again from <cfg>_best.weights where an older .state has none.
#include <catch2/catch.hpp>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "cli_helpers.h"
#include "io/train_state.h"

namespace fs = std::filesystem;

namespace {

using lenet_test::Run;
using lenet_test::slurp;
using lenet_test::run_lenet;

// The number after `key` in `text` (its last occurrence), or -1.
double number_after(const std::string& text, const std::string& key) {
    const std::size_t at = text.rfind(key);
    if (at == std::string::npos) return -1;
    return std::atof(text.c_str() + at + key.size());
}

}  // namespace

TEST_CASE("cli: detector train -resume keeps the run's best mAP (the best weights only for a better epoch)",
          "[cli][detector]") {
    const std::string mnist = LENET_SOURCE_DIR "/data/mnist";
    if (!fs::exists(mnist + "/train-images-idx3-ubyte") && !fs::exists(mnist + "/train-images-idx3-ubyte.gz"))
        FAIL("MNIST is missing from " << mnist << ": run scripts/get_mnist.sh (make test does)");
    const fs::path dir = fs::temp_directory_path() / ("lenet_detector_best_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::string scenes = (dir / "scenes").string();
    Run run = run_lenet(dir, "detector scenes '" + mnist + "' '" + scenes + "' -count 12 -size 96 -max-digits 2 -seed 5");
    REQUIRE(run.exit_code == 0);
    {
        std::ofstream data(scenes + "/tt.data");
        data << "classes=10\ntrain=" << scenes << "/train.txt\nvalid=" << scenes << "/train.txt\nnames=" << scenes
             << "/digits.names\n";
    }
    // The XNOR layout has [batchnorm] layers: their biases must travel with the best weights too.
    const std::string train = "detector train '" + scenes + "/tt.data' '" LENET_SOURCE_DIR
                              "/tests/cfg/test_yolo_tiny_xnor.cfg' -threads 2 -valid-limit 6 -backup ";
    const std::string first = (dir / "first").string();
    run = run_lenet(dir, train + "'" + first + "' -epochs 1");
    INFO(run.out << run.err);
    REQUIRE(run.exit_code == 0);
    CHECK_THAT(run.out, Catch::Matchers::Contains(", best"));
    const double map1 = number_after(run.out, "valid mAP@0.5 ");
    const std::string best = "/test_yolo_tiny_xnor_best.weights", last = "/test_yolo_tiny_xnor_last.weights";
    REQUIRE(fs::exists(first + best));
    CHECK(fs::exists(first + best + ".state"));
    std::optional<lenet::TrainState> state = lenet::load_train_state(first + last + ".state");
    REQUIRE(state);
    CHECK(state->best_map == Approx(map1).margin(5e-5));  // printed with 4 decimals
    const std::string older = (dir / "older").string();
    fs::copy(first, older, fs::copy_options::recursive);

    // A recorded best of 1, which no epoch beats: epoch 2 leaves the best weights alone.
    state->best_map = 1.0;
    lenet::save_train_state(first + last + ".state", *state);
    const std::string best_bytes = slurp(first + best);
    run = run_lenet(dir, train + "'" + first + "' -epochs 2 -resume");
    INFO(run.out << run.err);
    REQUIRE(run.exit_code == 0);
    CHECK_THAT(run.out, Catch::Matchers::Contains("resuming from"));
    CHECK_THAT(run.out, Catch::Matchers::Contains("best valid mAP@0.5 so far: 1.0000"));
    CHECK_THAT(run.out, !Catch::Matchers::Contains(", best"));
    CHECK(slurp(first + best) == best_bytes);
    state = lenet::load_train_state(first + last + ".state");
    REQUIRE(state);
    CHECK(state->best_map == 1.0);

    // A version 2 .state (no best mAP; the same bytes less the last two fields): the best weights are
    // scored again, to the mAP epoch 1 printed; epoch 2 replaces them only if it does better.
    std::string v2 = slurp(older + last + ".state");
    v2 = v2.substr(0, v2.size() - 4 - 8 - 8);
    v2[4] = 2;
    const auto crc = std::uint32_t(crc32(0L, reinterpret_cast<const Bytef*>(v2.data()), uInt(v2.size())));
    v2.append(reinterpret_cast<const char*>(&crc), 4);
    std::ofstream(older + last + ".state", std::ios::binary) << v2;
    REQUIRE(lenet::load_train_state(older + last + ".state")->best_map == -1);
    run = run_lenet(dir, train + "'" + older + "' -epochs 2 -resume");
    INFO(run.out << run.err);
    REQUIRE(run.exit_code == 0);
    CHECK_THAT(run.out, Catch::Matchers::Contains("scored again"));
    CHECK(number_after(run.out, "best valid mAP@0.5 so far: ") == Approx(map1).margin(1e-9));
    const double map2 = number_after(run.out, "valid mAP@0.5 ");
    const bool better = run.out.find(", best") != std::string::npos;
    CHECK(better == (map2 > map1));
    CHECK((slurp(older + best) == best_bytes) == !better);
    fs::remove_all(dir);
}
