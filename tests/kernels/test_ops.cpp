// Each optimized backend's op kernels (through its table, kernels/ops.h) against the reference
// kernels, on random shapes with odd sizes, strides 1-3, paddings 0-2, windows 1-5,
// channels 1-5 and batches 1-3.
//
// Bit-exact: maxpool (outputs and argmax, ties and NaN included; backward add and set), im2col, col2im_add (same order of
// additions per element), activations and their gradients, scale_add_bias, and bias/scale
// gradients when spatial == 1. NaN outputs only need to be NaN (a NaN's payload may depend on operand order).
//
// Tolerance for bias/scale gradients with spatial > 1 (8-lane partial sums, FMA for scale): each of
// the two sums of n terms is within (n - 1) * 2^-24 * sum|term| of the exact sum, so
//   |optimized - reference| <= 2 * n * 2^-24 * sum|term| (+ 1e-30 for all-zero sums).
// A lost or doubled term is off by O(|term|) >> that for the n used here. The pooled weight
// gradient (partial sums per weight, FMA) gets the same bound with n = its number of terms + 1.
// A direct convolution + max pool equals im2col + its backend's GEMM + max pool bit for bit (values,
// ties, NaN and argmax). The channels-last pooled backward is checked against an independent double-precision sum in
// CHW indexing: each float result of n terms (start value included) within n 2^-24 sum|term|.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/rng.h"
#include "core/thread_pool.h"
#include "../backends.h"
#include "kernels/backend.h"
#include "kernels/ops.h"
#include "kernels/ops/activation.h"
#include "kernels/ops/adam.h"
#include "kernels/ops/batchnorm.h"
#include "kernels/ops/channels_last.h"
#include "kernels/ops/conv_pool.h"
#include "kernels/ops/im2col.h"
#include "kernels/ops/pool.h"
#include "kernels/ops/pooled_gradient.h"

namespace {

using lenet::Activation;
using lenet::Rng;
namespace k = lenet::kernels;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kGuard = 12345.0f;  // fills the floats past an output, which must never be written
constexpr std::size_t kGuardFloats = 16;

std::uint32_t bits(float x) {
    std::uint32_t b;
    std::memcpy(&b, &x, sizeof b);
    return b;
}

bool same(float a, float b) { return (std::isnan(a) && std::isnan(b)) || bits(a) == bits(b); }

// Index of the first element that differs (bitwise, or NaN vs non-NaN), or -1.
long first_difference(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size()) return 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (!same(a[i], b[i])) return long(i);
    return -1;
}

std::string at(const std::vector<float>& got, const std::vector<float>& want, long i) {
    if (i < 0) return "all equal";
    std::ostringstream out;
    out << "first difference at " << i << ": " << got[std::size_t(i)] << " vs reference " << want[std::size_t(i)];
    return out.str();
}

int pick(Rng& rng, std::initializer_list<int> values) {
    return *(values.begin() + rng.below(values.size()));
}

// Values with many exact ties, signed zeros and the odd NaN/inf: the cases where a kernel that is
// "nearly" the reference would show.
float tricky(Rng& rng) {
    switch (rng.below(16)) {
        case 0: return 0.0f;
        case 1: return -0.0f;
        case 2: return kNaN;
        case 3: return rng.below(2) ? kInf : -kInf;
        case 4: case 5: case 6: return float(int(rng.below(5)) - 2);
        default: return rng.uniform(-2.0f, 2.0f);
    }
}

std::vector<float> random_floats(Rng& rng, std::size_t n, bool with_specials) {
    std::vector<float> v(n);
    for (float& x : v) x = with_specials ? tricky(rng) : rng.uniform(-1.0f, 1.0f);
    return v;
}

const int kOddSizes[] = {1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 16, 17, 26, 27, 33, 40};

// ---- maxpool ----

std::string describe(const k::PoolGeometry& g, int batch) {
    std::ostringstream out;
    out << "pool c=" << g.channels << " h=" << g.height << " w=" << g.width << " size=" << g.size
        << " stride=" << g.stride << " padding=" << g.padding << " batch=" << batch;
    return out.str();
}

struct PoolResult {
    std::vector<float> out;
    std::vector<std::int32_t> argmax;
};

template <class Kernel>
PoolResult run_pool(const k::PoolGeometry& g, int batch, const std::vector<float>& in, Kernel kernel) {
    const std::size_t n = std::size_t(batch) * g.channels * g.out_h() * g.out_w();
    PoolResult r{std::vector<float>(n + kGuardFloats, kGuard), std::vector<std::int32_t>(n + kGuardFloats, -7)};
    kernel(g, batch, in.data(), r.out.data(), r.argmax.data());
    return r;
}

