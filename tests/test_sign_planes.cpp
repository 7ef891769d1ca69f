// Bit-packed inference through consecutive binary layers (sign planes, Network::sign_planes): which
// layers the network keeps packed, and exactness where the float simulation meets a tie (an XNOR
// layer's output exactly 0, which the next layer's sign maps to -1) or a decreasing batch norm
// after a max pool. The detector cfgs' end-to-end check is in test_layers.cpp.
#include <catch2/catch.hpp>

#include <cstddef>
#include <string>
#include <vector>

#include "backends.h"
#include "cfg/cfg.h"
#include "core/rng.h"
#include "net/network.h"
#include "net_helpers.h"

namespace {

using lenet::BuildOptions;
using lenet::Network;
using lenet::Rng;

// 8 channels in, so layer 0's dots are even integers in [-8, 8]: with weights +-1 (alpha 1) and
// even integer biases, many outputs are exactly 0. The [batchnorm] after the pool has scales +-1
// and biases 0, so those zeros stay (+-0) and its negative channels pool by AND.
std::string tie_cfg(const char* last_scale) {
    return lenet::test::net_section(8, 9, 11) +
           "[convolutional]\nxnor=1\nfilters=16\nsize=1\nstride=1\nactivation=linear\n"
           "[maxpool]\nsize=2\nstride=1\n"
           "[batchnorm]\n"
           "[convolutional]\nxnor=1\nbatch_normalize=1\nfilters=13\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
           "[maxpool]\nsize=2\nstride=2\n"
           "[convolutional]\nxnor=1\nxnor_scale=" + std::string(last_scale) +
           "\nfilters=5\nsize=3\nstride=1\npad=1\nactivation=linear\n";
}

std::unique_ptr<Network> build_tie_net(const std::string& cfg, const lenet::kernels::Ops* backend, int threads,
                                       bool packed) {
    BuildOptions build;
    build.threads = threads;
    build.backend = backend;
    build.max_batch = 2;
    build.inference = true;
    build.packed_binary = packed;
    auto net = Network::from_sections(lenet::parse_cfg(cfg, "tie.cfg"), build);
    // params(): conv 0 weights, biases; batchnorm scales, biases; conv 3 weights, biases, scales; conv 5 ...
    std::vector<lenet::Param> params = net->params();
    Rng rng(5);
    for (std::size_t i = 0; i < params[0].size; ++i) params[0].value[i] = rng.below(2) ? 1.0f : -1.0f;
    for (std::size_t i = 0; i < params[1].size; ++i) params[1].value[i] = float(2 * int(rng.below(5)) - 4);
    for (std::size_t i = 0; i < params[2].size; ++i) params[2].value[i] = rng.below(2) ? 1.0f : -1.0f;
    for (std::size_t i = 0; i < params[3].size; ++i) params[3].value[i] = 0.0f;
    for (std::size_t p = 4; p < params.size(); ++p)
        for (std::size_t i = 0; i < params[p].size; ++i) params[p].value[i] = rng.uniform(-1.5f, 1.5f);
    return net;
}

}  // namespace

TEST_CASE("sign planes: ties at 0 and AND-pooled channels give the float simulation's bits", "[signs][binary]") {
    const std::string cfg = tie_cfg("none");
    const std::vector<float> image = lenet::test::random_values(2 * 8 * 9 * 11, 17);
    for (const lenet::kernels::Ops* backend : lenet::test::all_backends())
        for (const int threads : {1, 2}) {
            INFO(backend->name << ", " << threads << " thread(s)");
            std::vector<std::vector<float>> outputs;
            for (const bool packed : {true, false}) {
                auto net = build_tie_net(cfg, backend, threads, packed);
                std::vector<int> packed_layers;
                for (int i = 0; i < net->layer_count(); ++i)
                    if (net->sign_planes(i)) packed_layers.push_back(i);
                CHECK(packed_layers == (packed ? std::vector<int>{0, 1, 2, 3, 4} : std::vector<int>{}));
                for (const int batch : {1, 2}) {
                    const float* y = net->forward(image.data(), batch, false);
                    outputs.emplace_back(y, y + std::size_t(batch) * net->output_shape().size());
                }
            }
            CHECK(outputs[0] == outputs[2]);
            CHECK(outputs[1] == outputs[3]);
        }
}

TEST_CASE("sign planes: a K layer (xnor_scale=k) reads real values, so what feeds it stays float", "[signs][binary]") {
    auto net = build_tie_net(tie_cfg("k"), &lenet::kernels::best_ops(), 1, true);
    // Layers 0-2 still feed conv 3 packed; conv 3's pool feeds the K layer, so 3 and 4 write floats.
    for (int i = 0; i < net->layer_count(); ++i) {
        INFO("layer " << i);
        CHECK(net->sign_planes(i) == (i <= 2));
    }
}
