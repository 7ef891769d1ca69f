// [yolo]: the forward's logistic, Darknet's loss on a hand-built case (one truth, a 2x2 grid, two
// anchors of three in the mask), its gradient against finite differences of the loss, and decoding.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "backends.h"
#include "cfg/cfg.h"
#include "data/truth.h"
#include "layers/yolo.h"
#include "net/network.h"

using namespace lenet;

namespace {

using lenet::test::backend_under_test;

// A 2x2x14 input read by [yolo] directly: grid 2x2, input 2x2 pixels, so anchor 0.5 = 1/4 of the
// input. Anchors (all three): 0.5x0.5, 1x1, 0.25x1.25; the mask holds the first two.
std::unique_ptr<Network> yolo_net(float ignore_thresh, float truth_thresh) {
    BuildOptions build;
    build.threads = 1;
    build.backend = backend_under_test();
    build.max_batch = 1;
    return Network::from_sections(
        parse_cfg(cat("[net]\nbatch=1\nwidth=2\nheight=2\nchannels=14\n[yolo]\nmask=0,1\nanchors=0.5,0.5, 1,1, "
                      "0.25,1.25\nclasses=2\nnum=3\nignore_thresh=",
                      ignore_thresh, "\ntruth_thresh=", truth_thresh, "\n"),
                  "yolo.cfg"),
        build);
}

constexpr int kPlane = 4, kEntries = 7;
std::size_t at(int anchor, int entry, int cell) { return std::size_t((anchor * kEntries + entry) * kPlane + cell); }

// Outputs (after the logistic): tx = ty = 0.5, tw = th = 0, objectness 0.2, classes 0.3; the
// prediction the truth is assigned to (anchor 0, cell (0, 1)) has tw 0.1, th -0.1.
std::vector<float> hand_output() {
    std::vector<float> out(std::size_t(2 * kEntries * kPlane));
    for (int a = 0; a < 2; ++a)
        for (int cell = 0; cell < kPlane; ++cell) {
            out[at(a, 0, cell)] = out[at(a, 1, cell)] = 0.5f;
            out[at(a, 4, cell)] = 0.2f;
            out[at(a, 5, cell)] = out[at(a, 6, cell)] = 0.3f;
        }
    out[at(0, 2, 2)] = 0.1f;
    out[at(0, 3, 2)] = -0.1f;
    return out;
}

float loss_of(Network& net, const std::vector<float>& output, const std::vector<detect::Truth>& truths, float scale,
              std::vector<float>& grad) {
    grad.assign(output.size(), 123.0f);
    const Truth truth{1, nullptr, &truths};
    return net.layer(0).loss({output.data(), grad.data(), 1, truth, scale, net.compute()});
}

}  // namespace

TEST_CASE("yolo: the logistic on x, y, objectness and classes, not on w, h", "[yolo]") {
    EACH_BACKEND();
    auto net = yolo_net(0.5f, 1.0f);
    REQUIRE(net->layer(0).has_loss());
    REQUIRE(as_yolo(net->layer(0)));
    std::vector<float> input(std::size_t(2 * kEntries * kPlane));
    for (std::size_t i = 0; i < input.size(); ++i) input[i] = 0.1f * float(i % 9) - 0.4f;
    const float* out = net->forward(input.data(), 1, false);
    for (int a = 0; a < 2; ++a)
        for (int e = 0; e < kEntries; ++e)
            for (int cell = 0; cell < kPlane; ++cell) {
                const float x = input[at(a, e, cell)];
                const float expected = (e == 2 || e == 3) ? x : 1.0f / (1.0f + std::exp(-x));
                CHECK(out[at(a, e, cell)] == Approx(expected).margin(1e-6));
            }
}