void check_pool(const k::PoolGeometry& g, int batch, Rng& rng, const k::Ops& ops) {
    const std::vector<float> in = random_floats(rng, std::size_t(batch) * g.channels * g.height * g.width, true);
    const PoolResult want = run_pool(g, batch, in, k::maxpool_forward_reference);
    const PoolResult got = run_pool(g, batch, in, ops.maxpool_forward);
    INFO(describe(g, batch));
    const long diff = first_difference(got.out, want.out);
    INFO(at(got.out, want.out, diff));
    CHECK(diff < 0);
    CHECK(got.argmax == want.argmax);

    // Backward through the dispatcher: the same scatter as the reference.
    const std::size_t outputs = want.out.size() - kGuardFloats;
    const std::vector<float> delta = random_floats(rng, outputs, false);
    std::vector<float> grad_want = random_floats(rng, in.size(), true), grad_got = grad_want;
    k::maxpool_backward_add_reference(g, batch, delta.data(), want.argmax.data(), grad_want.data());
    ops.maxpool_backward_add(g, batch, delta.data(), want.argmax.data(), grad_got.data());
    CHECK(first_difference(grad_got, grad_want) < 0);

    // Backward, setting: every input element written (garbage before), the floats past it never.
    std::vector<float> set_delta = delta;
    if (!set_delta.empty()) set_delta[0] = -0.0f;  // 0 + -0 is +0 in the reference
    std::vector<float> set_want(in.size() + kGuardFloats, kNaN), set_got = set_want;
    std::fill(set_want.end() - kGuardFloats, set_want.end(), kGuard);
    std::fill(set_got.end() - kGuardFloats, set_got.end(), kGuard);
    k::maxpool_backward_set_reference(g, batch, set_delta.data(), want.argmax.data(), set_want.data());
    ops.maxpool_backward_set(g, batch, set_delta.data(), want.argmax.data(), set_got.data());
    const long set_diff = first_difference(set_got, set_want);
    INFO("backward_set: " << at(set_got, set_want, set_diff));
    CHECK(set_diff < 0);
}

// ---- im2col / col2im ----

std::string describe(const k::ConvGeometry& g) {
    std::ostringstream out;
    out << "conv c=" << g.channels << " h=" << g.height << " w=" << g.width << " size=" << g.size
        << " stride=" << g.stride << " pad=" << g.pad;
    return out.str();
}

std::size_t columns_floats(const k::ConvGeometry& g) {
    return std::size_t(g.channels) * g.size * g.size * g.out_h() * g.out_w();
}

template <class Kernel>
std::vector<float> run_im2col(const k::ConvGeometry& g, const std::vector<float>& image, Kernel kernel) {
    std::vector<float> columns(columns_floats(g) + kGuardFloats, kGuard);
    // Garbage where the kernel must write (NaN), the guard past the end.
    for (std::size_t i = 0; i < columns_floats(g); ++i) columns[i] = kNaN;
    kernel(g, image.data(), columns.data());
    return columns;
}

template <class Kernel>
std::vector<float> run_col2im(const k::ConvGeometry& g, const std::vector<float>& columns, std::vector<float> image,
                              Kernel kernel) {
    image.resize(image.size() + kGuardFloats, kGuard);
    kernel(g, columns.data(), image.data());
    return image;
}

void check_im2col(const k::ConvGeometry& g, Rng& rng, const k::Ops& ops) {
    INFO(describe(g));
    const std::vector<float> image = random_floats(rng, std::size_t(g.channels) * g.height * g.width, true);
    const std::vector<float> want = run_im2col(g, image, k::im2col_reference);
    const std::vector<float> got = run_im2col(g, image, ops.im2col);
    // Every column element written (no NaN left where the reference has none) and nothing past the end.
    long diff = first_difference(got, want);
    INFO("im2col " << at(got, want, diff));
    CHECK(diff < 0);

    const std::vector<float> columns = random_floats(rng, columns_floats(g), true);
    const std::vector<float> start = random_floats(rng, image.size(), true);
    const std::vector<float> sum_want = run_col2im(g, columns, start, k::col2im_add_reference);
    const std::vector<float> sum_got = run_col2im(g, columns, start, ops.col2im_add);
    diff = first_difference(sum_got, sum_want);
    INFO("col2im_add " << at(sum_got, sum_want, diff));
    CHECK(diff < 0);
}

// ---- bias / scale gradients ----

void check_channel_sums(int batch, int channels, int spatial, Rng& rng, const k::Ops& ops,
                        const lenet::Compute* threaded) {
    INFO("batch=" << batch << " channels=" << channels << " spatial=" << spatial
                  << (threaded ? " threaded" : ""));
    const std::size_t n = std::size_t(batch) * channels * spatial;
    const std::vector<float> delta = random_floats(rng, n, false), x_norm = random_floats(rng, n, false);
    const std::vector<float> start = random_floats(rng, std::size_t(channels), false);
    std::vector<float> bias_want = start, bias_got = start, scale_want = start, scale_got = start;
    k::bias_gradient_reference(delta.data(), batch, channels, spatial, bias_want.data());
    k::scale_gradient_reference(delta.data(), x_norm.data(), batch, channels, spatial, scale_want.data());
    if (threaded) {
        ops.bias_gradient(*threaded, delta.data(), batch, channels, spatial, bias_got.data());
        ops.scale_gradient(*threaded, delta.data(), x_norm.data(), batch, channels, spatial, scale_got.data());
    } else {
        ops.bias_gradient_single(delta.data(), batch, channels, spatial, bias_got.data());
        ops.scale_gradient({nullptr, &ops}, delta.data(), x_norm.data(), batch, channels, spatial, scale_got.data());
    }
    if (spatial == 1) {
        CHECK(first_difference(bias_got, bias_want) < 0);
        CHECK(first_difference(scale_got, scale_want) < 0);
        return;
    }
    const double terms = double(batch) * spatial;
    int bad = 0;
    for (int c = 0; c < channels; ++c) {
        double abs_bias = std::abs(double(start[std::size_t(c)])), abs_scale = abs_bias;
        for (int b = 0; b < batch; ++b)
            for (int s = 0; s < spatial; ++s) {
                const std::size_t i = (std::size_t(b) * channels + c) * spatial + s;
                abs_bias += std::abs(double(delta[i]));
                abs_scale += std::abs(double(delta[i]) * x_norm[i]);
            }
        const double eps = std::ldexp(1.0, -24);
        const double bias_tol = 2.0 * (terms + 1) * eps * abs_bias + 1e-30;
        const double scale_tol = 2.0 * (terms + 1) * eps * abs_scale + 1e-30;
        const std::size_t i = std::size_t(c);
        if (std::abs(double(bias_got[i]) - bias_want[i]) > bias_tol) {
            if (bad++ == 0) FAIL_CHECK("bias channel " << c << ": " << bias_got[i] << " vs " << bias_want[i]);
        }
        if (std::abs(double(scale_got[i]) - scale_want[i]) > scale_tol) {
            if (bad++ == 0) FAIL_CHECK("scale channel " << c << ": " << scale_got[i] << " vs " << scale_want[i]);
        }
    }
    CHECK(bad == 0);
}

