// The public header: a Model loads a cfg and weights, and predicts what the Network computes.
#include <catch2/catch.hpp>

#include <filesystem>

#include "cfg/cfg.h"
#include "core/error.h"
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
