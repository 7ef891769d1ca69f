// Layer tests, on every backend this CPU runs (each test case once per backend, the reference first):
//   1. forward passes against values computed by hand (each expected number is written out, with
//      how it was derived);
//   2. backward passes against central differences of L = sum_i r_i * y_i (r fixed and random),
//      input gradients included, with 1 and 3 threads, and results compared between thread counts;
//   3. softmax + cross-entropy: with output_grad = (p - onehot) / batch, the softmax layer's input
//      gradient is the gradient of the mean cross-entropy with respect to the logits.
//
// Gradient tolerance: |analytic - numeric| <= kAbsTol + kRelTol * max(|analytic|, |numeric|), with
// kRelTol = 1e-2 and kAbsTol = 1e-3. The forward passes run in float, so a central difference with
// step h carries a rounding error of about 1e-7 * |L| / h (~1e-5 here) plus a truncation error
// O(h^2); a wrong index or a missing term is off by O(0.1) or more. Inputs avoid kinks: smooth
// activations in random checks, relu/leaky checked on pre-activations kept far from 0, and maxpool
// inputs without near-ties (distinct values spaced by more than 2h).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cfg/cfg.h"
#include "core/rng.h"
#include "io/weights.h"
#include "backends.h"
#include "net_helpers.h"
#include "kernels/backend.h"
#include "layers/layer.h"
#include "net/network.h"

namespace {

using lenet::Backend;
using lenet::BuildOptions;
using lenet::Layer;
using lenet::Network;
using lenet::Param;
using lenet::Rng;

constexpr double kRelTol = 1e-2;
constexpr double kAbsTol = 1e-3;
constexpr float kStep = 1e-2f;  // central-difference step for single layers

// ---------------------------------------------------------------------------------------------
// Helpers

using lenet::test::backend_under_test;

// A net on the backend under test with `threads` threads, planned for batches up to `batch`.
std::unique_ptr<Network> make_net(const std::string& cfg_text, int batch, int threads) {
    BuildOptions build;
    build.threads = threads;
    build.backend = backend_under_test();
    build.max_batch = batch;
    return Network::from_sections(lenet::parse_cfg(cfg_text, "test.cfg"), build);
}

using lenet::test::net_section;

using lenet::test::random_values;

// Distinct values spaced by 0.05 in random order: no two maxpool candidates lie within 2 * kStep.
std::vector<float> distinct_values(std::size_t n, std::uint64_t seed) {
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = 0.05f * (float(i) - 0.5f * float(n));
    Rng rng(seed);
    rng.shuffle(v.begin(), v.end());
    return v;
}

// Overwrites parameter `index` of a layer (order: weights, biases, [scales]; [batchnorm]: scales,
// biases).
void set_param(Layer& layer, std::size_t index, const std::vector<float>& values) {
    const std::vector<Param> params = layer.params();
    REQUIRE(index < params.size());
    REQUIRE(values.size() == params[index].size);
    std::copy(values.begin(), values.end(), params[index].value);
}

// Loads arrays in the layer's .weights order (for state params() does not expose: rolling mean and
// variance).
void load_arrays(Layer& layer, const std::vector<std::vector<float>>& arrays) {
    lenet::WeightsWriter writer(0);
    for (const auto& a : arrays) writer.write_floats(a.data(), a.size());
    lenet::WeightsReader reader("test.weights", writer.bytes());
    layer.read_weights(reader);
    REQUIRE(reader.remaining() == 0);
}

// The layer's .weights arrays as floats (header dropped).
std::vector<float> saved_arrays(const Layer& layer) {
    lenet::WeightsWriter writer(0);
    layer.write_weights(writer);
    lenet::WeightsReader reader("test.weights", writer.bytes());
    std::vector<float> v(reader.remaining() / sizeof(float));
    reader.read_floats(v.data(), v.size(), "all");
    return v;
}

// Biases and scales start at 0 and 1; random values in [0.5, 1.5] make a check less special.
void randomize_non_decay_params(Network& net, std::uint64_t seed) {
    Rng rng(seed);
    for (const Param& p : net.params())
        if (!p.decay)
            for (std::size_t i = 0; i < p.size; ++i) p.value[i] = rng.uniform(0.5f, 1.5f);
}

std::vector<float> run_forward(Network& net, const std::vector<float>& input, int batch, bool train) {
    REQUIRE(input.size() == std::size_t(batch) * net.input_shape().size());
    const float* y = net.forward(input.data(), batch, train);
    return {y, y + std::size_t(batch) * net.output_shape().size()};
}

void require_values(const std::vector<float>& actual, const std::vector<float>& expected, double margin = 1e-5) {
    REQUIRE(actual.size() == expected.size());
    for (std::size_t i = 0; i < actual.size(); ++i) {
        INFO("value " << i);
        CHECK(actual[i] == Approx(expected[i]).epsilon(1e-5).margin(margin));
    }
}

// Runs one layer of a built net on buffers of its own, as Network::forward/backward do, but with
// an input-gradient buffer (the network passes null to its first layer).
class LayerRun {
public:
    LayerRun(Network& net, int index, int batch)
        : net_(net), layer_(net.layer(index)), batch_(batch),
          workspace_(std::max<std::size_t>(1, layer_.workspace_floats(batch, net.pool().size()))),
          output_(std::size_t(batch) * layer_.output_shape().size()) {}

    Layer& layer() { return layer_; }
    std::size_t input_size() const { return std::size_t(batch_) * layer_.input_shape().size(); }
    std::size_t output_size() const { return output_.size(); }

    const std::vector<float>& forward(const std::vector<float>& input, bool train) {
        REQUIRE(input.size() == input_size());
        layer_.forward({input.data(), output_.data(), batch_, train, workspace_.data(), net_.compute(), rng_});
        return output_;
    }