const Activation kActivations[] = {Activation::linear, Activation::relu, Activation::leaky, Activation::logistic,
                                   Activation::tanh};

}  // namespace

TEST_CASE("each backend's 2x2 stride-2 maxpool matches the reference bit for bit, ties and NaN included",
          "[kernels][backends]") {
    SKIP_WITHOUT_OPTIMIZED_BACKEND();
    for (const k::Ops* backend : lenet::test::optimized_backends()) {
        const k::Ops& ops = *backend;
        INFO("backend " << ops.name);
        Rng rng(11);
        for (int height : kOddSizes)
            for (int width : kOddSizes)
                for (int padding : {0, 1}) {
                    const k::PoolGeometry g{1 + int(rng.below(5)), height, width, 2, 2, padding};
                    if (g.out_h() < 1 || g.out_w() < 1) continue;
                    REQUIRE(k::is_maxpool_2x2s2(g));
                    check_pool(g, 1 + int(rng.below(3)), rng, ops);
                }
        // LeNet's two pools.
        check_pool({32, 26, 26, 2, 2, 1}, 3, rng, ops);
        check_pool({32, 12, 12, 2, 2, 1}, 3, rng, ops);
    }
}

TEST_CASE("maxpool dispatch matches the reference on random geometries", "[kernels][backends]") {
    SKIP_WITHOUT_OPTIMIZED_BACKEND();
    for (const k::Ops* backend : lenet::test::optimized_backends()) {
        const k::Ops& ops = *backend;
        INFO("backend " << ops.name);
        Rng rng(12);
        for (int i = 0; i < 400; ++i) {
            const k::PoolGeometry g{1 + int(rng.below(5)),
                                    pick(rng, {1, 3, 5, 7, 13, 27, 8, 12}),
                                    pick(rng, {1, 3, 5, 7, 13, 27, 8, 12}),
                                    1 + int(rng.below(5)),
                                    1 + int(rng.below(3)),
                                    int(rng.below(3))};
            if (g.height + g.padding < g.size || g.width + g.padding < g.size) continue;
            check_pool(g, 1 + int(rng.below(3)), rng, ops);
        }
    }
}

TEST_CASE("each backend's stride-1 im2col and col2im_add match the reference bit for bit", "[kernels][backends]") {
    SKIP_WITHOUT_OPTIMIZED_BACKEND();
    for (const k::Ops* backend : lenet::test::optimized_backends()) {
        const k::Ops& ops = *backend;
        INFO("backend " << ops.name);
        Rng rng(21);
        for (int size = 1; size <= 5; ++size)
            for (int pad = 0; pad <= 2; ++pad)
                for (int height : {1, 3, 5, 7, 13, 27})
                    for (int width : kOddSizes) {
                        const k::ConvGeometry g{1 + int(rng.below(5)), height, width, size, 1, pad};
                        if (g.out_h() < 1 || g.out_w() < 1) continue;
                        check_im2col(g, rng, ops);
                    }
        // LeNet's two convolutions.
        check_im2col({1, 28, 28, 3, 1, 0}, rng, ops);
        check_im2col({32, 13, 13, 2, 1, 0}, rng, ops);
    }
}

TEST_CASE("im2col / col2im_add dispatch matches the reference for strides 1-3", "[kernels][backends]") {
    SKIP_WITHOUT_OPTIMIZED_BACKEND();
    for (const k::Ops* backend : lenet::test::optimized_backends()) {
        const k::Ops& ops = *backend;
        INFO("backend " << ops.name);
        Rng rng(22);
        for (int i = 0; i < 400; ++i) {
            const k::ConvGeometry g{1 + int(rng.below(5)),           pick(rng, {1, 3, 5, 7, 13, 27}),
                                    pick(rng, {1, 3, 5, 7, 13, 27}), 1 + int(rng.below(5)),
                                    1 + int(rng.below(3)),           int(rng.below(3))};
            if (g.out_h() < 1 || g.out_w() < 1) continue;
            check_im2col(g, rng, ops);
        }
    }
}

