// Optimizer steps and learning-rate policies against hand-computed values.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "cfg/cfg.h"
#include "net/net_options.h"
#include "net/network.h"
#include "net/optimizer.h"

using namespace lenet;

namespace {
NetOptions options_from(const std::string& keys) {
    return parse_net_options(parse_cfg("[net]\nwidth=1\nheight=1\nchannels=1\n" + keys, "opt.cfg").front());
}
}  // namespace

TEST_CASE("optimizer: SGD with momentum and weight decay", "[optimizer]") {
    const NetOptions o = options_from("momentum=0.9\ndecay=0.1\n");
    float w[2] = {1.0f, 2.0f}, g[2] = {0.5f, -1.0f};
    float bias[1] = {1.0f}, bias_grad[1] = {0.5f};
    Optimizer sgd(o, {{w, g, 2, true}, {bias, bias_grad, 1, false}});
    sgd.step(0.1f);
    // v = -lr * (g + decay * w) = -0.1 * (0.5 + 0.1) = -0.06 ; w = 0.94
    CHECK(w[0] == Approx(0.94f));
    // v = -0.1 * (-1 + 0.2) = 0.08 ; w = 2.08
    CHECK(w[1] == Approx(2.08f));
    CHECK(bias[0] == Approx(0.95f));  // no decay on biases: v = -0.05
    CHECK(g[0] == 0.0f);               // gradients are consumed
    g[0] = 0.5f;
    sgd.step(0.1f);
    // v = 0.9 * -0.06 - 0.1 * (0.5 + 0.1 * 0.94) = -0.054 - 0.0594 = -0.1134
    CHECK(w[0] == Approx(0.94f - 0.1134f));
}

TEST_CASE("optimizer: Adam with bias correction", "[optimizer]") {
    const NetOptions o = options_from("adam=1\nB1=0.9\nB2=0.999\neps=0.00000001\ndecay=0\n");
    float w[1] = {1.0f}, g[1] = {0.2f};
    Optimizer adam(o, {{w, g, 1, true}});
    adam.step(0.01f);
    // m = 0.02, v = 0.00004; lr_t = 0.01 * sqrt(0.001) / 0.1; step = lr_t * m / sqrt(v) = 0.01
    CHECK(w[0] == Approx(0.99f).epsilon(1e-5));
    g[0] = -0.4f;
    adam.step(0.01f);
    // m = 0.9*0.02 - 0.04 = -0.022; v = 0.999*0.00004 + 0.001*0.16 = 0.00019996
    const double lr_t = 0.01 * std::sqrt(1 - 0.999 * 0.999) / (1 - 0.81);
    CHECK(w[0] == Approx(0.99 - lr_t * -0.022 / (std::sqrt(0.00019996) + 1e-8)).epsilon(1e-5));
    // State round trip.
    const auto state = adam.state();
    CHECK(state.size() == 2);
    CHECK(state[0] == Approx(-0.022f));
    Optimizer other(o, {{w, g, 1, true}});
    CHECK(other.set_state(2, state));
    CHECK(other.steps() == 2);
    CHECK_FALSE(other.set_state(2, {1.0f}));
}

TEST_CASE("learning-rate policies and burn-in", "[optimizer]") {
    CHECK(learning_rate_at(options_from("learning_rate=0.1\n"), 1000, 2000) == Approx(0.1f));
    const NetOptions steps = options_from("learning_rate=0.1\npolicy=steps\nsteps=10,20\nscales=0.5,0.1\n");
    CHECK(learning_rate_at(steps, 9, 100) == Approx(0.1f));
    CHECK(learning_rate_at(steps, 10, 100) == Approx(0.05f));
    CHECK(learning_rate_at(steps, 25, 100) == Approx(0.005f));
    const NetOptions step = options_from("learning_rate=0.1\npolicy=step\nstep=5\nscale=0.5\n");
    CHECK(learning_rate_at(step, 4, 100) == Approx(0.1f));
    CHECK(learning_rate_at(step, 11, 100) == Approx(0.025f));
    const NetOptions exp = options_from("learning_rate=0.1\npolicy=exp\ngamma=0.9\n");
    CHECK(learning_rate_at(exp, 2, 100) == Approx(0.081f));
    const NetOptions poly = options_from("learning_rate=0.1\npolicy=poly\npower=2\n");
    CHECK(learning_rate_at(poly, 50, 100) == Approx(0.025f));
    const NetOptions burn = options_from("learning_rate=0.1\nburn_in=10\npower=2\n");
    CHECK(learning_rate_at(burn, 5, 100) == Approx(0.025f));
    CHECK(learning_rate_at(burn, 10, 100) == Approx(0.1f));
}