    // Backward from the last forward, with the output gradient `output_grad`; returns the input
    // gradient, accumulated onto `input_grad` (zeros by default).
    std::vector<float> backward(const std::vector<float>& input, const std::vector<float>& output_grad,
                                std::vector<float> input_grad = {}) {
        if (input_grad.empty()) input_grad.assign(input_size(), 0.0f);
        std::vector<float> delta = output_grad;  // backward may overwrite it
        layer_.backward({input.data(), output_.data(), delta.data(), input_grad.data(), batch_, workspace_.data(),
                         net_.compute()});
        return input_grad;
    }

private:
    Network& net_;
    Layer& layer_;
    int batch_;
    std::vector<float> workspace_, output_;
    Rng rng_{7};
};

// A loss over a batch of outputs, and the output gradient that goes with it.
struct Loss {
    std::function<double(const float* y, std::size_t n)> value;
    std::function<void(const float* y, std::size_t n, float* grad)> output_grad;
};

// L = sum_i r_i * y_i with fixed random r in [-1, 1]: dL/dy = r, and every output counts.
Loss weighted_sum_loss(std::uint64_t seed) {
    auto r = std::make_shared<std::vector<float>>(random_values(4096, seed));
    return {[r](const float* y, std::size_t n) {
                REQUIRE(n <= r->size());
                double sum = 0.0;
                for (std::size_t i = 0; i < n; ++i) sum += double((*r)[i]) * double(y[i]);
                return sum;
            },
            [r](const float*, std::size_t n, float* grad) { std::copy_n(r->begin(), n, grad); }};
}

// Mean cross-entropy over the batch, summed over softmax groups: L = -1/B sum_b sum_g log p[label].
// labels[b * groups + g] is the target within group g of image b. The output gradient is what the
// trainer writes, (p - onehot) / B, which the softmax layer turns into dL/dlogits.
Loss cross_entropy_loss(int batch, int groups, std::vector<int> labels) {
    auto onehot = [batch, groups, labels](std::size_t n) {
        const std::size_t group_size = n / std::size_t(batch * groups);
        std::vector<float> t(n, 0.0f);
        for (std::size_t i = 0; i < labels.size(); ++i) t[i * group_size + std::size_t(labels[i])] = 1.0f;
        return t;
    };
    return {[batch, onehot](const float* p, std::size_t n) {
                const std::vector<float> t = onehot(n);
                double loss = 0.0;
                for (std::size_t i = 0; i < n; ++i)
                    if (t[i] != 0.0f) loss -= std::log(double(p[i]));
                return loss / batch;
            },
            [batch, onehot](const float* p, std::size_t n, float* grad) {
                const std::vector<float> t = onehot(n);
                for (std::size_t i = 0; i < n; ++i) grad[i] = (p[i] - t[i]) / float(batch);
            }};
}

// Central differences of loss() with respect to each of x[0..n); x is restored afterwards. The
// divisor is the step actually taken in float.
std::vector<double> numeric_gradient(float* x, std::size_t n, float h, const std::function<double()>& loss) {
    std::vector<double> grad(n);
    for (std::size_t i = 0; i < n; ++i) {
        const float saved = x[i];
        const float up = saved + h, down = saved - h;
        x[i] = up;
        const double plus = loss();
        x[i] = down;
        const double minus = loss();
        x[i] = saved;
        grad[i] = (plus - minus) / (double(up) - double(down));
    }
    return grad;
}

// Every analytic value within tolerance of its numeric estimate; reports the worst one. Also
// requires some value to be clearly nonzero, so that a check cannot pass vacuously.
void check_gradient(const std::string& what, const std::vector<float>& analytic, const std::vector<double>& numeric) {
    REQUIRE(analytic.size() == numeric.size());
    std::size_t bad = 0, worst = 0;
    double worst_excess = -1e300, largest = 0.0;
    for (std::size_t i = 0; i < analytic.size(); ++i) {
        const double a = analytic[i], n = numeric[i];
        const double excess = std::abs(a - n) - (kAbsTol + kRelTol * std::max(std::abs(a), std::abs(n)));
        if (excess > 0) ++bad;
        if (excess > worst_excess) {
            worst_excess = excess;
            worst = i;
        }
        largest = std::max(largest, std::abs(n));
    }
    INFO(what << ": " << bad << " of " << analytic.size() << " values off; worst at " << worst << ": analytic "
              << analytic[worst] << ", numeric " << numeric[worst]);
    CHECK(bad == 0);
    CHECK(largest > 1e-2);
}

// What a gradient check produced, to compare between thread counts.
struct GradientRun {
    std::vector<float> output, input_grad;
    std::vector<std::vector<float>> param_grads;
};

std::vector<std::vector<float>> param_grads(Layer& layer) {
    std::vector<std::vector<float>> grads;
    for (const Param& p : layer.params()) grads.emplace_back(p.grad, p.grad + p.size);
    return grads;
}

// Checks the input gradient and every parameter gradient of the net's first (only) layer against
// central differences of `loss`, training mode. Also checks that backward is deterministic: a
// second forward/backward from zeroed gradients gives bit-identical results.
// `setup` may then overwrite parameters (binary layers need weights away from the sign's kink).
// `input_flat`: the layer is piecewise constant in its input (an unscaled XNOR layer away from the
// kink), so the input gradient must be exactly 0, numerically and analytically.
using LayerSetup = std::function<void(Layer&)>;
GradientRun check_layer_gradients(const std::string& cfg_text, int batch, int threads, std::vector<float> x,
                                  const Loss& loss, float h = kStep, const LayerSetup& setup = {},
                                  bool input_flat = false) {
    auto net = make_net(cfg_text, batch, threads);
    randomize_non_decay_params(*net, 11);
    if (setup) setup(net->layer(0));
    LayerRun run(*net, 0, batch);
    REQUIRE(x.size() == run.input_size());
    const std::size_t n = run.output_size();
    auto value = [&] { return loss.value(run.forward(x, true).data(), n); };

    GradientRun result;
    std::vector<float> delta(n);
    for (int repeat = 0; repeat < 2; ++repeat) {
        net->zero_param_grads();
        const std::vector<float> y = run.forward(x, true);
        loss.output_grad(y.data(), n, delta.data());
        std::vector<float> input_grad = run.backward(x, delta);
        if (repeat == 0) {
            result = {y, input_grad, param_grads(run.layer())};
        } else {
            INFO("a second backward pass with " << threads << " thread(s)");
            CHECK(y == result.output);
            CHECK(input_grad == result.input_grad);
            CHECK(param_grads(run.layer()) == result.param_grads);
        }
    }

    INFO(threads << " thread(s)");
    const std::vector<double> numeric_input = numeric_gradient(x.data(), x.size(), h, value);
    if (input_flat) {
        CHECK(std::all_of(result.input_grad.begin(), result.input_grad.end(), [](float v) { return v == 0.0f; }));
        CHECK(std::all_of(numeric_input.begin(), numeric_input.end(), [](double v) { return v == 0.0; }));
    } else {
        check_gradient("input", result.input_grad, numeric_input);
    }
    const std::vector<Param> params = run.layer().params();
    for (std::size_t i = 0; i < params.size(); ++i)
        check_gradient("param " + std::to_string(i), result.param_grads[i],
                       numeric_gradient(params[i].value, params[i].size, h, value));
    return result;
}

// The same for a whole network (parameter gradients; Network::backward gives no input gradient).
std::vector<std::vector<float>> check_network_gradients(const std::string& cfg_text, int batch, int threads,
                                                        const std::vector<float>& x, const Loss& loss, float h) {
    auto net = make_net(cfg_text, batch, threads);
    randomize_non_decay_params(*net, 13);
    const std::size_t n = std::size_t(batch) * net->output_shape().size();
    auto value = [&] { return loss.value(net->forward(x.data(), batch, true), n); };

    net->zero_param_grads();
    const float* y = net->forward(x.data(), batch, true);
    loss.output_grad(y, n, net->output_grad());
    net->backward(x.data(), batch);
    std::vector<std::vector<float>> grads;
    for (const Param& p : net->params()) grads.emplace_back(p.grad, p.grad + p.size);

    INFO(threads << " thread(s)");
    const std::vector<Param> params = net->params();
    for (std::size_t i = 0; i < params.size(); ++i)
        check_gradient("network param " + std::to_string(i), grads[i],
                       numeric_gradient(params[i].value, params[i].size, h, value));
    return grads;
}

// Close to within float rounding (per-thread partial sums are added in a different order).
void require_close_arrays(const std::vector<float>& a, const std::vector<float>& b, const std::string& what) {
    REQUIRE(a.size() == b.size());
    std::size_t bad = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::abs(a[i] - b[i]) > 1e-5f * std::max(1.0f, std::abs(a[i]))) ++bad;
    INFO(what << ": " << bad << " of " << a.size() << " values differ");
    CHECK(bad == 0);
}

