#include "net/net_options.h"

#include <algorithm>
#include <cmath>

namespace lenet {

namespace {
// [net] keys Darknet reads for data augmentation and detector training; lenet ignores them.
const std::vector<std::string_view> kDarknetNetKeys = {
    "inputs", "max_crop", "min_crop", "max_ratio", "min_ratio", "center", "clip", "aspect", "jitter", "random",
    "mosaic", "cutmix", "mixup", "blur", "letter_box", "track", "augment_speed", "sequential_subdivisions",
    "try_fix_nan", "label_smooth_eps",
    "resize_step", "adversarial_lr", "attention", "gaussian_noise", "loss_scale", "dynamic_minibatch",
    "optimized_memory", "workspace_size_limit_MB", "max_chart_loss", "time_steps", "notruth", "mini_batch",
    "hue_shift", "contrastive", "unsupervised", "cudnn_half"};
}  // namespace

NetOptions parse_net_options(const CfgSection& section) {
    if (section.name != "net" && section.name != "network")
        section.fail_section("the first section must be [net] (or [network])");
    NetOptions o;
    o.batch = section.get_int("batch", 1, 1, 1 << 20);
    o.subdivisions = section.get_int("subdivisions", 1, 1, 1 << 20);
    if (o.batch % o.subdivisions != 0)
        section.fail("subdivisions", cat("batch=", o.batch, " is not a multiple of subdivisions=", o.subdivisions));
    o.input.w = section.get_int("width", 0, 0, 1 << 16);
    o.input.h = section.get_int("height", 0, 0, 1 << 16);
    o.input.c = section.get_int("channels", 0, 0, 1 << 16);
    if (o.input.w == 0 || o.input.h == 0 || o.input.c == 0)
        section.fail_section("width, height and channels are required and must be positive");
    o.learning_rate = section.get_float("learning_rate", o.learning_rate);
    if (o.learning_rate < 0) section.fail("learning_rate", "expected a non-negative number");
    o.momentum = section.get_float("momentum", o.momentum);
    o.decay = section.get_float("decay", o.decay);
    if (o.momentum < 0 || o.momentum >= 1) section.fail("momentum", "expected a number in [0, 1)");
    if (o.decay < 0) section.fail("decay", "expected a non-negative number");
    const std::string policy = section.get_choice("policy", "constant", {"constant", "steps", "step", "exp", "poly"});
    o.policy = policy == "steps"  ? LrPolicy::steps
               : policy == "step" ? LrPolicy::step
               : policy == "exp"  ? LrPolicy::exp
               : policy == "poly" ? LrPolicy::poly
                                  : LrPolicy::constant;
    o.steps = section.get_int_list("steps");
    o.scales = section.get_float_list("scales");
    o.step = section.get_int("step", 1, 1, 1 << 30);
    o.scale = section.get_float("scale", 1.0f);
    o.gamma = section.get_float("gamma", 1.0f);
    o.power = section.get_float("power", 4.0f);
    if (o.policy == LrPolicy::steps) {
        if (o.steps.empty()) section.fail_section("policy=steps needs steps= (and scales=)");
        if (o.steps.size() != o.scales.size())
            section.fail("scales", cat("has ", o.scales.size(), " values but steps= has ", o.steps.size()));
        for (std::size_t i = 1; i < o.steps.size(); ++i)
            if (o.steps[i] < o.steps[i - 1]) section.fail("steps", "expected increasing batch numbers");
    }
    o.max_batches = section.get_int("max_batches", 0, 0, 1 << 30);
    o.burn_in = section.get_int("burn_in", 0, 0, 1 << 30);
    o.adam = section.get_bool("adam", false);
    o.b1 = section.get_float("B1", o.b1);
    o.b2 = section.get_float("B2", o.b2);
    o.eps = section.get_float("eps", o.eps);
    if (o.b1 < 0 || o.b1 >= 1) section.fail("B1", "expected a number in [0, 1)");
    if (o.b2 < 0 || o.b2 >= 1) section.fail("B2", "expected a number in [0, 1)");
    if (o.eps <= 0) section.fail("eps", "expected a positive number");
    o.epochs = section.get_int("epochs", 0, 0, 1 << 20);
    o.seed = std::uint64_t(section.get_int("seed", 1, 0, 2147483647));
    o.hue = section.get_float("hue", o.hue);
    if (!(o.hue >= 0 && o.hue <= 1)) section.fail("hue", "expected a number in [0, 1] (a fraction of the colour circle)");
    o.saturation = section.get_float("saturation", o.saturation);
    if (!(o.saturation > 0 && o.saturation <= 10)) section.fail("saturation", "expected a number in (0, 10]");
    o.exposure = section.get_float("exposure", o.exposure);
    if (!(o.exposure > 0 && o.exposure <= 10)) section.fail("exposure", "expected a number in (0, 10]");
    o.flip = section.get_bool("flip", false);
    o.angle = section.get_float("angle", o.angle);
    if (!(o.angle >= 0 && o.angle <= 180)) section.fail("angle", "expected a number of degrees in [0, 180]");
    section.finish(kDarknetNetKeys);
    return o;
}

float learning_rate_at(const NetOptions& o, long long batch_number, long long max_batches) {
    if (batch_number < o.burn_in)
        return o.learning_rate * std::pow(float(batch_number) / float(o.burn_in), o.power);
    switch (o.policy) {
        case LrPolicy::constant: return o.learning_rate;
        case LrPolicy::step: return o.learning_rate * std::pow(o.scale, float(batch_number / o.step));
        case LrPolicy::steps: {
            float rate = o.learning_rate;
            for (std::size_t i = 0; i < o.steps.size(); ++i) {
                if (o.steps[i] > batch_number) return rate;
                rate *= o.scales[i];
            }
            return rate;
        }
        case LrPolicy::exp: return o.learning_rate * std::pow(o.gamma, float(batch_number));
        case LrPolicy::poly:
            if (max_batches <= 0) return o.learning_rate;
            return o.learning_rate * std::pow(std::max(0.0f, 1.0f - float(batch_number) / float(max_batches)), o.power);
    }
    return o.learning_rate;
}

}  // namespace lenet