TEST_CASE("each backend's activations and gradients match the reference bit for bit", "[kernels][backends]") {
    SKIP_WITHOUT_OPTIMIZED_BACKEND();
    for (const k::Ops* backend : lenet::test::optimized_backends()) {
        const k::Ops& ops = *backend;
        INFO("backend " << ops.name);
        Rng rng(31);
        lenet::ThreadPool pool(3);
        const lenet::Compute threaded{&pool, &ops};
        for (Activation activation : kActivations)
            for (std::size_t n : {0, 1, 3, 7, 8, 9, 13, 16, 27, 100, 1000, 100003}) {
                INFO(lenet::activation_name(activation) << " n=" << n);
                const std::vector<float> x = random_floats(rng, n, true);
                std::vector<float> want = x, got = x, got_threaded = x;
                want.resize(n + kGuardFloats, kGuard);
                got.resize(n + kGuardFloats, kGuard);
                got_threaded.resize(n + kGuardFloats, kGuard);
                k::activate_reference(activation, want.data(), n);
                ops.activate_single(activation, got.data(), n);
                ops.activate(threaded, activation, got_threaded.data(), n);
                long diff = first_difference(got, want);
                INFO("activate " << at(got, want, diff));
                CHECK(diff < 0);
                CHECK(first_difference(got_threaded, want) < 0);

                // Gradients from outputs y = f(x), plus a few arbitrary y (NaN, negative, > 1).
                std::vector<float> y = want;
                for (std::size_t i = 0; i < n; i += 7) y[i] = tricky(rng);
                const std::vector<float> delta = random_floats(rng, n, true);
                std::vector<float> grad_want = delta, grad_got = delta, grad_threaded = delta;
                grad_want.resize(n + kGuardFloats, kGuard);
                grad_got.resize(n + kGuardFloats, kGuard);
                grad_threaded.resize(n + kGuardFloats, kGuard);
                k::activation_gradient_reference(activation, y.data(), grad_want.data(), n);
                ops.activation_gradient_single(activation, y.data(), grad_got.data(), n);
                ops.activation_gradient(threaded, activation, y.data(), grad_threaded.data(), n);
                diff = first_difference(grad_got, grad_want);
                INFO("activation_gradient " << at(grad_got, grad_want, diff));
                CHECK(diff < 0);
                CHECK(first_difference(grad_threaded, grad_want) < 0);
            }
    }
}

TEST_CASE("each backend's scale_add_bias matches the reference bit for bit", "[kernels][backends]") {
    SKIP_WITHOUT_OPTIMIZED_BACKEND();
    for (const k::Ops* backend : lenet::test::optimized_backends()) {
        const k::Ops& ops = *backend;
        INFO("backend " << ops.name);
        Rng rng(43);
        for (int batch = 1; batch <= 3; ++batch)
            for (int channels : {1, 2, 3, 5, 8, 9, 33, 500})
                for (int spatial : {1, 2, 3, 5, 7, 8, 9, 13, 27, 169, 676})
                    for (bool with_scales : {false, true}) {
                        INFO("batch=" << batch << " channels=" << channels << " spatial=" << spatial
                                      << " scales=" << with_scales);
                        const std::size_t n = std::size_t(batch) * channels * spatial;
                        const std::vector<float> scales = random_floats(rng, std::size_t(channels), true);
                        const std::vector<float> biases = random_floats(rng, std::size_t(channels), true);
                        std::vector<float> want = random_floats(rng, n, true);
                        want.resize(n + kGuardFloats, kGuard);
                        std::vector<float> got = want;
                        const float* s = with_scales ? scales.data() : nullptr;
                        k::scale_add_bias_reference(want.data(), s, biases.data(), batch, channels, spatial);
                        ops.scale_add_bias(got.data(), s, biases.data(), batch, channels, spatial);
                        const long diff = first_difference(got, want);
                        INFO(at(got, want, diff));
                        CHECK(diff < 0);
                    }
    }
}

TEST_CASE("each backend's bias and scale gradients match the reference (exact for spatial 1)", "[kernels][backends]") {
    SKIP_WITHOUT_OPTIMIZED_BACKEND();
    for (const k::Ops* backend : lenet::test::optimized_backends()) {
        const k::Ops& ops = *backend;
        INFO("backend " << ops.name);
        Rng rng(41);
        for (int batch = 1; batch <= 3; ++batch)
            for (int channels : {1, 2, 3, 5, 8, 9, 31, 32, 33, 40, 500})
                for (int spatial : {1, 2, 3, 5, 7, 8, 9, 13, 27, 31, 32, 33, 169, 676})
                    check_channel_sums(batch, channels, spatial, rng, ops, nullptr);
    }
}