// Runs a layer's gradient check with 1 and 3 threads. Outputs, input gradients and bias/scale
// gradients do not depend on the thread split and must be bit-identical; weight gradients are
// reduced per thread (deterministic for a given thread count) and must agree to float rounding.
void check_layer_gradients_threads(const std::string& cfg_text, int batch, const std::vector<float>& x,
                                   std::uint64_t seed, const LayerSetup& setup = {}, bool input_flat = false) {
    const Loss loss = weighted_sum_loss(seed);
    const GradientRun one = check_layer_gradients(cfg_text, batch, 1, x, loss, kStep, setup, input_flat);
    const GradientRun three = check_layer_gradients(cfg_text, batch, 3, x, loss, kStep, setup, input_flat);
    CHECK(one.output == three.output);
    CHECK(one.input_grad == three.input_grad);
    REQUIRE(one.param_grads.size() == three.param_grads.size());
    for (std::size_t i = 0; i < one.param_grads.size(); ++i) {
        if (i == 0)
            require_close_arrays(one.param_grads[0], three.param_grads[0], "weight gradient, 1 vs 3 threads");
        else
            CHECK(one.param_grads[i] == three.param_grads[i]);
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Forward against hand-computed values

TEST_CASE("convolution 3x3, stride 2, pad 1, two input channels, by hand", "[layers]") {
    EACH_BACKEND();
    auto net = make_net(net_section(2, 4, 4) +
                            "[convolutional]\nfilters=2\nsize=3\nstride=2\npad=1\nactivation=linear\n",
                        2, 2);
    REQUIRE(net->output_shape() == lenet::Shape{2, 2, 2});  // (4 + 2 - 3) / 2 + 1 = 2
    // weights[f][c][ky][kx]. Filter 0: channel 0 all ones, channel 1 only the centre = 2.
    // Filter 1: channel 0 top-left = 1, bottom-right = -1; channel 1 top-right = 1.
    std::vector<float> w(2 * 2 * 9, 0.0f);
    for (int i = 0; i < 9; ++i) w[std::size_t(i)] = 1.0f;
    w[9 + 4] = 2.0f;
    w[18 + 0] = 1.0f;
    w[18 + 8] = -1.0f;
    w[27 + 2] = 1.0f;
    set_param(net->layer(0), 0, w);
    set_param(net->layer(0), 1, {0.5f, -1.0f});
    // Image 0: channel 0 = 1..16 row-major, channel 1 = 10 * y + x. Image 1 = -image 0.
    std::vector<float> x(2 * 32);
    for (int y = 0; y < 4; ++y)
        for (int xx = 0; xx < 4; ++xx) {
            x[std::size_t(y * 4 + xx)] = float(y * 4 + xx + 1);
            x[std::size_t(16 + y * 4 + xx)] = float(10 * y + xx);
        }
    for (std::size_t i = 0; i < 32; ++i) x[32 + i] = -x[i];
    // Output (oy, ox) reads rows 2oy-1..2oy+1, cols 2ox-1..2ox+1 (row/col -1 is padding).
    // Filter 0 = sum of the channel-0 window + 2 * channel 1 at the centre (2oy, 2ox) + 0.5:
    //   (0,0): 1+2+5+6 = 14, centre 0  -> 14.5      (0,1): 2+3+4+6+7+8 = 30, centre 2 -> 34.5
    //   (1,0): 5+6+9+10+13+14 = 57, centre 20 -> 97.5   (1,1): 6+7+8+10+11+12+14+15+16 = 99, 22 -> 143.5
    // Filter 1 = ch0(2oy-1, 2ox-1) - ch0(2oy+1, 2ox+1) + ch1(2oy-1, 2ox+1) - 1:
    //   (0,0): 0 - 6 + 0 - 1 = -7     (0,1): 0 - 8 + 0 - 1 = -9
    //   (1,0): 0 - 14 + 11 - 1 = -4   (1,1): 6 - 16 + 13 - 1 = 2
    // Image 1 negates everything but the bias: f0 -14+0.5.., f1 6-1, 8-1, 3-1, -3-1.
    require_values(run_forward(*net, x, 2, false), {14.5f, 34.5f, 97.5f, 143.5f, -7, -9, -4, 2,  //
                                                    -13.5f, -33.5f, -96.5f, -142.5f, 5, 7, 2, -4});
}

TEST_CASE("1x1 convolution, by hand", "[layers]") {
    EACH_BACKEND();
    auto net = make_net(net_section(2, 2, 2) + "[convolutional]\nfilters=3\nsize=1\nstride=1\nactivation=linear\n",
                        2, 1);
    // W[f][c] = [[1, 0], [0, 1], [2, -0.5]], b = [0, 1, -1].
    set_param(net->layer(0), 0, {1, 0, 0, 1, 2, -0.5f});
    set_param(net->layer(0), 1, {0, 1, -1});
    // Image 0: channel 0 = 1 2 3 4, channel 1 = 10 20 30 40; image 1 = -image 0.
    const std::vector<float> x = {1, 2, 3, 4, 10, 20, 30, 40, -1, -2, -3, -4, -10, -20, -30, -40};
    // f0 = ch0; f1 = ch1 + 1; f2 = 2 ch0 - 0.5 ch1 - 1 (2-5-1 = -4, 4-10-1 = -7, ...).
    require_values(run_forward(*net, x, 2, false), {1, 2, 3, 4, 11, 21, 31, 41, -4, -7, -10, -13,  //
                                                    -1, -2, -3, -4, -9, -19, -29, -39, 2, 5, 8, 11});
}

TEST_CASE("connected, by hand", "[layers]") {
    EACH_BACKEND();
    auto net = make_net(net_section(3, 1, 1) + "[connected]\noutput=2\nactivation=linear\n", 2, 1);
    // One weight row per output: W = [[1, 2, 3], [-1, 0, 0.5]], b = [0.5, -1].
    set_param(net->layer(0), 0, {1, 2, 3, -1, 0, 0.5f});
    set_param(net->layer(0), 1, {0.5f, -1});
    // [1, -1, 2] -> [1 - 2 + 6 + 0.5, -1 + 0 + 1 - 1] = [5.5, -1]; [0, 1, 0] -> [2 + 0.5, 0 - 1] = [2.5, -1].
    require_values(run_forward(*net, {1, -1, 2, 0, 1, 0}, 2, false), {5.5f, -1, 2.5f, -1});
}

TEST_CASE("maxpool 2/2 on 4x4, by hand", "[layers]") {
    EACH_BACKEND();
    auto net = make_net(net_section(2, 4, 4) + "[maxpool]\nsize=2\nstride=2\n", 1, 1);
    // Default padding = size - 1 = 1: out = (4 + 1 - 2) / 2 + 1 = 2, windows start at -1/2 = 0.
    REQUIRE(net->output_shape() == lenet::Shape{2, 2, 2});
    const std::vector<float> c0 = {3, 9, 1, 0, 4, 2, 7, 5, 8, -1, 6, -3, 0.5f, -2, -4, -5};
    std::vector<float> x = c0;
    for (float v : c0) x.push_back(-v);  // channel 1 = -channel 0
    // Channel 0 blocks: {3,9,4,2} -> 9, {1,0,7,5} -> 7, {8,-1,0.5,-2} -> 8, {6,-3,-4,-5} -> 6.
    // Channel 1 blocks: {-3,-9,-4,-2} -> -2, {-1,0,-7,-5} -> 0, {-8,1,-0.5,2} -> 2, {-6,3,4,5} -> 5.
    require_values(run_forward(*net, x, 1, false), {9, 7, 8, 6, -2, 0, 2, 5});
}

TEST_CASE("maxpool 2/2 on odd 5x5 with Darknet's default padding, by hand", "[layers]") {
    EACH_BACKEND();
    auto net = make_net(net_section(1, 5, 5) + "[maxpool]\nsize=2\nstride=2\n", 1, 1);
    // padding = 1: out = (5 + 1 - 2) / 2 + 1 = 3; the last row/column of windows sees only row/col 4.
    REQUIRE(net->output_shape() == lenet::Shape{1, 3, 3});
    // All negative, so a padding position (if it counted as 0) would win: it must not.
    const std::vector<float> x = {-5,  -3,  -8,  -1,  -9,   //
                                  -2,  -7,  -4,  -6,  -10,  //
                                  -11, -12, -13, -14, -15,  //
                                  -20, -16, -19, -17, -18,  //
                                  -21, -25, -22, -24, -23};
    // Rows 0-1: {-5,-3,-2,-7} -> -2, {-8,-1,-4,-6} -> -1, {-9,-10} -> -9.
    // Rows 2-3: {-11,-12,-20,-16} -> -11, {-13,-14,-19,-17} -> -13, {-15,-18} -> -15.
    // Row 4:    {-21,-25} -> -21, {-22,-24} -> -22, {-23} -> -23.
    require_values(run_forward(*net, x, 1, false), {-2, -1, -9, -11, -13, -15, -21, -22, -23});
}

TEST_CASE("global avgpool, by hand", "[layers]") {
    EACH_BACKEND();
    auto net = make_net(net_section(2, 2, 3) + "[avgpool]\n", 2, 1);
    REQUIRE(net->output_shape() == lenet::Shape{2, 1, 1});
    const std::vector<float> x = {1, 2, 3, 4, 5, 6,  0, 0, 0, 0, 0, 12,  //
                                  -1, -1, -1, -1, -1, -1,  1, 2, 3, 4, 5, 6};
    // 21/6 = 3.5, 12/6 = 2, -6/6 = -1, 21/6 = 3.5.
    require_values(run_forward(*net, x, 2, false), {3.5f, 2, -1, 3.5f});
}

TEST_CASE("softmax with groups and temperature, by hand", "[layers]") {
    EACH_BACKEND();
    auto net = make_net(net_section(6, 1, 1) + "[softmax]\ngroups=2\ntemperature=2\n", 2, 1);
    const float ln2 = std::log(2.0f), ln3 = std::log(3.0f), ln5 = std::log(5.0f);
    // Image 0: x / T = [0, ln2, ln5 | 2 ln2, 0, ln3] -> exp [1, 2, 5 | 4, 1, 3] / [8 | 8].
    // Image 1: huge equal logits per group -> 1/3 each (needs the max subtracted before exp).
    const std::vector<float> x = {0, 2 * ln2, 2 * ln5, 4 * ln2, 0, 2 * ln3,  //
                                  1000, 1000, 1000, -1000, -1000, -1000};
    const float third = 1.0f / 3.0f;
    require_values(run_forward(*net, x, 2, false),
                   {0.125f, 0.25f, 0.625f, 0.5f, 0.125f, 0.375f, third, third, third, third, third, third});
}

TEST_CASE("dropout: identity at inference, 0 or x / (1 - p) in training", "[layers]") {
    EACH_BACKEND();
    auto net = make_net(net_section(4, 10, 25) + "[dropout]\nprobability=0.25\n", 2, 1);
    std::vector<float> x = random_values(2000, 3, 0.5f, 1.5f);  // nonzero, so a kept value is visible
    CHECK(run_forward(*net, x, 2, false) == x);

    LayerRun run(*net, 0, 2);
    const std::vector<float> y = run.forward(x, true);
    std::size_t dropped = 0, other = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        if (y[i] == 0.0f)
            ++dropped;
        else if (y[i] != Approx(x[i] / 0.75f).epsilon(1e-6))
            ++other;
    }
    CHECK(other == 0);
    // 2000 draws of p = 0.25: mean 500, standard deviation 19.4.
    CHECK(dropped > 400);
    CHECK(dropped < 600);

    // Backward passes the gradient through the same mask: dx = dy * y / x.
    const std::vector<float> dy = random_values(x.size(), 4);
    const std::vector<float> dx = run.backward(x, dy);
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < x.size(); ++i)
        if (std::abs(dx[i] - dy[i] * y[i] / x[i]) > 1e-6f) ++wrong;
    CHECK(wrong == 0);
}

TEST_CASE("batchnorm layer in training mode uses batch statistics, by hand", "[layers]") {
    EACH_BACKEND();
    auto net = make_net(net_section(2, 1, 2) + "[batchnorm]\n", 2, 1);
    Layer& bn = net->layer(0);
    set_param(bn, 0, {2, 1});     // scales
    set_param(bn, 1, {0.5f, -1}); // biases
    // Channel 0 over the batch: {1, 5, 1, 5}: mean 3, biased variance 4.
    // Channel 1: {0, 0, 0, 8}: mean 2, biased variance (4 + 4 + 4 + 36) / 4 = 12.
    const std::vector<float> x = {1, 5, 0, 0, 1, 5, 0, 8};
    // ch0: 2 * (+-2 / sqrt(4 + 1e-5)) + 0.5 = -1.4999975, 2.4999975
    // ch1: (0 - 2) / sqrt(12 + 1e-5) - 1 = -1.57735003, (8 - 2) / sqrt(12 + 1e-5) - 1 = 0.73205009
    require_values(run_forward(*net, x, 2, true), {-1.4999975f, 2.4999975f, -1.57735003f, -1.57735003f,  //
                                                   -1.4999975f, 2.4999975f, -1.57735003f, 0.73205009f},
                   1e-6);
    // One training pass moves the rolling statistics by 1% (momentum 0.99), the variance unbiased:
    // mean 0.01 * [3, 2] = [0.03, 0.02]; variance 0.99 + 0.01 * [4, 12] * 4/3 = [1.0433333, 1.15].
    // Saved order (Darknet's): scales, rolling mean, rolling variance; the biases are kept apart.
    require_values(saved_arrays(bn), {2, 1, 0.03f, 0.02f, 1.0433333f, 1.15f}, 1e-6);
    const std::vector<lenet::FloatArray> kept = bn.lenet_only_arrays();
    REQUIRE(kept.size() == 1);
    require_values(std::vector<float>(kept[0].data, kept[0].data + kept[0].size), {0.5f, -1}, 0);
}

