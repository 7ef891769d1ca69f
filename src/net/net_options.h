// The [net] section: input shape, batch, and everything about the optimisation.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cfg/cfg.h"
#include "core/shape.h"

namespace lenet {

enum class LrPolicy { constant, steps, step, exp, poly };

struct NetOptions {
    int batch = 1;
    int subdivisions = 1;
    Shape input{1, 1, 1};
    float learning_rate = 0.001f;
    float momentum = 0.9f;
    float decay = 0.0001f;
    LrPolicy policy = LrPolicy::constant;
    std::vector<int> steps;
    std::vector<float> scales;
    int step = 1;
    float scale = 1.0f;
    float gamma = 1.0f;
    float power = 4.0f;
    int max_batches = 0;  // 0: derived from epochs
    int burn_in = 0;
    bool adam = false;
    float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
    int epochs = 0;  // lenet extension; used when max_batches is 0
    std::uint64_t seed = 1;  // lenet extension
    // Darknet's colour augmentation and mirror, applied by detector training (data/augment.h).
    // flip defaults to 0 (Darknet: 1): a mirrored digit is no digit.
    float hue = 0, saturation = 1, exposure = 1;
    bool flip = false;
    float angle = 0;  // classifier training: a random rotation in [-angle, angle] degrees

    int minibatch() const { return batch / subdivisions; }
};

NetOptions parse_net_options(const CfgSection& section);

// Darknet's learning rate at a given update (batch) number, burn-in included.
float learning_rate_at(const NetOptions& options, long long batch_number, long long max_batches);

}  // namespace lenet