TEST_CASE("yolo: Darknet's loss on a hand-built case (assignment, ignore_thresh, classes, 2 - w*h)", "[yolo]") {
    EACH_BACKEND();
    // One truth of class 1 at (0.3, 0.7), 0.25 x 0.25: cell (0, 1) = cell 2; its shape matches
    // anchor 0 exactly. Predictions' IoUs with it: anchor 0 at cell 2 0.47 (assigned anyway),
    // anchor 1 at cell 2 0.25 (> ignore_thresh 0.2: no objectness term), every other one 0.
    auto net = yolo_net(0.2f, 1.0f);
    const std::vector<detect::Truth> truths = {{{0.3f, 0.7f, 0.25f, 0.25f}, 1}};
    std::vector<float> grad;
    const float loss = loss_of(*net, hand_output(), truths, 0.5f, grad);
    std::vector<float> delta(grad.size(), 0.0f);  // Darknet's deltas
    const float s = 2 - 0.25f * 0.25f;            // 1.9375
    delta[at(0, 0, 2)] = s * (0.6f - 0.5f);       // tx = 0.3 * 2 - 0
    delta[at(0, 1, 2)] = s * (0.4f - 0.5f);       // ty = 0.7 * 2 - 1
    delta[at(0, 2, 2)] = s * (0.0f - 0.1f);       // tw = log(0.25 * 2 / 0.5) = 0
    delta[at(0, 3, 2)] = s * (0.0f + 0.1f);
    delta[at(0, 4, 2)] = 1 - 0.2f;
    delta[at(0, 5, 2)] = 0 - 0.3f;
    delta[at(0, 6, 2)] = 1 - 0.3f;
    for (int a = 0; a < 2; ++a)
        for (int cell = 0; cell < kPlane; ++cell)
            if (cell != 2) delta[at(a, 4, cell)] = -0.2f;  // pushed to 0
    // anchor 1 at cell 2: ignored (0)
    for (std::size_t i = 0; i < grad.size(); ++i) {
        INFO("output " << i);
        CHECK(grad[i] == Approx(-0.5f * delta[i]).margin(1e-6));
    }
    // 4 x (0.19375)^2 + 0.8^2 + 0.3^2 + 0.7^2 + 6 x 0.2^2
    CHECK(loss == Approx(1.61015625f).epsilon(1e-5));

    SECTION("without ignore_thresh the overlapping prediction is pushed to 0 too") {
        auto strict = yolo_net(0.9f, 1.0f);
        loss_of(*strict, hand_output(), truths, 1.0f, grad);
        CHECK(grad[at(1, 4, 2)] == Approx(0.2f));
    }
    SECTION("above truth_thresh a prediction gets the truth's terms for its own anchor") {
        auto eager = yolo_net(0.2f, 0.2f);
        loss_of(*eager, hand_output(), truths, 1.0f, grad);
        CHECK(grad[at(1, 4, 2)] == Approx(-(1 - 0.2f)));
        CHECK(grad[at(1, 6, 2)] == Approx(-(1 - 0.3f)));
        CHECK(grad[at(1, 5, 2)] == Approx(0.3f));
        CHECK(grad[at(1, 2, 2)] == Approx(-s * (std::log(0.5f) - 0.0f)).margin(1e-6));  // tw = log(0.5 / 1)
    }
    SECTION("a truth whose best anchor is not in the mask gets no box, objectness or class terms") {
        // 0.125 x 0.625 = anchor 2's shape exactly. Both predictions at cell 2 still overlap it by
        // more than ignore_thresh (IoU 0.25 for anchor 0, 0.235 for anchor 1): no terms there.
        const std::vector<detect::Truth> other = {{{0.3f, 0.7f, 0.125f, 0.625f}, 0}};
        const float cost = loss_of(*net, hand_output(), other, 1.0f, grad);
        for (int a = 0; a < 2; ++a)
            for (int e = 0; e < kEntries; ++e)
                for (int cell = 0; cell < kPlane; ++cell) {
                    const float expected = e != 4 || cell == 2 ? 0.0f : 0.2f;
                    CHECK(grad[at(a, e, cell)] == Approx(expected).margin(1e-7));
                }
        CHECK(cost == Approx(6 * 0.04f));
    }
}

TEST_CASE("yolo: the gradient matches finite differences of Darknet's cost", "[yolo]") {
    EACH_BACKEND();
    // cost = sum of squared deltas, delta = w * (target - output) with w = 2 - w*h on the assigned
    // box terms, 1 elsewhere; grad = -delta * scale, so d cost / d output = 2 * w * grad / scale.
    auto net = yolo_net(0.2f, 1.0f);
    const std::vector<detect::Truth> truths = {{{0.3f, 0.7f, 0.25f, 0.25f}, 1}};
    std::vector<float> output = hand_output();
    for (std::size_t i = 0; i < output.size(); ++i) output[i] += 0.01f * float(i % 5);  // no ties, no flips
    const float scale = 0.25f, s = 2 - 0.25f * 0.25f;
    std::vector<float> grad, scratch;
    loss_of(*net, output, truths, scale, grad);
    for (std::size_t i = 0; i < output.size(); ++i) {
        const float h = 1e-3f;
        std::vector<float> up = output, down = output;
        up[i] += h;
        down[i] -= h;
        const double numeric = (double(loss_of(*net, up, truths, scale, scratch)) - loss_of(*net, down, truths, scale, scratch)) / (2 * h);
        const bool box_term = i == at(0, 0, 2) || i == at(0, 1, 2) || i == at(0, 2, 2) || i == at(0, 3, 2);
        INFO("output " << i);
        CHECK(2 * (box_term ? s : 1.0f) * grad[i] / scale == Approx(numeric).margin(2e-3));
    }
}