TEST_CASE("batchnorm layer in inference mode uses the rolling statistics, by hand", "[layers]") {
    EACH_BACKEND();
    auto net = make_net(net_section(2, 1, 2) + "[batchnorm]\n", 1, 1);
    // scales [2, 1], rolling mean [1, -2], rolling variance [4, 0.25], biases [0.5, 0].
    load_arrays(net->layer(0), {{2, 1}, {1, -2}, {4, 0.25f}});
    set_param(net->layer(0), 1, {0.5f, 0});
    // Darknet's inference formula, (x - mean) / (sqrt(variance) + 1e-6) (not training's sqrt(variance + 1e-5)):
    // ch0: 2 * (3 - 1) / (2 + 1e-6) + 0.5 = 2.499999; 2 * (-1 - 1) / (2 + 1e-6) + 0.5 = -1.499999
    // ch1: (-2 + 2) / (0.5 + 1e-6) = 0; (-1.5 + 2) / (0.5 + 1e-6) = 0.999998
    require_values(run_forward(*net, {3, -1, -2, -1.5f}, 1, false), {2.499999f, -1.499999f, 0, 0.999998f}, 1e-6);
}

TEST_CASE("convolution with batch_normalize in inference mode, by hand", "[layers]") {
    EACH_BACKEND();
    auto net = make_net(net_section(1, 1, 2) +
                            "[convolutional]\nfilters=1\nsize=1\nstride=1\nbatch_normalize=1\nactivation=linear\n",
                        1, 1);
    // .weights order for conv: biases [0.5], scales [2], rolling mean [1], variance [4], weights [3].
    load_arrays(net->layer(0), {{0.5f}, {2}, {1}, {4}, {3}});
    // conv [1, 3] * 3 = [3, 9]; 2 * (3 - 1) / (sqrt(4) + 1e-6) + 0.5 = 2.499999,
    // 2 * (9 - 1) / (sqrt(4) + 1e-6) + 0.5 = 8.499996.
    require_values(run_forward(*net, {1, 3}, 1, false), {2.499999f, 8.499996f}, 1e-6);
}

// Darknet (pjreddie's and AlexeyAB's normalize_cpu) adds its epsilon outside the square root at
// inference: a channel whose rolling variance is 0 is divided by 1e-6, not by sqrt(1e-5). Darknet's
// .weights must give Darknet's outputs (scripts/check_darknet.sh compares them with libdarknet).
TEST_CASE("batch norm at inference divides by sqrt(rolling variance) + 1e-6, as Darknet", "[layers]") {
    EACH_BACKEND();
    // conv, 2 filters of one 1x1 weight: biases [0, 1], scales [1, 2], rolling mean [0, 1],
    // rolling variance [0, 1e-6], weights [1, 1]. Input 1x2: [2e-6, -1e-6].
    auto conv = make_net(net_section(1, 1, 2) +
                             "[convolutional]\nfilters=2\nsize=1\nstride=1\nbatch_normalize=1\nactivation=linear\n",
                         1, 1);
    load_arrays(conv->layer(0), {{0, 1}, {1, 2}, {0, 1}, {0, 1e-6f}, {1, 1}});
    // Channel 0: x / (0 + 1e-6) = [2, -1] (training's formula, x / sqrt(0 + 1e-5), would give 6.3e-4).
    // Channel 1: 2 * (x - 1) / (1e-3 + 1e-6) + 1, about -1997.0 and -1999.0.
    const float c0 = 2.0f * (2e-6f - 1.0f) / (1e-3f + 1e-6f) + 1.0f, c1 = 2.0f * (-1e-6f - 1.0f) / (1e-3f + 1e-6f) + 1.0f;
    require_values(run_forward(*conv, {2e-6f, -1e-6f}, 1, false), {2, -1, c0, c1}, 2e-3);

    // connected, 2 -> 2: biases [0, 0.5], weights identity, scales [1, 1], rolling mean [0, 0],
    // rolling variance [0, 4]: [3e-6 / 1e-6, 8 / (2 + 1e-6) + 0.5] = [3, 4.499998].
    auto connected = make_net(net_section(1, 1, 2) + "[connected]\noutput=2\nbatch_normalize=1\nactivation=linear\n", 1, 1);
    load_arrays(connected->layer(0), {{0, 0.5f}, {1, 0, 0, 1}, {1, 1}, {0, 0}, {0, 4}});
    require_values(run_forward(*connected, {3e-6f, 8}, 1, false), {3, 4.499998f}, 1e-6);
}

