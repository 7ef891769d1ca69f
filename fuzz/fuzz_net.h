// The small fixed network the .weights target loads into (shared with gen_seeds.cpp, so the
// valid seeds match it). It has a batch-normalized convolution, pooling, a [batchnorm] (whose
// biases Darknet's layout leaves out: old-layout detection and the packed trailer), an XNOR
// convolution, a batch-normalized binary-weight connected layer and a plain one, so every
// read_weights path, float and packed, is exercised.
#pragma once
#include <memory>

#include "cfg/cfg.h"
#include "kernels/ops.h"
#include "net/network.h"

namespace lenet_fuzz {

inline constexpr const char* kWeightsCfg = R"([net]
batch=1
subdivisions=1
width=8
height=8
channels=1

[convolutional]
batch_normalize=1
filters=2
size=3
stride=1
pad=1
activation=leaky

[maxpool]
size=2
stride=2

[batchnorm]

[convolutional]
xnor=1
xnor_scale=k
filters=2
size=1
stride=1
pad=0
activation=relu

[connected]
binary=1
batch_normalize=1
output=3
activation=relu

[connected]
output=2
activation=linear

[softmax]
)";

inline std::unique_ptr<lenet::Network> make_weights_net() {
    lenet::BuildOptions build;
    build.threads = 1;
    build.backend = &lenet::kernels::reference_ops();
    build.max_batch = 1;
    return lenet::Network::from_sections(lenet::parse_cfg(kWeightsCfg, "fuzz_weights.cfg"), build);
}

}  // namespace lenet_fuzz