TEST_CASE("yolo: backward passes the loss's gradient through", "[yolo]") {
    auto net = yolo_net(0.5f, 1.0f);
    std::vector<float> input(std::size_t(2 * kEntries * kPlane), 0.0f);
    net->forward(input.data(), 1, true);
    const std::vector<detect::Truth> truths = {{{0.3f, 0.7f, 0.25f, 0.25f}, 1}};
    const Truth truth{1, nullptr, &truths};
    net->layer(0).loss({net->output(0), net->output_grad(), 1, truth, 1.0f, net->compute()});
    std::vector<float> grad(net->output_grad(), net->output_grad() + input.size());
    std::vector<float> input_grad(input.size(), 0.0f);
    const BackwardPass pass{input.data(), net->output(0), net->output_grad(), input_grad.data(), 1, nullptr, net->compute()};
    net->layer(0).backward(pass);
    CHECK(input_grad == grad);
}

TEST_CASE("yolo: decoding a hand-built output (get_yolo_detections)", "[yolo]") {
    EACH_BACKEND();
    auto net = yolo_net(0.5f, 1.0f);
    std::vector<float> out(std::size_t(2 * kEntries * kPlane), 0.0f);
    for (int a = 0; a < 2; ++a)
        for (int cell = 0; cell < kPlane; ++cell) out[at(a, 4, cell)] = 0.1f;  // below thresh
    // Anchor 0 at cell (1, 0): x 0.5, y 0.25, tw ln 2, th 0, objectness 0.9, classes 0.2 and 0.8.
    out[at(0, 0, 1)] = 0.5f;
    out[at(0, 1, 1)] = 0.25f;
    out[at(0, 2, 1)] = std::log(2.0f);
    out[at(0, 4, 1)] = 0.9f;
    out[at(0, 5, 1)] = 0.2f;
    out[at(0, 6, 1)] = 0.8f;
    // Anchor 1 at cell (0, 1): objectness 0.3, classes 0.5 each: both scores 0.15 <= 0.25.
    out[at(1, 4, 2)] = 0.3f;
    out[at(1, 5, 2)] = out[at(1, 6, 2)] = 0.5f;
    std::vector<detect::Detection> dets;
    as_yolo(net->layer(0))->detections(net->compute(), out.data(), 0, 0.25f, dets);
    REQUIRE(dets.size() == 2);
    CHECK(dets[0].box.x == Approx(0.75f));   // (1 + 0.5) / 2
    CHECK(dets[0].box.y == Approx(0.125f));  // (0 + 0.25) / 2
    CHECK(dets[0].box.w == Approx(0.5f));    // 2 * 0.5 / 2
    CHECK(dets[0].box.h == Approx(0.25f));
    CHECK(dets[0].objectness == Approx(0.9f));
    CHECK(dets[0].prob[0] == 0.0f);  // 0.18 <= thresh
    CHECK(dets[0].prob[1] == Approx(0.72f));
    CHECK(dets[1].box.w == Approx(0.5f));  // anchor 1: 1 * e^0 / 2
    CHECK(dets[1].prob == std::vector<float>{0.0f, 0.0f});
}

TEST_CASE("yolo: cfg errors name the key", "[yolo]") {
    const auto build = [](const std::string& yolo) {
        return Network::from_sections(parse_cfg("[net]\nwidth=2\nheight=2\nchannels=14\n[yolo]\n" + yolo, "bad.cfg"));
    };
    CHECK_THROWS_WITH(build("mask=0,1\nanchors=1,1,2,2\nclasses=2\nnum=3\n"), Catch::Contains("anchors"));
    CHECK_THROWS_WITH(build("mask=0,5\nanchors=1,1,2,2,3,3\nclasses=2\nnum=3\n"), Catch::Contains("mask"));
    CHECK_THROWS_WITH(build("mask=0,1\nanchors=1,1,2,2,3,3\nclasses=3\nnum=3\n"), Catch::Contains("channels"));
    CHECK_NOTHROW(build("mask=0,1\nanchors=1,1,2,2,3,3\nclasses=2\nnum=3\n"));
}