TEST_CASE("activations, by hand", "[layers]") {
    EACH_BACKEND();
    struct Case {
        const char* name;
        std::vector<float> expected;
    };
    // f(x) for x = -2, -0.5, 0, 0.5, 2: leaky slope 0.1; logistic 1 / (1 + e^-x); tanh.
    const std::vector<Case> cases = {
        {"linear", {-2, -0.5f, 0, 0.5f, 2}},
        {"relu", {0, 0, 0, 0.5f, 2}},
        {"leaky", {-0.2f, -0.05f, 0, 0.5f, 2}},
        {"logistic", {0.11920292f, 0.37754067f, 0.5f, 0.62245933f, 0.88079708f}},
        {"tanh", {-0.96402758f, -0.46211716f, 0, 0.46211716f, 0.96402758f}},
    };
    for (const Case& c : cases) {
        INFO("activation=" << c.name);
        // A 1x1 convolution with weight 1 and bias 0 is the activation alone.
        auto net = make_net(net_section(1, 1, 5) + "[convolutional]\nfilters=1\nsize=1\nactivation=" + c.name + "\n",
                            1, 1);
        set_param(net->layer(0), 0, {1});
        set_param(net->layer(0), 1, {0});
        require_values(run_forward(*net, {-2, -0.5f, 0, 0.5f, 2}, 1, false), c.expected, 1e-6);
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Backward against numeric gradients

TEST_CASE("convolution gradients: 3 channels, 5x7, size 3, stride 2, pad 1, 4 filters, batch 3", "[layers]") {
    EACH_BACKEND();
    const std::string cfg = net_section(3, 5, 7) +
                            "[convolutional]\nfilters=4\nsize=3\nstride=2\npad=1\nactivation=logistic\n";
    check_layer_gradients_threads(cfg, 3, random_values(3 * 3 * 5 * 7, 21), 22);
}

TEST_CASE("convolution gradients with batch_normalize", "[layers]") {
    EACH_BACKEND();
    const std::string cfg = net_section(3, 5, 7) +
                            "[convolutional]\nfilters=4\nsize=3\nstride=2\npad=1\nbatch_normalize=1\nactivation=tanh\n";
    check_layer_gradients_threads(cfg, 3, random_values(3 * 3 * 5 * 7, 23), 24);
}

TEST_CASE("convolution gradients: 1x1 (the pointwise path) and 2x2 unpadded", "[layers]") {
    EACH_BACKEND();
    check_layer_gradients_threads(
        net_section(3, 4, 5) + "[convolutional]\nfilters=2\nsize=1\nstride=1\nactivation=tanh\n", 3,
        random_values(3 * 3 * 4 * 5, 25), 26);
    check_layer_gradients_threads(
        net_section(2, 5, 4) + "[convolutional]\nfilters=3\nsize=2\nstride=1\nactivation=linear\n", 2,
        random_values(2 * 2 * 5 * 4, 27), 28);
}

TEST_CASE("connected gradients, with and without batch_normalize", "[layers]") {
    EACH_BACKEND();
    check_layer_gradients_threads(net_section(2, 3, 2) + "[connected]\noutput=5\nactivation=logistic\n", 3,
                                  random_values(3 * 12, 31), 32);
    check_layer_gradients_threads(
        net_section(2, 3, 2) + "[connected]\noutput=5\nbatch_normalize=1\nactivation=tanh\n", 4,
        random_values(4 * 12, 33), 34);
}

TEST_CASE("maxpool gradients (no ties), including partial and overlapping windows", "[layers]") {
    EACH_BACKEND();
    // size 2 / stride 2 on 5x7 (default padding 1: 3x4 output, the last windows partial).
    check_layer_gradients_threads(net_section(3, 5, 7) + "[maxpool]\nsize=2\nstride=2\n", 2,
                                  distinct_values(2 * 3 * 5 * 7, 41), 42);
    // size 3 / stride 2 (default padding 2: windows start at -1 and overlap).
    check_layer_gradients_threads(net_section(3, 5, 7) + "[maxpool]\nsize=3\nstride=2\n", 2,
                                  distinct_values(2 * 3 * 5 * 7, 43), 44);
}

TEST_CASE("avgpool gradients", "[layers]") {
    EACH_BACKEND();
    check_layer_gradients_threads(net_section(3, 4, 5) + "[avgpool]\n", 2, random_values(2 * 3 * 4 * 5, 51), 52);
}

TEST_CASE("batchnorm layer gradients", "[layers]") {
    EACH_BACKEND();
    check_layer_gradients_threads(net_section(3, 2, 3) + "[batchnorm]\n", 2, random_values(2 * 3 * 2 * 3, 61), 62);
}

TEST_CASE("activation gradients, relu and leaky away from their kink", "[layers]") {
    EACH_BACKEND();
    // A connected layer with identity weights and zero biases: pre-activation = input, with
    // |input| in [0.3, 1.5] and random signs. A step of 1e-2 in any weight or input moves a
    // pre-activation by at most 1.5e-2, never across 0.
    Rng rng(71);
    std::vector<float> x(2 * 6);
    for (auto& v : x) v = (rng.uniform() < 0.5f ? -1.0f : 1.0f) * rng.uniform(0.3f, 1.5f);
    for (const char* activation : {"linear", "relu", "leaky", "logistic", "tanh"}) {
        INFO("activation=" << activation);
        auto net = make_net(net_section(6, 1, 1) + "[connected]\noutput=6\nactivation=" + activation + "\n", 2, 1);
        LayerRun run(*net, 0, 2);
        std::vector<float> identity(36, 0.0f);
        for (std::size_t i = 0; i < 6; ++i) identity[i * 7] = 1.0f;
        set_param(run.layer(), 0, identity);
        set_param(run.layer(), 1, std::vector<float>(6, 0.0f));
        const Loss loss = weighted_sum_loss(72);
        std::vector<float> input = x;
        auto value = [&] { return loss.value(run.forward(input, true).data(), run.output_size()); };

        net->zero_param_grads();
        std::vector<float> delta(run.output_size());
        loss.output_grad(run.forward(input, true).data(), delta.size(), delta.data());
        const std::vector<float> input_grad = run.backward(input, delta);
        const auto grads = param_grads(run.layer());
        check_gradient("input", input_grad, numeric_gradient(input.data(), input.size(), kStep, value));
        const std::vector<Param> params = run.layer().params();
        for (std::size_t i = 0; i < params.size(); ++i)
            check_gradient("param " + std::to_string(i), grads[i],
                           numeric_gradient(params[i].value, params[i].size, kStep, value));
    }
}

TEST_CASE("backward adds into parameter gradients, and into the input gradient unless it sets it whole", "[layers]") {
    EACH_BACKEND();
    const std::vector<std::string> layers = {
        "[convolutional]\nfilters=2\nsize=3\nstride=2\npad=1\nactivation=logistic\n",
        "[convolutional]\nfilters=2\nsize=1\nstride=1\nbatch_normalize=1\nactivation=linear\n",
        "[connected]\noutput=3\nbatch_normalize=1\nactivation=tanh\n",
        "[maxpool]\nsize=2\nstride=2\n",
        "[avgpool]\n",
        "[batchnorm]\n",
        "[dropout]\nprobability=0.5\n",
        "[softmax]\n",
    };
    for (const std::string& layer_cfg : layers) {
        INFO(layer_cfg);
        auto net = make_net(net_section(2, 3, 4) + layer_cfg, 2, 3);
        randomize_non_decay_params(*net, 81);
        LayerRun run(*net, 0, 2);
        const std::vector<float> x = distinct_values(run.input_size(), 82);
        const std::vector<float> dy = random_values(run.output_size(), 83);
        net->zero_param_grads();
        run.forward(x, true);
        const std::vector<float> fresh = run.backward(x, dy);
        const auto grads = param_grads(run.layer());
        // Again from the same forward pass, onto a nonzero input gradient and the grads so far.
        const std::vector<float> start = random_values(x.size(), 84);
        const std::vector<float> again = run.backward(x, dy, start);
        // A layer that sets its input gradient whole (the network then skips zeroing it) overwrites the start.
        const bool sets = run.layer().sets_input_grad();
        for (std::size_t i = 0; i < x.size(); ++i)
            CHECK(again[i] == Approx((sets ? 0.0f : start[i]) + fresh[i]).margin(1e-6));
        const auto doubled = param_grads(run.layer());
        for (std::size_t p = 0; p < grads.size(); ++p)
            for (std::size_t i = 0; i < grads[p].size(); ++i)
                CHECK(doubled[p][i] == Approx(2.0f * grads[p][i]).margin(1e-6));
    }
}

TEST_CASE("whole network gradients: batchnorm, conv, maxpool, 1x1 conv+bn, avgpool, connected x2", "[layers]") {
    EACH_BACKEND();
    // Each layer's parameters reach the loss through a nonlinearity or a channel mix, so none has a
    // vanishing gradient (a batch norm right after per-channel biases would cancel them).
    const std::string cfg = net_section(2, 6, 7) +
                            "[batchnorm]\n"
                            "[convolutional]\nfilters=3\nsize=3\nstride=1\npad=1\nactivation=tanh\n"
                            "[maxpool]\nsize=2\nstride=2\n"
                            "[convolutional]\nfilters=4\nsize=1\nstride=1\nbatch_normalize=1\nactivation=logistic\n"
                            "[avgpool]\n"
                            "[connected]\noutput=3\nactivation=tanh\n"
                            "[connected]\noutput=2\nactivation=linear\n";
    const std::vector<float> x = random_values(3 * 2 * 6 * 7, 91);
    const Loss loss = weighted_sum_loss(92);
    // A smaller step than for single layers: maxpool sees conv outputs, which may nearly tie.
    const auto one = check_network_gradients(cfg, 3, 1, x, loss, 1e-3f);
    const auto three = check_network_gradients(cfg, 3, 3, x, loss, 1e-3f);
    REQUIRE(one.size() == three.size());
    for (std::size_t i = 0; i < one.size(); ++i)
        require_close_arrays(one[i], three[i], "network param " + std::to_string(i) + ", 1 vs 3 threads");
}

// ---------------------------------------------------------------------------------------------
// 3. Softmax + cross-entropy

TEST_CASE("softmax + cross-entropy: input gradient equals d(mean CE)/d(logits)", "[layers]") {
    EACH_BACKEND();
    const std::vector<float> logits = random_values(3 * 6, 101, -2.0f, 2.0f);
    SECTION("one group, temperature 1") {
        const Loss loss = cross_entropy_loss(3, 1, {4, 0, 5});
        check_layer_gradients(net_section(6, 1, 1) + "[softmax]\n", 3, 1, logits, loss);
    }
    SECTION("two groups, temperature 2") {
        const Loss loss = cross_entropy_loss(3, 2, {2, 0, 1, 1, 0, 2});
        check_layer_gradients(net_section(6, 1, 1) + "[softmax]\ngroups=2\ntemperature=2\n", 3, 1, logits, loss);
    }
    SECTION("through a network: connected then softmax, as the trainer runs it") {
        const std::string cfg = net_section(2, 2, 2) + "[connected]\noutput=5\nactivation=linear\n[softmax]\n";
        const Loss loss = cross_entropy_loss(4, 1, {0, 3, 4, 1});
        check_network_gradients(cfg, 4, 1, random_values(4 * 8, 102), loss, kStep);
    }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// 4. Binary-weight (binary=1) and XNOR (xnor=1) layers
//
// s(x) = +1 for x >= 0, else -1; alpha = mean |W| per filter; XNOR inputs with xnor_scale=k are
// scaled by K (conv: box filter of the channel mean of |x|) or beta (connected: mean |x|). With
// xnor_scale=none (Darknet's xnor=1, the default) nothing scales the inputs and s(0) = -1. The sign's gradient is
// straight-through, cancelled for |x| > 1, which a central difference cannot see: numeric checks
// use weights and inputs with |v| in [1.2, 2] (the straight-through terms vanish and no sign flips
// under the step), and the straight-through terms are checked by hand.

namespace {

// Random values with |v| in [1.2, 2] and random signs.
std::vector<float> away_from_kink(std::size_t n, std::uint64_t seed) {
    Rng rng(seed);
    std::vector<float> v(n);
    for (auto& x : v) x = (rng.uniform() < 0.5f ? -1.0f : 1.0f) * rng.uniform(1.2f, 2.0f);
    return v;
}

LayerSetup weights_away_from_kink(std::uint64_t seed) {
    return [seed](Layer& layer) {
        const Param weights = layer.params()[0];
        const std::vector<float> w = away_from_kink(weights.size, seed);
        std::copy(w.begin(), w.end(), weights.value);
    };
}

// Gradients of L = y[0] (one output) after one training forward pass.
struct SingleOutputGrads {
    std::vector<float> output, input_grad, weight_grad;
};
SingleOutputGrads single_output_grads(Network& net, const std::vector<float>& x) {
    LayerRun run(net, 0, 1);
    net.zero_param_grads();
    const std::vector<float> y = run.forward(x, true);
    std::vector<float> delta(y.size(), 0.0f);
    delta[0] = 1.0f;
    const std::vector<float> input_grad = run.backward(x, delta);
    const Param w = run.layer().params()[0];
    return {y, input_grad, std::vector<float>(w.grad, w.grad + w.size)};
}

}  // namespace

TEST_CASE("binary-weight convolution, by hand", "[layers][binary]") {
    EACH_BACKEND();
    auto net = make_net(net_section(1, 3, 3) + "[convolutional]\nbinary=1\nfilters=1\nsize=2\nactivation=linear\n", 1, 1);
    // W = [0.5, -1.5, -2, 1]: alpha = (0.5 + 1.5 + 2 + 1) / 4 = 1.25, s(W) = [1, -1, -1, 1]; bias 0.5.
    set_param(net->layer(0), 0, {0.5f, -1.5f, -2.0f, 1.0f});
    set_param(net->layer(0), 1, {0.5f});
    // x = [1 -2 3; 0 5 -1; 2 2 -4]; out(oy,ox) = 1.25 * (x00 - x01 - x10 + x11 of the window) + 0.5:
    //   (0,0): 1 + 2 - 0 + 5 = 8 -> 10.5    (0,1): -2 - 3 - 5 - 1 = -11 -> -13.25
    //   (1,0): 0 - 5 - 2 + 2 = -5 -> -5.75  (1,1): 5 + 1 - 2 - 4 = 0 -> 0.5
    const std::vector<float> x = {1, -2, 3, 0, 5, -1, 2, 2, -4};
    const std::vector<float> expected = {10.5f, -13.25f, -5.75f, 0.5f};
    require_values(run_forward(*net, x, 1, true), expected);
    require_values(run_forward(*net, x, 1, false), expected);
}

TEST_CASE("XNOR convolution, by hand, training and bit-packed inference", "[layers][binary]") {
    EACH_BACKEND();
    for (const bool packed : {true, false}) {
        BuildOptions build;
        build.threads = 1;
        build.backend = backend_under_test();
        build.max_batch = 1;
        build.packed_binary = packed;
        auto net = Network::from_sections(
            lenet::parse_cfg(net_section(1, 3, 3) + "[convolutional]\nxnor=1\nxnor_scale=k\nfilters=1\nsize=2\nactivation=linear\n",
                             "test.cfg"),
            build);
        set_param(net->layer(0), 0, {0.5f, -1.5f, -2.0f, 1.0f});  // alpha 1.25, s(W) = [1, -1, -1, 1]
        set_param(net->layer(0), 1, {0.5f});
        // x = [1 -2 3; 0 5 -1; 2 2 -4]: s(x) = [1 -1 1; 1 1 -1; 1 1 -1] (s(0) = +1), |x| = [1 2 3; 0 5 1; 2 2 4].
        // K = window mean of |x|: (0,0) 8/4 = 2, (0,1) 11/4 = 2.75, (1,0) 9/4 = 2.25, (1,1) 12/4 = 3.
        // dots = s00 - s01 - s10 + s11 per window: (0,0) 1+1-1+1 = 2, (0,1) -1-1-1-1 = -4, (1,0) 1-1-1+1 = 0,
        // (1,1) 1+1-1-1 = 0. out = dots * 1.25 * K + 0.5: 5.5, -13.25, 0.5, 0.5.
        const std::vector<float> x = {1, -2, 3, 0, 5, -1, 2, 2, -4};
        const std::vector<float> expected = {5.5f, -13.25f, 0.5f, 0.5f};
        INFO("packed inference: " << packed);
        require_values(run_forward(*net, x, 1, true), expected);
        require_values(run_forward(*net, x, 1, false), expected);
    }
}

TEST_CASE("XNOR connected, by hand", "[layers][binary]") {
    EACH_BACKEND();
    auto net = make_net(net_section(4, 1, 1) + "[connected]\nxnor=1\nxnor_scale=k\noutput=2\nactivation=linear\n", 1, 1);
    // W = [[1, -0.5, 0.25, -2], [-1, 1, 1, 0.5]]: alpha = [3.75/4, 3.5/4] = [0.9375, 0.875].
    set_param(net->layer(0), 0, {1, -0.5f, 0.25f, -2, -1, 1, 1, 0.5f});
    // x = [0.5, -2, 1, 0]: s(x) = [1, -1, 1, 1], beta = 3.5 / 4 = 0.875.
    // dots: [1+1+1-1, -1-1+1+1] = [2, 0] -> out = [2 * 0.9375 * 0.875, 0] = [1.640625, 0].
    const std::vector<float> x = {0.5f, -2, 1, 0};
    require_values(run_forward(*net, x, 1, true), {1.640625f, 0.0f});
    require_values(run_forward(*net, x, 1, false), {1.640625f, 0.0f});
}

TEST_CASE("Darknet's XNOR convolution (xnor_scale=none), by hand, training and bit-packed inference",
          "[layers][binary]") {
    EACH_BACKEND();
    for (const bool packed : {true, false})
        for (const std::string keys : {"xnor=1\n", "xnor=1\nxnor_scale=none\n"}) {
            BuildOptions build;
            build.threads = 1;
            build.backend = backend_under_test();
            build.max_batch = 1;
            build.packed_binary = packed;
            auto net = Network::from_sections(
                lenet::parse_cfg(net_section(1, 3, 3) + "[convolutional]\n" + keys +
                                     "filters=1\nsize=2\nactivation=linear\n",
                                 "test.cfg"),
                build);
            set_param(net->layer(0), 0, {0.5f, -1.5f, -2.0f, 1.0f});  // alpha 1.25, s(W) = [1, -1, -1, 1]
            set_param(net->layer(0), 1, {0.5f});
            // x = [1 -2 3; 0 5 -1; 2 2 -4]: s(x) = [1 -1 1; -1 1 -1; 1 1 -1] (s(0) = -1), no K.
            // dots = s00 - s01 - s10 + s11 per window: (0,0) 1+1+1+1 = 4, (0,1) -1-1-1-1 = -4,
            // (1,0) -1-1-1+1 = -2, (1,1) 1+1-1-1 = 0. out = dots * 1.25 + 0.5: 5.5, -4.5, -2, 0.5.
            const std::vector<float> x = {1, -2, 3, 0, 5, -1, 2, 2, -4};
            const std::vector<float> expected = {5.5f, -4.5f, -2.0f, 0.5f};
            INFO("packed inference: " << packed << ", keys: " << keys);
            require_values(run_forward(*net, x, 1, true), expected);
            require_values(run_forward(*net, x, 1, false), expected);
        }
}

TEST_CASE("Darknet's XNOR convolution: zero padding adds nothing, at the border too", "[layers][binary]") {
    EACH_BACKEND();
    for (const bool packed : {true, false}) {
        BuildOptions build;
        build.threads = 1;
        build.backend = backend_under_test();
        build.max_batch = 1;
        build.packed_binary = packed;
        auto net = Network::from_sections(
            lenet::parse_cfg(net_section(1, 2, 2) + "[convolutional]\nxnor=1\nfilters=1\nsize=3\npad=1\nactivation=linear\n",
                             "test.cfg"),
            build);
        // All weights -1 (alpha 1), x = [2 0; -3 1]: s(x) = [1 -1; -1 1] sums to 0 over every window
        // (each 3x3 window holds the whole image). Padded taps as -1 (AlexeyAB's packed path) would
        // add 5 products of (-1)(-1) = +5 per output instead.
        set_param(net->layer(0), 0, std::vector<float>(9, -1.0f));
        set_param(net->layer(0), 1, {0.0f});
        const std::vector<float> x = {2, 0, -3, 1};
        INFO("packed inference: " << packed);
        require_values(run_forward(*net, x, 1, true), {0.0f, 0.0f, 0.0f, 0.0f});
        require_values(run_forward(*net, x, 1, false), {0.0f, 0.0f, 0.0f, 0.0f});
    }
}

TEST_CASE("Darknet's XNOR connected (xnor_scale=none), by hand", "[layers][binary]") {
    EACH_BACKEND();
    auto net = make_net(net_section(4, 1, 1) + "[connected]\nxnor=1\noutput=2\nactivation=linear\n", 1, 1);
    // W = [[1, -0.5, 0.25, -2], [-1, 1, 1, 0.5]]: alpha = [0.9375, 0.875].
    set_param(net->layer(0), 0, {1, -0.5f, 0.25f, -2, -1, 1, 1, 0.5f});
    // x = [0.5, -2, 1, 0]: s(x) = [1, -1, 1, -1], no beta. dots: [1+1+1+1, -1-1+1-1] = [4, -2]
    // -> out = [4 * 0.9375, -2 * 0.875] = [3.75, -1.75].
    const std::vector<float> x = {0.5f, -2, 1, 0};
    require_values(run_forward(*net, x, 1, true), {3.75f, -1.75f});
    require_values(run_forward(*net, x, 1, false), {3.75f, -1.75f});
}

TEST_CASE("Darknet's XNOR connected: straight-through and alpha gradient terms, by hand", "[layers][binary]") {
    EACH_BACKEND();
    auto net = make_net(net_section(2, 1, 1) + "[connected]\nxnor=1\nxnor_scale=none\noutput=1\nactivation=linear\n",
                        1, 1);
    // W = [0.5, -2], x = [0.5, -2]: alpha = 1.25, s(W) = s(x) = [1, -1], dots = 2, y = 2.5. L = y.
    set_param(net->layer(0), 0, {0.5f, -2.0f});
    const SingleOutputGrads g = single_output_grads(*net, {0.5f, -2.0f});
    require_values(g.output, {2.5f});
    // dL/dW~ = s(x) = [1, -1]. Straight-through: alpha * that * 1{|W| <= 1} = [1.25, 0].
    // Through alpha: s(W_i) / 2 * (1 + 1) = [1, -1]. Sum: [2.25, -1].
    require_values(g.weight_grad, {2.25f, -1.0f});
    // dL/ds(x) = W~ = [1.25, -1.25]; straight-through (|x0| <= 1 only): [1.25, 0]; no beta term.
    require_values(g.input_grad, {1.25f, 0.0f});
}

TEST_CASE("binary-weight connected: straight-through and alpha gradient terms, by hand", "[layers][binary]") {
    EACH_BACKEND();
    auto net = make_net(net_section(2, 1, 1) + "[connected]\nbinary=1\noutput=1\nactivation=linear\n", 1, 1);
    // W = [0.5, -2]: alpha = 1.25, s(W) = [1, -1]; x = [1, 2]: y = 1.25 * (1 - 2) = -1.25. L = y.
    set_param(net->layer(0), 0, {0.5f, -2.0f});
    const SingleOutputGrads g = single_output_grads(*net, {1, 2});
    require_values(g.output, {-1.25f});
    // dL/dW~ = x = [1, 2]. Straight-through: alpha * [1, 2] * 1{|W| <= 1} = [1.25, 0].
    // Through alpha: s(W_i) / 2 * (1 * 1 + 2 * -1) = s(W_i) * -0.5 = [-0.5, 0.5]. Sum: [0.75, 0.5].
    require_values(g.weight_grad, {0.75f, 0.5f});
    // dL/dx = W~ = [1.25, -1.25].
    require_values(g.input_grad, {1.25f, -1.25f});
}

TEST_CASE("XNOR connected: straight-through, alpha and beta gradient terms, by hand", "[layers][binary]") {
    EACH_BACKEND();
    auto net = make_net(net_section(2, 1, 1) + "[connected]\nxnor=1\nxnor_scale=k\noutput=1\nactivation=linear\n", 1, 1);
    // W = [0.5, -2], x = [0.5, -2]: alpha = beta = 1.25, s(W) = s(x) = [1, -1], dots = 2,
    // y = 2 * 1.25 * 1.25 = 3.125. L = y.
    set_param(net->layer(0), 0, {0.5f, -2.0f});
    const SingleOutputGrads g = single_output_grads(*net, {0.5f, -2.0f});
    require_values(g.output, {3.125f});
    // dL/dW~ = beta * s(x) = [1.25, -1.25]. Straight-through: alpha * that * 1{|W| <= 1} = [1.5625, 0].
    // Through alpha: s(W_i) / 2 * (1.25 + 1.25) = [1.25, -1.25]. Sum: [2.8125, -1.25].
    require_values(g.weight_grad, {2.8125f, -1.25f});
    // dL/ds(x) = beta * W~ = 1.25 * [1.25, -1.25]; straight-through (|x0| <= 1 only): [1.5625, 0].
    // Through beta: dL/dbeta = alpha * dots = 2.5, times s(x_i) / 2 = [1.25, -1.25]. Sum: [2.8125, -1.25].
    require_values(g.input_grad, {2.8125f, -1.25f});
}

// Linear activations: outputs of +-1.6 weights reach tens, where tanh or logistic would saturate and
// leave nothing to check. (With batch_normalize the output does not depend on alpha at all.)
TEST_CASE("binary-weight layer gradients away from the sign's kink (alpha term)", "[layers][binary]") {
    EACH_BACKEND();
    check_layer_gradients_threads(
        net_section(3, 5, 7) + "[convolutional]\nbinary=1\nfilters=4\nsize=3\nstride=2\npad=1\nactivation=linear\n", 3,
        random_values(3 * 3 * 5 * 7, 71), 72, weights_away_from_kink(73));
    check_layer_gradients_threads(net_section(2, 3, 2) + "[connected]\nbinary=1\noutput=5\nactivation=linear\n", 3,
                                  random_values(3 * 12, 77), 78, weights_away_from_kink(79));
}

TEST_CASE("XNOR layer gradients away from the sign's kink (alpha and K/beta terms)", "[layers][binary]") {
    EACH_BACKEND();
    check_layer_gradients_threads(
        net_section(3, 5, 7) + "[convolutional]\nxnor=1\nxnor_scale=k\nfilters=4\nsize=3\nstride=2\npad=1\nactivation=linear\n", 3,
        away_from_kink(3 * 3 * 5 * 7, 81), 82, weights_away_from_kink(83));
    check_layer_gradients_threads(
        net_section(2, 4, 5) + "[convolutional]\nxnor=1\nxnor_scale=k\nfilters=3\nsize=2\nstride=1\nactivation=linear\n", 2,
        away_from_kink(2 * 2 * 4 * 5, 84), 85, weights_away_from_kink(86));
    check_layer_gradients_threads(
        net_section(3, 3, 3) + "[convolutional]\nxnor=1\nxnor_scale=k\nfilters=2\nsize=1\nstride=1\nactivation=linear\n", 2,
        away_from_kink(2 * 27, 87), 88, weights_away_from_kink(89));
    check_layer_gradients_threads(net_section(2, 3, 2) + "[connected]\nxnor=1\nxnor_scale=k\noutput=5\nactivation=linear\n", 3,
                                  away_from_kink(3 * 12, 91), 92, weights_away_from_kink(93));
}

// Without K or beta, and with every |x| > 1, the input gradient vanishes; the weights' (alpha) is checked.
TEST_CASE("Darknet's XNOR layer gradients away from the sign's kink (alpha term)", "[layers][binary]") {
    EACH_BACKEND();
    check_layer_gradients_threads(
        net_section(3, 5, 7) + "[convolutional]\nxnor=1\nfilters=4\nsize=3\nstride=2\npad=1\nactivation=linear\n", 3,
        away_from_kink(3 * 3 * 5 * 7, 181), 182, weights_away_from_kink(183), true);
    check_layer_gradients_threads(
        net_section(2, 4, 5) + "[convolutional]\nxnor=1\nxnor_scale=none\nfilters=3\nsize=2\nstride=1\npad=1\n"
                               "activation=linear\n",
        2, away_from_kink(2 * 2 * 4 * 5, 184), 185, weights_away_from_kink(186), true);
    check_layer_gradients_threads(net_section(2, 3, 2) + "[connected]\nxnor=1\noutput=5\nactivation=linear\n", 3,
                                  away_from_kink(3 * 12, 191), 192, weights_away_from_kink(193), true);
}

TEST_CASE("XNOR convolution: straight-through input and weight terms match a float convolution", "[layers][binary]") {
    EACH_BACKEND();
    // With |W| <= 1 and |x| <= 1 everywhere the straight-through terms are on. For a convolution of
    // K = 1 inputs... K varies, so compare against the decomposition: analytic = numeric (alpha/K
    // terms, signs fixed under the step) + straight-through terms computed from a float layer.
    // The float layer: weights W~ = alpha * s(W), input s(x), output scaled by K, is the same function
    // of (W~, s(x)); its gradients with respect to W~ and s(x) give dL/dW~ and dL/ds(x).
    const std::string binary_cfg =
        net_section(2, 4, 4) + "[convolutional]\nxnor=1\nxnor_scale=k\nfilters=2\nsize=3\nstride=1\npad=1\nactivation=linear\n";
    auto net = make_net(binary_cfg, 1, 1);
    std::vector<float> w = random_values(2 * 2 * 9, 101, -0.9f, 0.9f);
    for (auto& v : w)
        if (std::abs(v) < 0.1f) v = 0.5f;  // no weight within the step of 0
    set_param(net->layer(0), 0, w);
    set_param(net->layer(0), 1, {0.0f, 0.0f});
    std::vector<float> x = random_values(2 * 16, 102, -0.9f, 0.9f);
    for (auto& v : x)
        if (std::abs(v) < 0.1f) v = -0.5f;
    const Loss loss = weighted_sum_loss(103);
    LayerRun run(*net, 0, 1);
    net->zero_param_grads();
    const std::vector<float> y = run.forward(x, true);
    std::vector<float> delta(y.size());
    loss.output_grad(y.data(), y.size(), delta.data());
    const std::vector<float> input_grad = run.backward(x, delta);
    const Param weights = run.layer().params()[0];
    const std::vector<float> weight_grad(weights.grad, weights.grad + weights.size);
    auto value = [&] { return loss.value(run.forward(x, true).data(), y.size()); };
    const std::vector<double> numeric_w = numeric_gradient(weights.value, weights.size, 1e-3f, value);
    const std::vector<double> numeric_x = numeric_gradient(x.data(), x.size(), 1e-3f, value);

    // K per output position (3x3 box of the channel mean of |x|, zero padded, / 9) and alpha.
    std::vector<float> k(16, 0.0f), alpha(2, 0.0f);
    for (int oy = 0; oy < 4; ++oy)
        for (int ox = 0; ox < 4; ++ox)
            for (int dy = -1; dy <= 1; ++dy)
                for (int dx = -1; dx <= 1; ++dx) {
                    const int yy = oy + dy, xx = ox + dx;
                    if (yy < 0 || yy >= 4 || xx < 0 || xx >= 4) continue;
                    k[std::size_t(oy * 4 + ox)] += (std::abs(x[std::size_t(yy * 4 + xx)]) +
                                                    std::abs(x[std::size_t(16 + yy * 4 + xx)])) / 2.0f / 9.0f;
                }
    for (int f = 0; f < 2; ++f)
        for (int i = 0; i < 18; ++i) alpha[std::size_t(f)] += std::abs(w[std::size_t(f * 18 + i)]) / 18.0f;
    // dL/dW~[f][c][ky][kx] = sum_p r[f][p] K[p] s(x at the tap), dL/ds(x) = sum r K W~ at the taps.
    std::vector<double> grad_w_tilde(w.size(), 0.0), grad_sx(x.size(), 0.0);
    std::vector<float> r(y.size());
    loss.output_grad(y.data(), y.size(), r.data());
    for (int f = 0; f < 2; ++f)
        for (int oy = 0; oy < 4; ++oy)
            for (int ox = 0; ox < 4; ++ox)
                for (int c = 0; c < 2; ++c)
                    for (int ky = 0; ky < 3; ++ky)
                        for (int kx = 0; kx < 3; ++kx) {
                            const int yy = oy + ky - 1, xx = ox + kx - 1;
                            if (yy < 0 || yy >= 4 || xx < 0 || xx >= 4) continue;
                            const std::size_t wi = std::size_t(((f * 2 + c) * 3 + ky) * 3 + kx);
                            const std::size_t xi = std::size_t((c * 4 + yy) * 4 + xx);
                            const double rk = double(r[std::size_t(f * 16 + oy * 4 + ox)]) * k[std::size_t(oy * 4 + ox)];
                            grad_w_tilde[wi] += rk * (x[xi] >= 0 ? 1.0 : -1.0);
                            grad_sx[xi] += rk * alpha[std::size_t(f)] * (w[wi] >= 0 ? 1.0 : -1.0);
                        }
    std::vector<double> expected_w(w.size()), expected_x(x.size());
    for (std::size_t i = 0; i < w.size(); ++i)
        expected_w[i] = numeric_w[i] + alpha[i / 18] * grad_w_tilde[i];  // all |W| <= 1
    for (std::size_t i = 0; i < x.size(); ++i) expected_x[i] = numeric_x[i] + grad_sx[i];  // all |x| <= 1
    check_gradient("weights (straight-through + alpha)", weight_grad, expected_w);
    check_gradient("input (straight-through + K)", input_grad, expected_x);
}

TEST_CASE("bit-packed inference equals the float simulation bit for bit", "[layers][binary]") {
    // Odd channel counts, padding, stride, batch norm, a 1x1 XNOR convolution and an XNOR connected
    // layer (reading a ReLU's exact zeros); each backend, 1 and 3 threads; XNOR-Net's K and beta,
    // Darknet's unscaled layers (s(0) = -1), and the two mixed.
    auto cfg_with = [](const char* conv1, const char* conv2, const char* conn) {
        return net_section(3, 9, 11) + "[convolutional]\nfilters=5\nsize=3\nstride=1\npad=1\nactivation=leaky\n" +
               "[convolutional]\nxnor=1\nxnor_scale=" + conv1 +
               "\nbatch_normalize=1\nfilters=67\nsize=3\nstride=2\npad=1\nactivation=relu\n"
               "[batchnorm]\n"
               "[convolutional]\nxnor=1\nxnor_scale=" + conv2 + "\nfilters=7\nsize=1\nstride=1\nactivation=linear\n" +
               "[convolutional]\nbinary=1\nfilters=6\nsize=2\nstride=1\npad=1\nactivation=relu\n"
               "[connected]\nxnor=1\nxnor_scale=" + conn + "\nbatch_normalize=1\noutput=33\nactivation=tanh\n" +
               "[connected]\noutput=4\nactivation=linear\n";
    };
    const std::vector<Backend> backends = lenet::test::all_backends();
    const std::vector<float> x = random_values(5 * 3 * 9 * 11, 111);
    for (const std::string& cfg :
         {cfg_with("k", "k", "k"), cfg_with("none", "none", "none"), cfg_with("k", "none", "k")}) {
        for (const Backend backend : backends)
            for (const int threads : {1, 3}) {
                std::vector<std::vector<float>> outputs;
                for (const bool packed : {true, false}) {
                    BuildOptions build;
                    build.threads = threads;
                    build.backend = backend;
                    build.max_batch = 5;
                    build.packed_binary = packed;
                    auto net = Network::from_sections(lenet::parse_cfg(cfg, "test.cfg"), build);
                    randomize_non_decay_params(*net, 112);
                    run_forward(*net, x, 5, true);  // rolling statistics away from their initial values
                    outputs.push_back(run_forward(*net, x, 5, false));
                    // Fewer images than threads: each image is split over the pool.
                    const std::vector<float> two(x.begin(), x.begin() + std::ptrdiff_t(2 * 3 * 9 * 11));
                    outputs.push_back(run_forward(*net, two, 2, false));
                }
                INFO(lenet::backend_name(backend) << ", " << threads << " thread(s), " << cfg);
                CHECK(outputs[0] == outputs[2]);
                CHECK(outputs[1] == outputs[3]);
                CHECK(std::equal(outputs[1].begin(), outputs[1].end(), outputs[0].begin()));
            }
    }
}

namespace {

// The cfg file's text with its [net] width and height set to `size` (the first such lines).
std::string cfg_at_size(const std::string& path, int size) {
    std::ifstream in(path);
    REQUIRE(in);
    std::stringstream text;
    text << in.rdbuf();
    std::string cfg = text.str();
    for (const std::string key : {"width=", "height="}) {
        const std::size_t at = cfg.find("\n" + key);
        REQUIRE(at != std::string::npos);
        const std::size_t end = cfg.find('\n', at + 1);
        cfg.replace(at + 1, end - at - 1, key + std::to_string(size));
    }
    return cfg;
}

}  // namespace

TEST_CASE("XNOR detectors: bit-packed inference equals the float simulation bit for bit", "[layers][binary][detector]") {
    // AlexeyAB's yolov3-tiny_xnor.cfg (xnor_scale=none, BN + leaky on every XNOR conv, max pools
    // with the stride-1 one, route, upsample, two heads) and the digit detector's layout ([batchnorm]
    // before each XNOR conv) at 96x96, random parameters with negative batch-norm scales, on a
    // smooth image with noise and a block of exact zeros; both heads compared, 1 and 2 threads
    // (one image: each layer split over the pool), every backend.
    // yolov3-tiny_xnor's first conv (3 channels, BN) absorbs its pool at inference on AVX2.
    // Consecutive binary layers stay bit-packed (sign planes), through max pools (the digit
    // detector's pools before a [batchnorm] with negative scales pool those channels by AND),
    // [batchnorm], route and upsample; the layers that do are listed.
    const std::map<std::string, std::vector<int>> sign_plane_layers{
        {"cfg/bench/yolov3-tiny_xnor.cfg", {2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 18, 19, 20}},
        {"cfg/yolo_digits_xnor.cfg", {3, 4, 5, 6, 7, 8, 9, 10, 11, 15, 16}}};
    for (const char* name : {"cfg/bench/yolov3-tiny_xnor.cfg", "cfg/yolo_digits_xnor.cfg"}) {
        const std::string cfg = cfg_at_size(std::string(LENET_SOURCE_DIR) + "/" + name, 96);
        for (const Backend backend : lenet::test::all_backends()) {
            std::vector<std::vector<float>> one_thread;
            for (const int threads : {1, 2}) {
                // Packed and simulated, built for inference (the first conv absorbs its pool there),
                // and the simulation built for training, unfused.
                std::vector<std::vector<float>> heads[3];
                for (const int variant : {0, 1, 2}) {
                    BuildOptions build;
                    build.threads = threads;
                    build.backend = backend;
                    build.max_batch = 1;
                    build.packed_binary = variant == 0;
                    build.inference = variant < 2;
                    build.fuse = variant < 2;
                    auto net = Network::from_sections(lenet::parse_cfg(cfg, name), build);
                    Rng rng(21);
                    for (const Param& p : net->params())
                        if (!p.decay)
                            for (std::size_t i = 0; i < p.size; ++i) p.value[i] = rng.uniform(-1.5f, 1.5f);
                    const lenet::Shape in = net->input_shape();
                    std::vector<float> image(in.size());
                    for (int c = 0; c < in.c; ++c)
                        for (int y = 0; y < in.h; ++y)
                            for (int x = 0; x < in.w; ++x) {
                                const bool zero = y >= 10 && y < 30 && x >= 40 && x < 70;
                                image[(std::size_t(c) * in.h + y) * in.w + x] =
                                    zero ? 0.0f : 0.5f + 0.4f * std::sin(0.11f * float(x + 3 * c) + 0.07f * float(y)) +
                                                      0.1f * rng.uniform(-1.0f, 1.0f);
                            }
                    std::vector<int> packed_layers;
                    for (int i = 0; i < net->layer_count(); ++i)
                        if (net->sign_planes(i)) packed_layers.push_back(i);
                    CHECK(packed_layers == (variant == 0 ? sign_plane_layers.at(name) : std::vector<int>{}));
                    net->forward(image.data(), 1, false);
                    for (const int layer : net->output_layers()) {
                        const float* y = net->output(layer);
                        heads[variant].emplace_back(y, y + net->layer(layer).output_shape().size());
                    }
                }
                INFO(name << ", " << lenet::backend_name(backend) << ", " << threads << " thread(s)");
                REQUIRE(heads[0].size() == 2);
                CHECK(heads[0] == heads[1]);
                CHECK(heads[1] == heads[2]);
                // Layers split over the pool (im2col by channels, pools, transforms) change nothing.
                if (threads == 1) one_thread = heads[0];
                else CHECK(heads[0] == one_thread);
            }
        }
    }
}