TEST_CASE("a gradient marked stale is left in place for the next backward to overwrite", "[optimizer]") {
    for (const char* keys : {"adam=1\n", "momentum=0.9\n"}) {
        INFO(keys);
        float w[2] = {1.0f, 2.0f}, g[2] = {0.5f, -1.0f}, w_ref[2] = {1.0f, 2.0f}, g_ref[2] = {0.5f, -1.0f};
        bool stale = false;
        Optimizer marked(options_from(keys), {{w, g, 2, true, &stale}});
        Optimizer plain(options_from(keys), {{w_ref, g_ref, 2, true}});
        marked.step(0.1f);
        plain.step(0.1f);
        CHECK(stale);
        CHECK((w[0] == w_ref[0] && w[1] == w_ref[1]));  // the same update
        CHECK((g[0] == 0.5f && g[1] == -1.0f));         // the used gradient, not zeroed
        CHECK((g_ref[0] == 0.0f && g_ref[1] == 0.0f));
    }
}

TEST_CASE("updating each layer right after its backward equals one step after the whole backward", "[optimizer]") {
    const std::string cfg =
        "[net]\nbatch=4\nwidth=10\nheight=10\nchannels=1\nadam=1\ndecay=0.0005\n"
        "[convolutional]\nfilters=8\nsize=3\npad=1\nactivation=relu\n[maxpool]\nsize=2\nstride=2\n"
        "[convolutional]\nfilters=8\nsize=3\nbatch_normalize=1\nactivation=leaky\n"
        "[connected]\noutput=6\nactivation=relu\n[batchnorm]\n[connected]\noutput=3\nactivation=linear\n[softmax]\n";
    BuildOptions build;
    build.threads = 2;
    auto whole = Network::from_sections(parse_cfg(cfg, "update.cfg"), build);
    auto per_layer = Network::from_sections(parse_cfg(cfg, "update.cfg"), build);
    // Gradients zeroed before every backward: what overwriting stale gradients must equal.
    auto zeroed = Network::from_sections(parse_cfg(cfg, "update.cfg"), build);
    Optimizer zeroed_optimizer(zeroed->options(), zeroed->params(), zeroed->compute().ops);
    Optimizer whole_optimizer(whole->options(), whole->params(), whole->compute().ops);
    Optimizer layer_optimizer(per_layer->options(), per_layer->params(), per_layer->compute().ops);
    const Network::LayerDone update_layer = [&](std::size_t first, std::size_t count) {
        layer_optimizer.update_arrays(first, count, &per_layer->pool());
    };
    std::vector<float> input(4 * 100);
    for (int step = 0; step < 3; ++step) {
        for (std::size_t i = 0; i < input.size(); ++i) input[i] = float((i * 37 + std::size_t(step) * 11) % 17) / 17.0f;
        for (Network* net : {whole.get(), per_layer.get(), zeroed.get()}) {
            net->forward(input.data(), 4, true);
            float* grad = net->output_grad();
            for (int i = 0; i < 12; ++i) grad[i] = float((i + step) % 5 - 2) * 0.1f;
        }
        whole->backward(input.data(), 4);
        whole_optimizer.step(0.01f, &whole->pool());
        layer_optimizer.begin_step(0.01f);
        per_layer->backward(input.data(), 4, nullptr, &update_layer);
        zeroed->zero_param_grads();
        zeroed->backward(input.data(), 4);
        zeroed_optimizer.step(0.01f, &zeroed->pool());
    }
    const std::vector<Param> want = whole->params(), got = per_layer->params(), plain = zeroed->params();
    REQUIRE(want.size() == got.size());
    int stale_arrays = 0;
    for (std::size_t p = 0; p < want.size(); ++p) {
        stale_arrays += want[p].grad_stale != nullptr;
        for (std::size_t i = 0; i < want[p].size; ++i) {
            INFO("array " << p << ", element " << i);
            REQUIRE(got[p].value[i] == want[p].value[i]);
            REQUIRE(plain[p].value[i] == want[p].value[i]);
            REQUIRE(got[p].grad[i] == want[p].grad[i]);
            if (!want[p].grad_stale) REQUIRE(want[p].grad[i] == 0.0f);
        }
    }
    CHECK(stale_arrays == 2);  // the two connected layers' weights
    CHECK(layer_optimizer.state() == whole_optimizer.state());
    CHECK(layer_optimizer.steps() == 3);
}