TEST_CASE("threaded bias and scale gradients equal the single-threaded kernel", "[kernels][backends]") {
    SKIP_WITHOUT_OPTIMIZED_BACKEND();
    for (const k::Ops* backend : lenet::test::optimized_backends()) {
        const k::Ops& ops = *backend;
        INFO("backend " << ops.name);
        Rng rng(42);
        for (int threads : {2, 3}) {
            lenet::ThreadPool pool(threads);
            const lenet::Compute threaded{&pool, &ops};
            for (int channels : {2, 5, 32, 33}) {
                const int batch = 3, spatial = 676;  // above the threading threshold
                const std::size_t n = std::size_t(batch) * channels * spatial;
                const std::vector<float> delta = random_floats(rng, n, false), x_norm = random_floats(rng, n, false);
                std::vector<float> single(std::size_t(channels), 0.5f), split = single, scale_single = single,
                                                                        scale_split = single;
                ops.bias_gradient_single(delta.data(), batch, channels, spatial, single.data());
                ops.bias_gradient(threaded, delta.data(), batch, channels, spatial, split.data());
                ops.scale_gradient({nullptr, &ops}, delta.data(), x_norm.data(), batch, channels, spatial,
                                   scale_single.data());
                ops.scale_gradient(threaded, delta.data(), x_norm.data(), batch, channels, spatial, scale_split.data());
                INFO("threads=" << threads << " channels=" << channels);
                CHECK(first_difference(split, single) < 0);
                CHECK(first_difference(scale_split, scale_single) < 0);
                check_channel_sums(batch, channels, spatial, rng, ops, &threaded);
            }
        }
    }
}

TEST_CASE("the reference backend dispatches to the reference kernels", "[kernels]") {
    // Bit-identical to the *_reference functions, including the float summation order.
    Rng rng(51);
    const int batch = 2, channels = 3, spatial = 29;
    const std::vector<float> delta = random_floats(rng, std::size_t(batch) * channels * spatial, false);
    std::vector<float> want(channels, 0.0f), got = want;
    k::bias_gradient_reference(delta.data(), batch, channels, spatial, want.data());
    k::reference_ops().bias_gradient_single(delta.data(), batch, channels, spatial, got.data());
    CHECK(first_difference(got, want) < 0);

    const k::PoolGeometry g{2, 7, 7, 2, 2, 1};
    const std::vector<float> in = random_floats(rng, std::size_t(g.channels) * g.height * g.width, true);
    const PoolResult pool_want = run_pool(g, 1, in, k::maxpool_forward_reference);
    const PoolResult pool_got = run_pool(g, 1, in, [](auto&&... args) { k::reference_ops().maxpool_forward(args...); });
    CHECK(first_difference(pool_got.out, pool_want.out) < 0);
    CHECK(pool_got.argmax == pool_want.argmax);
}

TEST_CASE("each backend's Adam update matches the reference bit for bit and zeroes the gradients when told",
          "[kernels][backends]") {
    SKIP_WITHOUT_OPTIMIZED_BACKEND();
    for (const k::Ops* backend : lenet::test::optimized_backends()) {
        const k::Ops& ops = *backend;
        INFO("backend " << ops.name);
        Rng rng(21);
        for (const std::size_t n : {std::size_t(1), std::size_t(7), std::size_t(8), std::size_t(9), std::size_t(31),
                                    std::size_t(100), std::size_t(1003)})
            for (const float decay : {0.0f, 0.0005f})
                for (const bool zero_grad : {true, false}) {
                    INFO("n=" << n << " decay=" << decay << " zero_grad=" << zero_grad);
                    const k::AdamArgs args{0.9f, 0.999f, 1e-8f, decay, 0.00123f, zero_grad};
                    const std::vector<float> value = random_floats(rng, n, false), grad = random_floats(rng, n, false);
                    std::vector<float> m = random_floats(rng, n, false), v = random_floats(rng, n, false);
                    for (float& x : v) x = std::abs(x);  // a second moment is never negative
                    std::vector<float> value_want = value, grad_want = grad, m_want = m, v_want = v;
                    std::vector<float> value_got = value, grad_got = grad, m_got = m, v_got = v;
                    k::adam_update_reference(args, value_want.data(), grad_want.data(), m_want.data(), v_want.data(),
                                             n);
                    ops.adam_update(args, value_got.data(), grad_got.data(), m_got.data(), v_got.data(), n);
                    CHECK(first_difference(value_got, value_want) < 0);
                    CHECK(first_difference(m_got, m_want) < 0);
                    CHECK(first_difference(v_got, v_want) < 0);
                    CHECK(grad_got == (zero_grad ? std::vector<float>(n, 0.0f) : grad));
                    CHECK(first_difference(grad_want, grad_got) < 0);
                }
    }
}

