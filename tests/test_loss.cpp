// Losses belong to output layers: [softmax] carries cross-entropy. Hand values, and the gradient it
// writes (with respect to the logits, since softmax's backward passes it through) against finite
// differences of the loss. Each test runs on every available backend.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "backends.h"
#include "cfg/cfg.h"
#include "data/truth.h"
#include "kernels/ops.h"
#include "net/network.h"

using namespace lenet;

namespace {

using lenet::test::backend_under_test;

std::unique_ptr<Network> softmax_net(int batch) {
    BuildOptions build;
    build.threads = 1;
    build.backend = backend_under_test();
    build.max_batch = batch;
    return Network::from_sections(
        parse_cfg("[net]\nbatch=2\nwidth=1\nheight=1\nchannels=3\n[softmax]\n", "loss.cfg"),
        build);
}

// The summed loss of the network's one layer, [softmax], on logits; its gradient into *grad.
float loss_of(Network& net, const std::vector<float>& logits, const std::vector<int>& labels, float scale,
              std::vector<float>* grad = nullptr) {
    const int batch = int(labels.size());
    const float* p = net.forward(logits.data(), batch, true);
    const Truth truth{batch, labels.data(), nullptr};
    const float loss = net.layer(0).loss({p, net.output_grad(), batch, truth, scale, net.compute()});
    if (grad) grad->assign(net.output_grad(), net.output_grad() + logits.size());
    return loss;
}

}  // namespace

TEST_CASE("softmax cross-entropy: hand values of loss and gradient", "[loss]") {
    EACH_BACKEND();
    auto net = softmax_net(2);
    REQUIRE(net->layer(0).has_loss());
    const auto classifier = Network::from_sections(
        parse_cfg("[net]\nbatch=1\nwidth=1\nheight=1\nchannels=3\n[connected]\noutput=2\n[softmax]\n", "c.cfg"));
    CHECK_FALSE(classifier->layer(0).has_loss());
    CHECK(classifier->layer(1).has_loss());
    // Image 0: logits [0, ln 2, ln 4] -> p = [1, 2, 4] / 7, label 2. Image 1: p = 1/3 each, label 0.
    const std::vector<float> logits = {0, std::log(2.0f), std::log(4.0f), 0, 0, 0};
    std::vector<float> grad;
    const float loss = loss_of(*net, logits, {2, 0}, 0.5f, &grad);
    // -ln(4/7) - ln(1/3) = 0.5596158 + 1.0986123
    CHECK(loss == Approx(1.6582281f).epsilon(1e-6));
    // (p - y) / 2
    const std::vector<float> expected = {1 / 14.0f, 1 / 7.0f, -3 / 14.0f, -1 / 3.0f, 1 / 6.0f, 1 / 6.0f};
    for (std::size_t i = 0; i < expected.size(); ++i) CHECK(grad[i] == Approx(expected[i]).margin(1e-6));
}

TEST_CASE("softmax cross-entropy: its gradient matches finite differences of the loss", "[loss]") {
    EACH_BACKEND();
    auto net = softmax_net(2);
    const std::vector<float> logits = {0.3f, -1.2f, 0.8f, 2.0f, -0.5f, 0.1f};
    const std::vector<int> labels = {1, 0};
    const float scale = 0.5f;
    std::vector<float> grad;
    loss_of(*net, logits, labels, scale, &grad);
    for (std::size_t i = 0; i < logits.size(); ++i) {
        const float h = 1e-2f;
        std::vector<float> up = logits, down = logits;
        up[i] += h;
        down[i] -= h;
        const double numeric = scale * (double(loss_of(*net, up, labels, scale)) - loss_of(*net, down, labels, scale)) / (2 * h);
        CHECK(grad[i] == Approx(numeric).margin(2e-4));
    }
}
