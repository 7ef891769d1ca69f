// Layer fusion (Layer::absorb_next): a network built with fusion must compute what the same network
// computes layer by layer. A convolution that absorbs the max pool after it produces the same pooled
// outputs bit for bit (the same kernels run in the same order, per image); its gradients differ by
// rounding only (the bias gradient is summed over the pooled gradients, the zeros left out), so they
// are compared with a tolerance of 1e-5 relative to the largest gradient of each array. Pool
// geometries include Darknet's default padding, overlapping windows (size 3 / stride 2) and
// windows that hang over odd edges; the direct forward of small convolutions (the seed's first layer,
// 3 channels with padding, stride 2); channels in multiples of 8 (the channels-last backward); threads
// 1 and 2; both backends.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cfg/cfg.h"
#include "core/rng.h"
#include "kernels/backend.h"
#include "kernels/ops.h"
#include "net/network.h"

namespace {

using lenet::Backend;
using lenet::BuildOptions;
using lenet::Network;
using lenet::Param;

std::unique_ptr<Network> build(const std::string& cfg, Backend backend, int threads, int batch, bool fuse) {
    BuildOptions options;
    options.threads = threads;
    options.backend = backend;
    options.max_batch = batch;
    options.fuse = fuse;
    return Network::from_sections(lenet::parse_cfg(cfg, "fusion.cfg"), options);
}

std::vector<float> random_values(std::size_t n, std::uint64_t seed) {
    lenet::Rng rng(seed);
    std::vector<float> v(n);
    for (auto& x : v) x = rng.uniform(-1.0f, 1.0f);
    return v;
}

struct Result {
    std::vector<float> train_output, test_output;
    std::vector<std::vector<float>> grads;
};

Result run(Network& net, const std::vector<float>& input, int batch) {
    Result r;
    const std::size_t outputs = std::size_t(batch) * net.output_shape().size();
    const float* out = net.forward(input.data(), batch, false);
    r.test_output.assign(out, out + outputs);
    out = net.forward(input.data(), batch, true);
    r.train_output.assign(out, out + outputs);
    // A first backward leaves other values in the inner gradient buffers: a layer that sets its
    // input gradient (the network does not zero it) must overwrite every one of them.
    const std::vector<float> other_dy = random_values(outputs, 9);
    std::copy(other_dy.begin(), other_dy.end(), net.output_grad());
    net.backward(input.data(), batch);
    const std::vector<float> dy = random_values(outputs, 7);
    std::copy(dy.begin(), dy.end(), net.output_grad());
    net.zero_param_grads();
    net.backward(input.data(), batch);
    for (const Param& p : net.params()) r.grads.emplace_back(p.grad, p.grad + p.size);
    return r;
}

std::string cfg_for(int channels, int height, int width, const std::string& conv, const std::string& pool) {
    std::ostringstream s;
    s << "[net]\nbatch=1\nwidth=" << width << "\nheight=" << height << "\nchannels=" << channels << "\n"
      << "[convolutional]\n" << conv << "[maxpool]\n" << pool  // the first pair has no input gradient
      << "[convolutional]\n" << conv << "[maxpool]\n" << pool  // the second pair has one
      << "[connected]\noutput=5\nactivation=linear\n";
    return s.str();
}

}  // namespace

TEST_CASE("a convolution fused with its max pool computes what the two layers compute", "[layers][fusion]") {
    struct Case {
        int channels, height, width;
        std::string conv, pool;
    };
    const Case cases[] = {
        {1, 28, 28, "filters=32\nsize=3\nactivation=relu\n", "size=2\nstride=2\n"},  // the seed LeNet's
        {2, 13, 11, "filters=5\nsize=2\nactivation=relu\n", "size=2\nstride=2\npadding=0\n"},
        {3, 15, 17, "filters=7\nsize=3\npad=1\nstride=2\nactivation=leaky\n", "size=3\nstride=2\n"},
        {2, 12, 9, "filters=3\nsize=1\nactivation=logistic\n", "size=2\nstride=1\n"},
        {1, 19, 19, "filters=4\nsize=5\npad=1\nactivation=linear\n", "size=2\nstride=2\n"},
        {1, 9, 10, "filters=2\nsize=2\nactivation=relu\n", "size=2\nstride=2\npadding=4\n"},  // empty windows
        // Few taps, filters in multiples of 8 and an even output take the direct forward (where a backend has one).
        {1, 19, 19, "filters=16\nsize=5\npadding=2\nstride=2\nactivation=relu\n", "size=2\nstride=2\n"},
        // Channels in multiples of 8 take the channels-last backward.
        {3, 14, 12, "filters=8\nsize=3\npad=1\nactivation=leaky\n", "size=2\nstride=2\n"},
        {16, 11, 11, "filters=16\nsize=2\nstride=2\nactivation=relu\n", "size=3\nstride=2\n"},
        {8, 9, 9, "filters=8\nsize=1\nactivation=relu\n", "size=2\nstride=2\npadding=4\n"},
        {32, 13, 13, "filters=32\nsize=2\nactivation=relu\n", "size=2\nstride=2\n"},  // the seed's second
    };
    for (const Case& c : cases)
        for (const Backend backend : lenet::kernels::available_backends()) {
            for (const int threads : {1, 2}) {
                const std::string cfg = cfg_for(c.channels, c.height, c.width, c.conv, c.pool);
                INFO(cfg << "backend " << lenet::backend_name(backend) << ", " << threads << " threads");
                const int batch = 3;
                auto fused = build(cfg, backend, threads, batch, true);
                auto plain = build(cfg, backend, threads, batch, false);
                REQUIRE((fused->absorbed(1) && fused->absorbed(3) && !plain->absorbed(1)));
                const std::vector<float> input = random_values(std::size_t(batch) * fused->input_shape().size(), 5);
                const Result want = run(*plain, input, batch), got = run(*fused, input, batch);
                CHECK(got.test_output == want.test_output);
                CHECK(got.train_output == want.train_output);
                REQUIRE(got.grads.size() == want.grads.size());
                for (std::size_t p = 0; p < want.grads.size(); ++p) {
                    float scale = 1e-20f;
                    for (const float g : want.grads[p]) scale = std::max(scale, std::abs(g));
                    for (std::size_t i = 0; i < want.grads[p].size(); ++i) {
                        INFO("parameter array " << p << ", element " << i);
                        REQUIRE(std::abs(got.grads[p][i] - want.grads[p][i]) <= 1e-5f * scale);
                    }
                }
            }
        }
}