TEST_CASE("each backend's pooled weight gradient matches the reference", "[kernels][backends]") {
    SKIP_WITHOUT_OPTIMIZED_BACKEND();
    for (const k::Ops* backend : lenet::test::optimized_backends()) {
        const k::Ops& ops = *backend;
        INFO("backend " << ops.name);
        // Each weight sums n terms in another order (partial sums): within 2 n 2^-24 sum|term|.
        Rng rng(31);
        for (const int patch : {1, 3, 8, 9, 13, 16, 31, 64, 65, 100, 128, 130})
            for (int trial = 0; trial < 3; ++trial) {
                const k::PooledGradientShape s{1 + int(rng.below(5)), patch, 1 + int(rng.below(200)), 0};
                const int pooled = 1 + int(rng.below(std::uint32_t(s.spatial)));
                const k::PooledGradientShape shape{s.filters, s.patch, s.spatial, pooled};
                INFO("filters=" << shape.filters << " patch=" << patch << " spatial=" << shape.spatial
                                << " pooled=" << pooled);
                const std::vector<float> columns = random_floats(rng, std::size_t(patch) * shape.spatial, false);
                std::vector<float> delta = random_floats(rng, std::size_t(shape.filters) * pooled, false);
                std::vector<std::int32_t> argmax(delta.size());
                for (std::size_t i = 0; i < argmax.size(); ++i) {
                    const int f = int(i / std::size_t(pooled));
                    argmax[i] = rng.below(9) == 0
                                    ? -1
                                    : std::int32_t(f * shape.spatial + int(rng.below(std::uint32_t(shape.spatial))));
                    if (rng.below(4) == 0) delta[i] = 0.0f;  // relu zeros
                }
                const std::vector<float> start = random_floats(rng, std::size_t(shape.filters) * patch, false);
                std::vector<float> want = start, got = start;
                std::vector<float> scratch(k::pooled_weight_gradient_scratch_floats(shape));
                k::pooled_weight_gradient_reference(shape, delta.data(), argmax.data(), columns.data(), want.data());
                ops.pooled_weight_gradient(shape, delta.data(), argmax.data(), columns.data(), got.data(),
                                           scratch.data());
                for (int f = 0; f < shape.filters; ++f)
                    for (int p = 0; p < patch; ++p) {
                        double magnitude = std::abs(double(start[std::size_t(f) * patch + p]));
                        for (int o = 0; o < pooled; ++o) {
                            const std::size_t i = std::size_t(f) * pooled + o;
                            if (argmax[i] >= 0)
                                magnitude +=
                                    std::abs(double(delta[i]) * columns[std::size_t(p) * shape.spatial +
                                                                        std::size_t(argmax[i] - f * shape.spatial)]);
                        }
                        const std::size_t w = std::size_t(f) * patch + p;
                        const double tolerance = 2.0 * (pooled + 1) * std::ldexp(1.0, -24) * magnitude + 1e-30;
                        INFO("weight " << f << "," << p << ": " << got[w] << " vs " << want[w]);
                        REQUIRE(std::abs(double(got[w]) - want[w]) <= tolerance);
                    }
            }
    }
}

// ---- channels-last pooled convolution backward ----

namespace {

int odd_size(Rng& rng) { return kOddSizes[rng.below(std::size(kOddSizes))]; }

struct PooledConvCase {
    k::PooledConvShape shape;
    std::vector<float> image, weights, delta, weight_grad, image_grad;  // CHW, [f][c][ky][kx]; grads' start values
    std::vector<std::int32_t> argmax;
};

PooledConvCase random_pooled_conv(Rng& rng, int channels) {
    PooledConvCase c;
    k::ConvGeometry g{};
    do {
        g = {channels, odd_size(rng) % 16 + 1, odd_size(rng) % 16 + 1, 1 + int(rng.below(4)),
             1 + int(rng.below(3)), int(rng.below(3))};
    } while (g.height + 2 * g.pad < g.size || g.width + 2 * g.pad < g.size);
    const int spatial = g.out_h() * g.out_w();
    c.shape = {g, 1 + int(rng.below(5)), 1 + int(rng.below(std::uint32_t(spatial)))};
    const int filters = c.shape.filters, pooled = c.shape.pooled;
    c.image = random_floats(rng, std::size_t(channels) * g.height * g.width, false);
    c.weights = random_floats(rng, std::size_t(filters) * channels * g.size * g.size, false);
    c.weight_grad = random_floats(rng, c.weights.size(), false);
    c.image_grad = random_floats(rng, c.image.size(), false);
    c.delta = random_floats(rng, std::size_t(filters) * pooled, false);
    c.argmax.resize(c.delta.size());
    for (std::size_t i = 0; i < c.argmax.size(); ++i) {
        const int f = int(i / std::size_t(pooled));
        c.argmax[i] = rng.below(9) == 0 ? -1 : std::int32_t(f * spatial + int(rng.below(std::uint32_t(spatial))));
        if (rng.below(4) == 0) c.delta[i] = 0.0f;  // relu zeros
    }
    return c;
}

struct Sums {
    std::vector<double> value, magnitude, terms;
    explicit Sums(const std::vector<float>& start) : value(start.begin(), start.end()), magnitude(start.size()),
                                                     terms(start.size(), 1.0) {
        for (std::size_t i = 0; i < start.size(); ++i) magnitude[i] = std::abs(value[i]);
    }
    void add(std::size_t i, double term) {
        value[i] += term;
        magnitude[i] += std::abs(term);
        terms[i] += 1.0;
    }
    void check(const std::vector<float>& got, const char* what) const {
        for (std::size_t i = 0; i < got.size(); ++i) {
            INFO(what << " " << i << ": " << got[i] << " vs " << value[i]);
            REQUIRE(std::abs(double(got[i]) - value[i]) <= terms[i] * std::ldexp(1.0, -24) * magnitude[i] + 1e-30);
        }
    }
};

// The exact gradients, written the CHW way: window positions in the padding contribute nothing.
std::pair<Sums, Sums> exact_pooled_conv(const PooledConvCase& c) {
    const k::ConvGeometry& g = c.shape.conv;
    const int out_w = g.out_w(), spatial = g.out_h() * out_w, k2 = g.size * g.size;
    Sums weight_grad(c.weight_grad), image_grad(c.image_grad);
    for (int f = 0; f < c.shape.filters; ++f)
        for (int o = 0; o < c.shape.pooled; ++o) {
            const std::size_t i = std::size_t(f) * c.shape.pooled + o;
            if (c.argmax[i] < 0) continue;
            const int q = c.argmax[i] - f * spatial;
            for (int ch = 0; ch < g.channels; ++ch)
                for (int ky = 0; ky < g.size; ++ky)
                    for (int kx = 0; kx < g.size; ++kx) {
                        const int y = q / out_w * g.stride + ky - g.pad, x = q % out_w * g.stride + kx - g.pad;
                        if (y < 0 || y >= g.height || x < 0 || x >= g.width) continue;
                        const std::size_t w = (std::size_t(f) * g.channels + ch) * k2 + std::size_t(ky) * g.size + kx;
                        const std::size_t p = (std::size_t(ch) * g.height + y) * g.width + x;
                        weight_grad.add(w, double(c.delta[i]) * c.image[p]);
                        image_grad.add(p, double(c.delta[i]) * c.weights[w]);
                    }
        }
    return {weight_grad, image_grad};
}

// Runs a backend's channels-last path end to end: layouts in, kernel, layouts out.
void run_channels_last(const PooledConvCase& c, const k::Ops& backend, std::vector<float>& weight_grad,
                       std::vector<float>& image_grad) {
    const k::ConvGeometry& g = c.shape.conv;
    std::vector<float> image(k::channels_last_floats(g) + kGuardFloats, kGuard), grad(image.size(), 0.0f);
    std::vector<float> weights(c.weights.size()), hwc_weight_grad(c.weights.size(), 0.0f);
    std::vector<float> scratch(k::pooled_conv_scratch_floats(c.shape));
    backend.to_channels_last(g, c.image.data(), image.data());
    k::weights_to_channels_last(g, c.shape.filters, c.weights.data(), weights.data());
    backend.pooled_conv_backward_channels_last(c.shape, c.delta.data(), c.argmax.data(), image.data(), weights.data(),
                                               hwc_weight_grad.data(), grad.data(), scratch.data());
    for (std::size_t i = image.size() - kGuardFloats; i < image.size(); ++i) REQUIRE(image[i] == kGuard);
    weight_grad = c.weight_grad;
    image_grad = c.image_grad;
    k::add_weights_from_channels_last(g, c.shape.filters, hwc_weight_grad.data(), weight_grad.data());
    std::vector<float> chw_grad(c.image.size());
    backend.from_channels_last(g, grad.data(), chw_grad.data());
    for (std::size_t i = 0; i < chw_grad.size(); ++i) image_grad[i] += chw_grad[i];
}

}  // namespace

TEST_CASE("channels-last pooled convolution backward equals the exact gradients", "[kernels]") {
    Rng rng(41);
    const std::vector<const k::Ops*> backends = lenet::test::all_backends();
    for (const int channels : {1, 3, 8, 16, 24, 40})
        for (int trial = 0; trial < 6; ++trial) {
            const PooledConvCase c = random_pooled_conv(rng, channels);
            const k::ConvGeometry& g = c.shape.conv;
            const auto [weight_want, image_want] = exact_pooled_conv(c);
            for (const k::Ops* backend : backends) {
                INFO("c=" << channels << " h=" << g.height << " w=" << g.width << " size=" << g.size << " stride="
                          << g.stride << " pad=" << g.pad << " filters=" << c.shape.filters << " pooled="
                          << c.shape.pooled << " backend " << lenet::backend_name(backend));
                std::vector<float> weight_got, image_got;
                run_channels_last(c, *backend, weight_got, image_got);
                weight_want.check(weight_got, "weight gradient");
                image_want.check(image_got, "image gradient");
            }
        }
}

TEST_CASE("each backend's channels-last layout changes match the reference bit for bit", "[kernels][backends]") {
    SKIP_WITHOUT_OPTIMIZED_BACKEND();
    for (const k::Ops* backend : lenet::test::optimized_backends()) {
        const k::Ops& ops = *backend;
        INFO("backend " << ops.name);
        Rng rng(43);
        for (const int channels : {8, 16, 32, 40})
            for (int trial = 0; trial < 8; ++trial) {
                const k::ConvGeometry g{channels, odd_size(rng), odd_size(rng), 1, 1, int(rng.below(3))};
                INFO("c=" << channels << " h=" << g.height << " w=" << g.width << " pad=" << g.pad);
                const std::vector<float> chw = random_floats(rng, std::size_t(channels) * g.height * g.width, true);
                std::vector<float> want(k::channels_last_floats(g) + kGuardFloats, kGuard), got = want;
                std::fill(got.begin(), got.end() - kGuardFloats, kNaN);  // every float must be written, border too
                k::to_channels_last_reference(g, chw.data(), want.data());
                ops.to_channels_last(g, chw.data(), got.data());
                CHECK(first_difference(got, want) < 0);
                std::vector<float> set_want(chw.size(), kNaN), set_got(chw.size(), kNaN);
                k::from_channels_last_reference(g, want.data(), set_want.data());
                CHECK(first_difference(set_want, chw) < 0);  // the round trip gives the image back
                ops.from_channels_last(g, want.data(), set_got.data());
                CHECK(first_difference(set_got, set_want) < 0);
            }
    }
}

// ---- direct convolution + max pool ----

TEST_CASE("each backend's direct convolution + max pool equals im2col, GEMM and max pool bit for bit",
          "[kernels][backends]") {
    SKIP_WITHOUT_OPTIMIZED_BACKEND();
    for (const k::Ops* backend : lenet::test::optimized_backends()) {
        const k::Ops& ops = *backend;
        INFO("backend " << ops.name);
        if (!ops.conv_maxpool_direct) {  // an optional op: this backend runs im2col + GEMM + pool
            CHECK_FALSE(ops.conv_maxpool_direct_fits({1, 28, 28, 3, 1, 0}, 32, {32, 26, 26, 2, 2, 0}));
            continue;
        }
        Rng rng(47);
        int tested = 0;
        for (int trial = 0; trial < 400 && tested < 60; ++trial) {
            const int channels = pick(rng, {1, 2, 3, 8, 13, 32}), size = 1 + int(rng.below(5));
            const int filters = 8 * (1 + int(rng.below(5)));
            const k::ConvGeometry g{channels, 2 + int(rng.below(20)), 2 + int(rng.below(20)),
                                    size,     1 + int(rng.below(2)),  int(rng.below(3))};
            if (g.height + 2 * g.pad < size || g.width + 2 * g.pad < size) continue;
            const k::PoolGeometry pool{filters, g.out_h(), g.out_w(), 2, 2, int(rng.below(2))};
            if (!ops.conv_maxpool_direct_fits(g, filters, pool)) continue;
            ++tested;
            const int patch = channels * size * size, spatial = g.out_h() * g.out_w();
            const int pooled = pool.out_h() * pool.out_w();
            INFO("c=" << channels << " h=" << g.height << " w=" << g.width << " size=" << size << " stride=" << g.stride
                      << " pad=" << g.pad << " filters=" << filters << " pool padding=" << pool.padding);
            // Small integers make exact ties between a window's outputs; the odd NaN must propagate alike.
            std::vector<float> image(std::size_t(channels) * g.height * g.width), weights(std::size_t(filters) * patch);
            for (float& x : image) x = rng.below(40) == 0 ? kNaN : float(int(rng.below(5)) - 2);
            for (float& x : weights) x = rng.below(2) ? float(int(rng.below(3)) - 1) : rng.uniform(-1.0f, 1.0f);
            std::vector<float> columns(std::size_t(patch) * spatial), conv(std::size_t(filters) * spatial);
            std::vector<float> want(std::size_t(filters) * pooled), got(want.size() + kGuardFloats, kGuard);
            std::vector<std::int32_t> want_argmax(want.size()), got_argmax(want.size(), -7);
            k::conv_maxpool_reference(ops, g, filters, pool, weights.data(), image.data(), want.data(),
                                      want_argmax.data(), columns.data(), conv.data());
            std::vector<float> taps_major(weights.size()), scratch(k::conv_maxpool_direct_scratch_floats(g, filters));
            k::weights_taps_major(weights.data(), filters, patch, taps_major.data());
            ops.conv_maxpool_direct(g, filters, taps_major.data(), image.data(), got.data(), got_argmax.data(),
                                    scratch.data());
            for (std::size_t i = want.size(); i < got.size(); ++i) REQUIRE(got[i] == kGuard);
            // Without argmax (inference): the same maxima.
            std::vector<float> got_plain(want.size());
            ops.conv_maxpool_direct(g, filters, taps_major.data(), image.data(), got_plain.data(), nullptr,
                                    scratch.data());
            CHECK(first_difference(got_plain, want) < 0);
            got.resize(want.size());
            const long at_value = first_difference(got, want);
            INFO(at(got, want, at_value));
            CHECK(at_value < 0);
            CHECK(got_argmax == want_argmax);
        }
        CHECK(tested >= 30);
    }
}

TEST_CASE("direct convolution + max pool takes only the shapes it fits", "[kernels]") {
    const k::ConvGeometry lenet_first{1, 28, 28, 3, 1, 0};
    const k::PoolGeometry pool{32, 26, 26, 2, 2, 0};
    CHECK(k::conv_maxpool_direct_fits(lenet_first, 32, pool));
    CHECK_FALSE(k::conv_maxpool_direct_fits(lenet_first, 30, {30, 26, 26, 2, 2, 0}));     // filters % 8
    CHECK(k::conv_maxpool_direct_fits({32, 13, 13, 2, 1, 0}, 32, {32, 12, 12, 2, 2, 0}));  // the seed's second
    CHECK_FALSE(k::conv_maxpool_direct_fits({29, 28, 28, 3, 1, 0}, 32, pool));            // 261 taps
    CHECK_FALSE(k::conv_maxpool_direct_fits({1, 27, 27, 3, 1, 0}, 32, {32, 25, 25, 2, 2, 0}));  // odd output
    CHECK_FALSE(k::conv_maxpool_direct_fits(lenet_first, 32, {32, 26, 26, 3, 2, 0}));     // 3x3 pool
}
