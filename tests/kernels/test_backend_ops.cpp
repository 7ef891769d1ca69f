// Every op of every optimized backend's table against the reference table, op by op (ggml's
// test-backend-ops is the model). An op the backend takes from the reference is the same function
// and needs no check; an op with a kernel of its own must have a checker below (a backend's new
// kernel without one fails the test). Each checker runs both tables on odd shapes with every
// output buffer (and workspace) between guard floats or bytes that must survive, and compares:
// bit for bit where the kernel promises it (kernels/avx2/avx2.h says which), else within the
// rounding bound of a reordered float sum of n terms, 2 (n + 1) 2^-24 sum|term|.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "../backends.h"
#include "core/rng.h"
#include "core/thread_pool.h"
#include "kernels/ops.h"

namespace {

using lenet::Activation;
using lenet::Compute;
using lenet::Rng;
namespace k = lenet::kernels;

constexpr std::size_t kGuard = 32;  // elements before and after each buffer
constexpr float kGuardValue = -7777.25f;
constexpr unsigned char kGuardByte = 0x5A;

// A buffer of n values with kGuard sentinels on each side; data() is the first real value.
template <class T>
struct Guarded {
    std::vector<T> all;
    std::size_t n;
    Guarded(std::size_t count, T guard) : all(count + 2 * kGuard, guard), n(count) {}
    T* data() { return all.data() + kGuard; }
    const T* data() const { return all.data() + kGuard; }
    std::vector<T> body() const { return {all.begin() + kGuard, all.begin() + std::ptrdiff_t(kGuard + n)}; }
    bool intact(T guard) const {
        for (std::size_t i = 0; i < kGuard; ++i)
            if (std::memcmp(&all[i], &guard, sizeof(T)) != 0 ||
                std::memcmp(&all[kGuard + n + i], &guard, sizeof(T)) != 0)
                return false;
        return true;
    }
};

Guarded<float> floats(Rng& rng, std::size_t n, float lo = -1.0f, float hi = 1.0f) {
    Guarded<float> g(n, kGuardValue);
    for (std::size_t i = 0; i < n; ++i) g.data()[i] = rng.uniform(lo, hi);
    return g;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (!(std::isnan(a[i]) && std::isnan(b[i])) && std::memcmp(&a[i], &b[i], sizeof(float)) != 0) return false;
    return true;
}

// Both guarded, and equal bit for bit.
void check_exact(const Guarded<float>& got, const Guarded<float>& want, const char* what) {
    INFO(what);
    CHECK(got.intact(kGuardValue));
    CHECK(want.intact(kGuardValue));
    CHECK(same_bits(got.body(), want.body()));
}

// Both guarded, each value within `bound[i]` of the reference.
void check_close(const Guarded<float>& got, const Guarded<float>& want, const std::vector<double>& bound,
                 const char* what) {
    INFO(what);
    CHECK(got.intact(kGuardValue));
    int bad = 0;
    for (std::size_t i = 0; i < want.n; ++i)
        if (!(std::abs(double(got.data()[i]) - want.data()[i]) <= bound[i]) && bad++ == 0)
            FAIL_CHECK("element " << i << ": " << got.data()[i] << " vs reference " << want.data()[i]);
    CHECK(bad == 0);
}

const k::Ops& ref() { return k::reference_ops(); }
constexpr double kUlp = 1.0 / (1 << 24);

// ---- the checkers, one per op ----

void check_gemm(const k::Ops& ops, Rng& rng, bool threaded) {
    lenet::ThreadPool pool(3);
    const Compute compute{&pool, &ops};
    const int shapes[][3] = {{7, 13, 5}, {1, 17, 33}, {31, 3, 65}, {64, 70, 41}};
    for (const auto& s : shapes)
        for (const bool ta : {false, true})
            for (const bool tb : {false, true}) {
                const int m = s[0], n = s[1], kk = s[2];
                const int lda = (ta ? m : kk) + 1, ldb = (tb ? kk : n) + 2, ldc = n + 3;
                const auto a = floats(rng, std::size_t(ta ? kk : m) * std::size_t(lda));
                const auto b = floats(rng, std::size_t(tb ? n : kk) * std::size_t(ldb));
                Guarded<float> want = floats(rng, std::size_t(m) * std::size_t(ldc)), got = want;
                const k::GemmArgs base{ta, tb, m, n, kk, 0.5f, a.data(), lda, b.data(), ldb, 0.25f, nullptr, ldc};
                k::GemmArgs w = base, g = base;
                w.c = want.data();
                g.c = got.data();
                ref().gemm_single(w);
                if (threaded)
                    ops.gemm(compute, g);
                else
                    ops.gemm_single(g);
                std::vector<double> bound(want.n);
                for (std::size_t i = 0; i < want.n; ++i)
                    bound[i] = 2.0 * (kk + 2) * kUlp * (0.5 * kk + 0.25 * std::abs(double(want.data()[i])) + 1.0);
                INFO("m=" << m << " n=" << n << " k=" << kk << " ta=" << ta << " tb=" << tb);
                check_close(got, want, bound, "C");
            }
}

const Activation kActivations[] = {Activation::linear, Activation::relu, Activation::leaky, Activation::logistic,
                                   Activation::tanh};
const std::size_t kLengths[] = {1, 7, 13, 1031, 70001};  // the last is split over threads

void check_activate(const k::Ops& ops, Rng& rng, bool threaded) {
    lenet::ThreadPool pool(3);
    const Compute compute{&pool, &ops};
    for (const Activation a : kActivations)
        for (const std::size_t n : kLengths) {
            Guarded<float> want = floats(rng, n, -3.0f, 3.0f), got = want;
            ref().activate_single(a, want.data(), n);
            if (threaded)
                ops.activate(compute, a, got.data(), n);
            else
                ops.activate_single(a, got.data(), n);
            INFO(lenet::activation_name(a) << " n=" << n);
            check_exact(got, want, "activate");
        }
}

void check_activation_gradient(const k::Ops& ops, Rng& rng, bool threaded) {
    lenet::ThreadPool pool(3);
    const Compute compute{&pool, &ops};
    for (const Activation a : kActivations)
        for (const std::size_t n : kLengths) {
            const auto y = floats(rng, n, -1.5f, 1.5f);
            Guarded<float> want = floats(rng, n), got = want;
            ref().activation_gradient_single(a, y.data(), want.data(), n);
            if (threaded)
                ops.activation_gradient(compute, a, y.data(), got.data(), n);
            else
                ops.activation_gradient_single(a, y.data(), got.data(), n);
            INFO(lenet::activation_name(a) << " n=" << n);
            check_exact(got, want, "activation_gradient");
        }
}

const int kChannelShapes[][3] = {{1, 1, 1}, {3, 5, 1}, {2, 3, 13}, {1, 9, 27}, {5, 17, 7}, {64, 300, 1}};

void check_scale_add_bias(const k::Ops& ops, Rng& rng) {
    for (const auto& s : kChannelShapes)
        for (const bool with_scales : {false, true}) {
            const auto scales = floats(rng, std::size_t(s[1])), biases = floats(rng, std::size_t(s[1]));
            Guarded<float> want = floats(rng, std::size_t(s[0]) * s[1] * s[2]), got = want;
            ref().scale_add_bias(want.data(), with_scales ? scales.data() : nullptr, biases.data(), s[0], s[1], s[2]);
            ops.scale_add_bias(got.data(), with_scales ? scales.data() : nullptr, biases.data(), s[0], s[1], s[2]);
            check_exact(got, want, "scale_add_bias");
        }
}

// kind 0: bias_gradient (pool), 1: bias_gradient_single, 2: scale_gradient (pool)
void check_channel_sum(const k::Ops& ops, Rng& rng, int kind) {
    lenet::ThreadPool pool(2);
    const Compute compute{&pool, &ops};
    for (const auto& s : kChannelShapes) {
        const int batch = s[0], channels = s[1], spatial = s[2];
        const std::size_t n = std::size_t(batch) * channels * spatial;
        const auto delta = floats(rng, n), x_norm = floats(rng, n);
        Guarded<float> want = floats(rng, std::size_t(channels)), got = want;
        std::vector<double> bound(static_cast<std::size_t>(channels));
        for (int c = 0; c < channels; ++c) {
            double sum = std::abs(double(want.data()[c]));
            for (int b = 0; b < batch; ++b)
                for (int p = 0; p < spatial; ++p) {
                    const std::size_t i = (std::size_t(b) * channels + c) * spatial + p;
                    sum += kind == 2 ? std::abs(double(delta.data()[i]) * x_norm.data()[i])
                                     : std::abs(double(delta.data()[i]));
                }
            bound[std::size_t(c)] = 2.0 * (double(batch) * spatial + 1) * kUlp * sum + 1e-30;
        }
        if (kind == 2) {
            ref().scale_gradient({nullptr, &ref()}, delta.data(), x_norm.data(), batch, channels, spatial, want.data());
            ops.scale_gradient(compute, delta.data(), x_norm.data(), batch, channels, spatial, got.data());
        } else {
            ref().bias_gradient_single(delta.data(), batch, channels, spatial, want.data());
            if (kind == 0)
                ops.bias_gradient(compute, delta.data(), batch, channels, spatial, got.data());
            else
                ops.bias_gradient_single(delta.data(), batch, channels, spatial, got.data());
        }
        INFO("batch=" << batch << " channels=" << channels << " spatial=" << spatial);
        check_close(got, want, bound, "channel sums");
    }
}

const k::ConvGeometry kConvs[] = {{3, 7, 9, 3, 1, 1},  {2, 8, 5, 2, 2, 0}, {1, 5, 5, 5, 3, 2},
                                  {4, 6, 11, 1, 1, 0}, {8, 9, 7, 3, 2, 1}, {16, 5, 6, 2, 1, 1}};

std::size_t image_floats(const k::ConvGeometry& g) { return std::size_t(g.channels) * g.height * g.width; }
std::size_t column_floats(const k::ConvGeometry& g) {
    return std::size_t(g.channels) * g.size * g.size * std::size_t(g.out_h()) * std::size_t(g.out_w());
}

void check_im2col(const k::Ops& ops, Rng& rng) {
    for (const k::ConvGeometry& g : kConvs) {
        const auto image = floats(rng, image_floats(g));
        Guarded<float> want(column_floats(g), kGuardValue), got = want;
        ref().im2col(g, image.data(), want.data());
        ops.im2col(g, image.data(), got.data());
        check_exact(got, want, "im2col");
    }
}

void check_col2im(const k::Ops& ops, Rng& rng) {
    for (const k::ConvGeometry& g : kConvs) {
        const auto columns = floats(rng, column_floats(g));
        Guarded<float> want = floats(rng, image_floats(g)), got = want;
        ref().col2im_add(g, columns.data(), want.data());
        ops.col2im_add(g, columns.data(), got.data());
        check_exact(got, want, "col2im_add");
    }
}

const k::PoolGeometry kPools[] = {
    {3, 7, 9, 2, 2, 0}, {2, 8, 5, 2, 2, 1}, {5, 13, 13, 3, 2, 1}, {1, 4, 4, 2, 2, 0}, {16, 27, 26, 2, 2, 0},
    // size 2, stride 1 (yolov3-tiny's layer 11 is 13x13 with padding 1), odd and narrow widths
    {5, 13, 13, 2, 1, 1}, {3, 9, 11, 2, 1, 0}, {2, 6, 17, 2, 1, 1}, {3, 5, 3, 2, 1, 1}, {1, 1, 9, 2, 1, 1},
    {2, 10, 9, 2, 1, 0}};

std::size_t pool_out(const k::PoolGeometry& g, int batch) {
    return std::size_t(batch) * g.channels * std::size_t(g.out_h()) * std::size_t(g.out_w());
}

void check_maxpool_forward(const k::Ops& ops, Rng& rng) {
    for (const k::PoolGeometry& g : kPools) {
        const int batch = 2;
        auto in = floats(rng, std::size_t(batch) * image_floats({g.channels, g.height, g.width, 1, 1, 0}));
        for (std::size_t i = 0; i < in.n; i += 5) in.data()[i] = in.data()[i + 1 < in.n ? i + 1 : i];  // ties
        Guarded<float> want(pool_out(g, batch), kGuardValue), got = want;
        Guarded<std::int32_t> want_arg(want.n, -99), got_arg = want_arg;
        ref().maxpool_forward(g, batch, in.data(), want.data(), want_arg.data());
        ops.maxpool_forward(g, batch, in.data(), got.data(), got_arg.data());
        check_exact(got, want, "maxpool_forward");
        CHECK(got_arg.intact(-99));
        CHECK(got_arg.body() == want_arg.body());
    }
}

void check_maxpool_backward_set(const k::Ops& ops, Rng& rng) {
    for (const k::PoolGeometry& g : kPools) {
        const int batch = 2;
        const auto in = floats(rng, std::size_t(batch) * image_floats({g.channels, g.height, g.width, 1, 1, 0}));
        Guarded<float> out(pool_out(g, batch), kGuardValue);
        Guarded<std::int32_t> argmax(out.n, -99);
        ref().maxpool_forward(g, batch, in.data(), out.data(), argmax.data());
        const auto delta = floats(rng, out.n);
        Guarded<float> want = floats(rng, in.n), got = want;  // garbage: every element is written
        ref().maxpool_backward_set(g, batch, delta.data(), argmax.data(), want.data());
        ops.maxpool_backward_set(g, batch, delta.data(), argmax.data(), got.data());
        check_exact(got, want, "maxpool_backward_set");
    }
}

// The direct kernel on the shapes its table says it fits, against im2col + the same table's GEMM +
// max pool (what the layer runs otherwise); it may only claim shapes the layers size scratch for.
void check_conv_maxpool_direct(const k::Ops& ops, Rng& rng) {
    const k::ConvGeometry convs[] = {
        {3, 10, 10, 3, 1, 1}, {1, 28, 28, 3, 1, 0}, {32, 13, 13, 2, 1, 0}, {5, 9, 9, 2, 1, 0}, {2, 19, 19, 5, 2, 2}};
    int taken = 0;
    for (const k::ConvGeometry& g : convs)
        for (const int filters : {8, 16, 24}) {
            const k::PoolGeometry pool{filters, g.out_h(), g.out_w(), 2, 2, 0};
            if (!ops.conv_maxpool_direct_fits(g, filters, pool)) continue;
            REQUIRE(k::conv_maxpool_direct_fits(g, filters, pool));
            ++taken;
            const int patch = g.channels * g.size * g.size, spatial = g.out_h() * g.out_w();
            const auto weights = floats(rng, std::size_t(filters) * patch), image = floats(rng, image_floats(g));
            const std::size_t pooled = pool_out(pool, 1);
            Guarded<float> want(pooled, kGuardValue), got = want, plain = want;
            Guarded<std::int32_t> want_arg(pooled, -99), got_arg = want_arg;
            std::vector<float> columns(std::size_t(patch) * spatial), conv(std::size_t(filters) * spatial);
            k::conv_maxpool_reference(ops, g, filters, pool, weights.data(), image.data(), want.data(), want_arg.data(),
                                      columns.data(), conv.data());
            std::vector<float> taps_major(weights.n);
            k::weights_taps_major(weights.data(), filters, patch, taps_major.data());
            Guarded<float> scratch(k::conv_maxpool_direct_scratch_floats(g, filters), kGuardValue);
            ops.conv_maxpool_direct(g, filters, taps_major.data(), image.data(), got.data(), got_arg.data(),
                                    scratch.data());
            CHECK(scratch.intact(kGuardValue));
            ops.conv_maxpool_direct(g, filters, taps_major.data(), image.data(), plain.data(), nullptr, scratch.data());
            check_exact(got, want, "conv_maxpool_direct");
            check_exact(plain, want, "conv_maxpool_direct without argmax");
            CHECK(got_arg.intact(-99));
            CHECK(got_arg.body() == want_arg.body());
        }
    CHECK(taken > 0);
}

// The direct convolution on the shapes its table says it fits, in row ranges, against im2col + the
// same table's GEMM (what the layer runs otherwise): bit for bit.
void check_conv_direct(const k::Ops& ops, Rng& rng) {
    const k::ConvGeometry convs[] = {{3, 13, 21, 3, 1, 1}, {1, 9, 8, 3, 1, 0},  {3, 10, 30, 3, 1, 1}, {1, 11, 19, 5, 1, 2},
                                     {4, 7, 26, 2, 1, 0},  {3, 5, 40, 1, 1, 0}, {2, 6, 33, 3, 1, 1},  {3, 17, 9, 3, 1, 1}};
    int taken = 0;
    for (const k::ConvGeometry& g : convs)
        for (const int filters : {4, 8, 12, 16}) {
            if (!ops.conv_direct_fits(g, filters)) continue;
            REQUIRE(k::conv_direct_fits(g, filters));
            ++taken;
            const int patch = g.channels * g.size * g.size, spatial = g.out_h() * g.out_w();
            const auto weights = floats(rng, std::size_t(filters) * patch), image = floats(rng, image_floats(g));
            std::vector<float> columns(std::size_t(patch) * spatial);
            Guarded<float> want(std::size_t(filters) * spatial, kGuardValue), got = want;
            ops.im2col(g, image.data(), columns.data());
            ops.gemm_single({false, false, filters, spatial, patch, 1.0f, weights.data(), patch, columns.data(), spatial,
                             0.0f, want.data(), spatial});
            // Three row ranges, the middle one possibly empty.
            const int a = g.out_h() / 3, b = std::max(a, g.out_h() - 2);
            for (const auto& [first, last] : {std::pair{0, a}, std::pair{a, b}, std::pair{b, g.out_h()}}) {
                Guarded<float> scratch(k::conv_direct_scratch_floats(g, std::max(last - first, 1)), kGuardValue);
                ops.conv_direct(g, filters, weights.data(), image.data(), first, last,
                                got.data() + std::size_t(first) * std::size_t(g.out_w()), std::size_t(spatial),
                                scratch.data());
                CHECK(scratch.intact(kGuardValue));
            }
            check_exact(got, want, "conv_direct");
        }
    CHECK(taken > 0);
}

// Winners as a pool leaves them: per (filter, pooled output) a position of that filter, or -1.
Guarded<std::int32_t> random_winners(Rng& rng, int filters, int pooled, int spatial) {
    Guarded<std::int32_t> argmax(std::size_t(filters) * pooled, -99);
    for (int f = 0; f < filters; ++f)
        for (int o = 0; o < pooled; ++o)
            argmax.data()[std::size_t(f) * pooled + o] =
                rng.below(7) == 0 ? -1 : std::int32_t(f * spatial + int(rng.below(std::uint64_t(spatial))));
    return argmax;
}

void check_pooled_weight_gradient(const k::Ops& ops, Rng& rng) {
    const k::PooledGradientShape shapes[] = {{8, 9, 676, 169}, {3, 13, 35, 9}, {16, 128, 144, 36}, {5, 1, 7, 2}};
    for (const auto& s : shapes) {
        const auto delta = floats(rng, std::size_t(s.filters) * s.pooled);
        const auto argmax = random_winners(rng, s.filters, s.pooled, s.spatial);
        const auto columns = floats(rng, std::size_t(s.patch) * s.spatial);
        Guarded<float> want = floats(rng, std::size_t(s.filters) * s.patch), got = want;
        Guarded<float> scratch(k::pooled_weight_gradient_scratch_floats(s), kGuardValue);
        std::vector<double> bound(want.n);
        for (int f = 0; f < s.filters; ++f)
            for (int p = 0; p < s.patch; ++p) {
                double sum = std::abs(double(want.data()[std::size_t(f) * s.patch + p]));
                for (int o = 0; o < s.pooled; ++o) {
                    const std::int32_t w = argmax.data()[std::size_t(f) * s.pooled + o];
                    if (w >= 0)
                        sum += std::abs(double(delta.data()[std::size_t(f) * s.pooled + o]) *
                                        columns.data()[std::size_t(p) * s.spatial + std::size_t(w - f * s.spatial)]);
                }
                bound[std::size_t(f) * s.patch + p] = 2.0 * (s.pooled + 2) * kUlp * sum + 1e-30;
            }
        ref().pooled_weight_gradient(s, delta.data(), argmax.data(), columns.data(), want.data(), nullptr);
        ops.pooled_weight_gradient(s, delta.data(), argmax.data(), columns.data(), got.data(), scratch.data());
        CHECK(scratch.intact(kGuardValue));
        check_close(got, want, bound, "pooled_weight_gradient");
    }
}

void check_channels_last(const k::Ops& ops, Rng& rng, bool to) {
    for (const k::ConvGeometry& g : kConvs) {
        if (to) {
            const auto chw = floats(rng, image_floats(g));
            Guarded<float> want = floats(rng, k::channels_last_floats(g)), got = want;  // border written too
            ref().to_channels_last(g, chw.data(), want.data());
            ops.to_channels_last(g, chw.data(), got.data());
            check_exact(got, want, "to_channels_last");
        } else {
            const auto hwc = floats(rng, k::channels_last_floats(g));
            Guarded<float> want = floats(rng, image_floats(g)), got = want;
            ref().from_channels_last(g, hwc.data(), want.data());
            ops.from_channels_last(g, hwc.data(), got.data());
            check_exact(got, want, "from_channels_last");
        }
    }
}

void check_pooled_conv_backward(const k::Ops& ops, Rng& rng) {
    const k::ConvGeometry convs[] = {
        {8, 9, 7, 3, 1, 1}, {16, 6, 6, 2, 2, 0}, {3, 7, 5, 3, 1, 1}, {32, 13, 13, 2, 1, 0}};
    for (const k::ConvGeometry& g : convs)
        for (const bool with_image_grad : {true, false}) {
            const int filters = 8, spatial = g.out_h() * g.out_w(), pooled = (spatial + 3) / 4;
            const k::PooledConvShape s{g, filters, pooled};
            const int taps = g.channels * g.size * g.size;
            const auto delta = floats(rng, std::size_t(filters) * pooled);
            const auto argmax = random_winners(rng, filters, pooled, spatial);
            const auto image = floats(rng, k::channels_last_floats(g)),
                       weights = floats(rng, std::size_t(filters) * taps);
            Guarded<float> want_w = floats(rng, weights.n), got_w = want_w;
            Guarded<float> want_i = floats(rng, image.n), got_i = want_i;
            Guarded<float> scratch(k::pooled_conv_scratch_floats(s), kGuardValue);
            ref().pooled_conv_backward_channels_last(s, delta.data(), argmax.data(), image.data(), weights.data(),
                                                     want_w.data(), with_image_grad ? want_i.data() : nullptr, nullptr);
            ops.pooled_conv_backward_channels_last(s, delta.data(), argmax.data(), image.data(), weights.data(),
                                                   got_w.data(), with_image_grad ? got_i.data() : nullptr,
                                                   scratch.data());
            CHECK(scratch.intact(kGuardValue));
            // Each weight and image value sums at most `pooled` terms of |delta| <= 1 times values <= 1.
            const std::vector<double> bound_w(want_w.n, 2.0 * (pooled + 2) * kUlp * (pooled + 1.0));
            const std::vector<double> bound_i(want_i.n, 2.0 * (filters * pooled + 2) * kUlp * (filters * pooled + 1.0));
            INFO("c=" << g.channels << " h=" << g.height << " w=" << g.width << " size=" << g.size);
            check_close(got_w, want_w, bound_w, "weight gradient");
            check_close(got_i, want_i, bound_i, "image gradient");
        }
}

void check_adam(const k::Ops& ops, Rng& rng) {
    for (const std::size_t n : {std::size_t(1), std::size_t(13), std::size_t(1031)})
        for (const bool zero_grad : {true, false}) {
            const k::AdamArgs args{0.9f, 0.999f, 1e-8f, 5e-4f, 1e-3f, zero_grad};
            Guarded<float> value = floats(rng, n), grad = floats(rng, n), m = floats(rng, n),
                           v = floats(rng, n, 0.0f, 1.0f);
            Guarded<float> value2 = value, grad2 = grad, m2 = m, v2 = v;
            ref().adam_update(args, value.data(), grad.data(), m.data(), v.data(), n);
            ops.adam_update(args, value2.data(), grad2.data(), m2.data(), v2.data(), n);
            check_exact(value2, value, "value");
            check_exact(grad2, grad, "grad");
            check_exact(m2, m, "m");
            check_exact(v2, v, "v");
        }
}

Guarded<float> signs_with_zeros(Rng& rng, std::size_t n) {
    Guarded<float> x = floats(rng, n);
    for (std::size_t i = 0; i < n; i += 11) x.data()[i] = i % 2 ? 0.0f : -0.0f;
    return x;
}

const k::ConvGeometry kXnorConvs[] = {
    {3, 7, 9, 3, 1, 1}, {64, 6, 5, 3, 2, 1}, {130, 5, 5, 1, 1, 0}, {33, 9, 8, 2, 1, 2}, {8, 11, 13, 3, 1, 0}};

void check_xnor_conv(const k::Ops& ops, Rng& rng, bool threaded) {
    for (const k::ConvGeometry& g : kXnorConvs)
        for (const int filters : {1, 5, 16, 17}) {
            const int threads = threaded ? 3 : 1;
            lenet::ThreadPool pool(threads);
            const auto weights = signs_with_zeros(rng, std::size_t(filters) * g.channels * g.size * g.size);
            // Both sign rules (xnor_scale=k and none), alternating.
            const k::ZeroSign zero = filters % 2 ? k::ZeroSign::positive : k::ZeroSign::negative;
            const k::PackedFilters packed = k::pack_filters(weights.data(), filters, g.channels, g.size, zero);
            const auto image = signs_with_zeros(rng, image_floats(g));
            const std::size_t outputs = std::size_t(filters) * g.out_h() * g.out_w();
            Guarded<float> want(outputs, kGuardValue), got = want;
            std::vector<unsigned char> ref_ws(ref().xnor_conv_workspace(g, 1));
            ref().xnor_conv_single(g, packed, image.data(), want.data(), ref_ws.data());
            Guarded<unsigned char> ws(ops.xnor_conv_workspace(g, threads), kGuardByte);
            CHECK(ws.n >= ref_ws.size());
            if (threaded)
                ops.xnor_conv({&pool, &ops}, g, packed, image.data(), got.data(), ws.data());
            else
                ops.xnor_conv_single(g, packed, image.data(), got.data(), ws.data());
            INFO("c=" << g.channels << " h=" << g.height << " w=" << g.width << " size=" << g.size
                      << " filters=" << filters << " threads=" << threads);
            CHECK(ws.intact(kGuardByte));
            check_exact(got, want, "xnor_conv");
        }
}

void check_xnor_dense(const k::Ops& ops, Rng& rng) {
    lenet::ThreadPool pool(3);
    for (const int rows : {1, 5, 33, 500})
        for (const int columns : {1, 63, 65, 130, 1152})
            for (const int batch : {1, 3})
                for (const k::ZeroSign zero : {k::ZeroSign::positive, k::ZeroSign::negative}) {
                    const auto weights = signs_with_zeros(rng, std::size_t(rows) * columns);
                    const k::PackedRows packed = k::pack_rows(weights.data(), rows, columns, zero);
                    const auto input = signs_with_zeros(rng, std::size_t(batch) * columns);
                    Guarded<float> want(std::size_t(batch) * rows, kGuardValue), got = want;
                    std::vector<unsigned char> ref_ws(k::xnor_dense_workspace_bytes(packed, batch));
                    ref().xnor_dense({nullptr, &ref()}, packed, input.data(), batch, want.data(), ref_ws.data());
                    Guarded<unsigned char> ws(k::xnor_dense_workspace_bytes(packed, batch), kGuardByte);
                    ops.xnor_dense({&pool, &ops}, packed, input.data(), batch, got.data(), ws.data());
                    INFO("rows=" << rows << " columns=" << columns << " batch=" << batch);
                    CHECK(ws.intact(kGuardByte));
                    check_exact(got, want, "xnor_dense");
                }
}

// Planes enough to be split over the threads, and few (one call, one thread); both strides' signs.
void check_upsample(const k::Ops& ops, Rng& rng, bool forward) {
    lenet::ThreadPool pool(3);
    const Compute compute{&pool, &ops};
    const k::UpsampleGeometry shapes[] = {{3, 5, 2, 0.5f}, {13, 13, 2, 1.0f}, {7, 9, -2, 0.25f}, {26, 26, -3, 1.0f},
                                          {4, 4, 1, 10.0f}};
    for (const k::UpsampleGeometry& g : shapes)
        for (const std::size_t planes : {std::size_t(1), std::size_t(5), std::size_t(400)}) {
            const std::size_t in = planes * std::size_t(g.height * g.width);
            const std::size_t out = planes * std::size_t(g.out_h() * g.out_w());
            INFO("h=" << g.height << " w=" << g.width << " stride=" << g.stride << " planes=" << planes);
            if (forward) {
                const auto x = floats(rng, in);
                Guarded<float> want = floats(rng, out), got = want;
                ref().upsample_forward({nullptr, &ref()}, g, planes, x.data(), want.data());
                ops.upsample_forward(compute, g, planes, x.data(), got.data());
                check_exact(got, want, "upsample_forward");
            } else {
                const auto delta = floats(rng, out);
                Guarded<float> want = floats(rng, in), got = want;
                ref().upsample_backward_add({nullptr, &ref()}, g, planes, delta.data(), want.data());
                ops.upsample_backward_add(compute, g, planes, delta.data(), got.data());
                check_exact(got, want, "upsample_backward_add");
            }
        }
}

// A packed once (the backend's layout), then products against the reference table's gemm.
void check_gemm_packed_a(const k::Ops& ops, Rng& rng) {
    lenet::ThreadPool pool(3);
    const int shapes[][3] = {{7, 13, 5}, {1, 17, 33}, {31, 3, 65}, {150, 70, 300}};
    for (const auto& s : shapes)
        for (const bool tb : {false, true})
            for (const bool threaded : {false, true}) {
                const int m = s[0], n = s[1], kk = s[2];
                const int lda = kk + 1, ldb = (tb ? kk : n) + 2, ldc = n + 3;
                const auto a = floats(rng, std::size_t(m) * std::size_t(lda));
                const auto b = floats(rng, std::size_t(tb ? n : kk) * std::size_t(ldb));
                Guarded<float> want = floats(rng, std::size_t(m) * std::size_t(ldc)), got = want;
                k::GemmArgs w{false, tb, m, n, kk, 1.0f, a.data(), lda, b.data(), ldb, 0.25f, want.data(), ldc};
                ref().gemm_single(w);
                k::PackedGemmA packed;
                ops.gemm_pack_a(a.data(), m, kk, lda, packed);
                k::GemmArgs g = w;
                g.a = nullptr;
                g.c = got.data();
                ops.gemm_packed_a({threaded ? &pool : nullptr, &ops}, packed, g);
                std::vector<double> bound(want.n);
                for (std::size_t i = 0; i < want.n; ++i)
                    bound[i] = 2.0 * (kk + 2) * kUlp * (kk + 0.25 * std::abs(double(want.data()[i])) + 1.0);
                INFO("m=" << m << " n=" << n << " k=" << kk << " tb=" << tb << " threaded=" << threaded);
                check_close(got, want, bound, "C");
            }
}

// Sign planes: the XNOR convolution with each input and output, max pooling (OR and AND),
// upsampling, bytes guarded, against the reference table.
void check_xnor_conv_io(const k::Ops& ops, Rng& rng) {
    for (const k::ConvGeometry& g : kXnorConvs)
        for (const int filters : {1, 5, 16, 17}) {
            lenet::ThreadPool pool(3);
            const auto weights = signs_with_zeros(rng, std::size_t(filters) * g.channels * g.size * g.size);
            const k::PackedFilters packed = k::pack_filters(weights.data(), filters, g.channels, g.size, k::ZeroSign::negative);
            const auto image = signs_with_zeros(rng, image_floats(g));
            const std::size_t spatial = std::size_t(g.out_h()) * std::size_t(g.out_w());
            std::vector<std::uint8_t> planes(k::sign_planes_bytes(g.channels, g.height, g.width));
            for (auto& byte : planes) byte = std::uint8_t(rng.below(256));
            if (g.channels % 8)  // bits of missing channels are 0
                for (std::size_t i = (planes.size() / std::size_t(g.height * g.width) - 1) * std::size_t(g.height * g.width); i < planes.size(); ++i)
                    planes[i] &= std::uint8_t((1u << (g.channels % 8)) - 1);
            std::vector<std::int32_t> above(std::size_t(filters), 0);
            std::vector<std::uint8_t> invert(std::size_t(filters), 0);
            for (int f = 0; f < filters; ++f) {
                above[std::size_t(f)] = std::int32_t(rng.below(9)) - 4;
                invert[std::size_t(f)] = std::uint8_t(f % 2);
            }
            for (const bool planes_in : {false, true})
                for (const bool planes_out : {false, true}) {
                    INFO("c=" << g.channels << " h=" << g.height << " w=" << g.width << " size=" << g.size
                              << " filters=" << filters << " planes in " << planes_in << " planes out " << planes_out);
                    const std::size_t out_bytes = k::sign_planes_bytes(filters, g.out_h(), g.out_w());
                    Guarded<float> want_dots(std::size_t(filters) * spatial, kGuardValue), got_dots = want_dots;
                    Guarded<unsigned char> want_planes(out_bytes, kGuardByte), got_planes = want_planes;
                    const auto io = [&](Guarded<float>& dots, Guarded<unsigned char>& out) {
                        k::XnorConvIo x;
                        if (planes_in) x.in_planes = planes.data();
                        else x.image = image.data();
                        if (planes_out) {
                            x.out_planes = out.data();
                            x.thresholds = {above.data(), invert.data()};
                        } else {
                            x.dots = dots.data();
                        }
                        return x;
                    };
                    std::vector<unsigned char> ref_ws(ref().xnor_conv_workspace(g, 1));
                    ref().xnor_conv_io({nullptr, &ref()}, g, packed, io(want_dots, want_planes), ref_ws.data());
                    Guarded<unsigned char> ws(ops.xnor_conv_workspace(g, 3), kGuardByte);
                    ops.xnor_conv_io({&pool, &ops}, g, packed, io(got_dots, got_planes), ws.data());
                    CHECK(ws.intact(kGuardByte));
                    CHECK(got_planes.intact(kGuardByte));
                    CHECK(got_planes.body() == want_planes.body());
                    check_exact(got_dots, want_dots, "xnor_conv_io");
                }
        }
}

void check_maxpool_signs(const k::Ops& ops, Rng& rng) {
    const k::PoolGeometry shapes[] = {{3, 8, 70, 2, 2, 0}, {2, 9, 67, 2, 2, 1}, {2, 13, 13, 2, 1, 1},
                                      {1, 5, 40, 2, 1, 0}, {2, 7, 9, 3, 2, 1}};
    for (const k::PoolGeometry& g : shapes) {
        Guarded<unsigned char> in(std::size_t(g.channels) * std::size_t(g.height * g.width), kGuardByte);
        for (std::size_t i = 0; i < in.n; ++i) in.data()[i] = std::uint8_t(rng.below(256));
        std::vector<std::uint8_t> and_bits(std::size_t(g.channels));
        for (auto& b : and_bits) b = std::uint8_t(rng.below(256));
        const std::size_t out = std::size_t(g.channels) * std::size_t(g.out_h() * g.out_w());
        Guarded<unsigned char> want(out, kGuardByte), got = want;
        ref().maxpool_signs(g, and_bits.data(), in.data(), want.data());
        ops.maxpool_signs(g, and_bits.data(), in.data(), got.data());
        INFO("h=" << g.height << " w=" << g.width << " size=" << g.size << " stride=" << g.stride);
        CHECK(got.intact(kGuardByte));
        CHECK(got.body() == want.body());
    }
}

void check_upsample_signs(const k::Ops& ops, Rng& rng) {
    const k::UpsampleGeometry shapes[] = {{3, 5, 2, 1.0f}, {13, 13, 2, 1.0f}, {4, 33, 2, 1.0f}, {5, 7, 3, 1.0f}};
    for (const k::UpsampleGeometry& g : shapes) {
        const std::size_t planes = 3;
        Guarded<unsigned char> in(planes * std::size_t(g.height * g.width), kGuardByte);
        for (std::size_t i = 0; i < in.n; ++i) in.data()[i] = std::uint8_t(rng.below(256));
        Guarded<unsigned char> want(planes * std::size_t(g.out_h() * g.out_w()), kGuardByte), got = want;
        ref().upsample_signs(g, planes, in.data(), want.data());
        ops.upsample_signs(g, planes, in.data(), got.data());
        INFO("h=" << g.height << " w=" << g.width << " stride=" << g.stride);
        CHECK(got.intact(kGuardByte));
        CHECK(got.body() == want.body());
    }
}

using Checker = std::function<void(const k::Ops&, Rng&)>;

const std::map<std::string, Checker>& checkers() {
    static const std::map<std::string, Checker> table{
        {"gemm", [](const k::Ops& o, Rng& r) { check_gemm(o, r, true); }},
        {"gemm_single", [](const k::Ops& o, Rng& r) { check_gemm(o, r, false); }},
        {"gemm_pack_a", check_gemm_packed_a},
        {"gemm_packed_a", check_gemm_packed_a},
        {"activate", [](const k::Ops& o, Rng& r) { check_activate(o, r, true); }},
        {"activate_single", [](const k::Ops& o, Rng& r) { check_activate(o, r, false); }},
        {"activation_gradient", [](const k::Ops& o, Rng& r) { check_activation_gradient(o, r, true); }},
        {"activation_gradient_single", [](const k::Ops& o, Rng& r) { check_activation_gradient(o, r, false); }},
        {"scale_add_bias", check_scale_add_bias},
        {"bias_gradient", [](const k::Ops& o, Rng& r) { check_channel_sum(o, r, 0); }},
        {"bias_gradient_single", [](const k::Ops& o, Rng& r) { check_channel_sum(o, r, 1); }},
        {"scale_gradient", [](const k::Ops& o, Rng& r) { check_channel_sum(o, r, 2); }},
        {"im2col", check_im2col},
        {"col2im_add", check_col2im},
        {"maxpool_forward", check_maxpool_forward},
        {"maxpool_backward_set", check_maxpool_backward_set},
        {"conv_maxpool_direct_fits", check_conv_maxpool_direct},
        {"conv_maxpool_direct", check_conv_maxpool_direct},
        {"conv_direct_fits", check_conv_direct},
        {"conv_direct", check_conv_direct},
        {"pooled_weight_gradient", check_pooled_weight_gradient},
        {"to_channels_last", [](const k::Ops& o, Rng& r) { check_channels_last(o, r, true); }},
        {"from_channels_last", [](const k::Ops& o, Rng& r) { check_channels_last(o, r, false); }},
        {"pooled_conv_backward_channels_last", check_pooled_conv_backward},
        {"adam_update", check_adam},
        // The workspace size is checked with the kernels that use it (guard bytes past its end).
        {"xnor_conv_workspace", [](const k::Ops& o, Rng& r) { check_xnor_conv(o, r, false); }},
        {"xnor_conv", [](const k::Ops& o, Rng& r) { check_xnor_conv(o, r, true); }},
        {"xnor_conv_single", [](const k::Ops& o, Rng& r) { check_xnor_conv(o, r, false); }},
        {"xnor_dense", check_xnor_dense},
        {"xnor_conv_io", check_xnor_conv_io},
        {"maxpool_signs", check_maxpool_signs},
        {"upsample_signs", check_upsample_signs},
        {"upsample_forward", [](const k::Ops& o, Rng& r) { check_upsample(o, r, true); }},
        {"upsample_backward_add", [](const k::Ops& o, Rng& r) { check_upsample(o, r, false); }},
        {"core_peak_gflops", [](const k::Ops& o, Rng&) { CHECK(o.core_peak_gflops() > 0.0); }},
    };
    return table;
}

}  // namespace

TEST_CASE("every op of every optimized backend matches the reference table, buffers guarded", "[kernels][backends]") {
    SKIP_WITHOUT_OPTIMIZED_BACKEND();
    for (const k::Ops* backend : lenet::test::optimized_backends()) {
        int own = 0;
        for (const k::OpOrigin& op : k::op_origins(*backend)) {
            if (std::string(op.origin) != "own") continue;
            ++own;
            INFO("backend " << backend->name << ", op " << op.op);
            const auto checker = checkers().find(op.op);
            REQUIRE(checker != checkers().end());  // a kernel of its own needs a checker here
            Rng rng(std::hash<std::string>{}(op.op));
            checker->second(*backend, rng);
        }
        CHECK(own > 0);
    }
}

TEST_CASE("the reference table has every op, and op_origins names each once", "[kernels]") {
    const std::vector<k::OpOrigin> origins = k::op_origins(k::reference_ops());
    std::map<std::string, int> seen;
    for (const k::OpOrigin& op : origins) {
        ++seen[op.op];
        INFO(op.op);
        // The direct convolutions (+ pool) are the optional ops (the reference has no such kernels).
        const bool optional = std::string(op.op) == "conv_maxpool_direct" || std::string(op.op) == "conv_direct";
        CHECK(std::string(op.origin) == (optional ? "none" : "reference"));
    }
    for (const auto& [name, count] : seen) CHECK(count == 1);
    CHECK(origins.size() > 40);
    for (const k::Ops* backend : k::available_backends()) {
        INFO(backend->name);
        CHECK(k::find_ops(backend->name) == backend);
        CHECK(lenet::parse_backend(backend->name) == backend);
    }
    CHECK(lenet::parse_backend("auto") == &k::best_ops());
    CHECK_THROWS_WITH(lenet::parse_backend("sse9"), Catch::Contains("unknown backend"));
}

TEST_CASE("the default backend is the ISA's own: neon on AArch64", "[kernels][backends]") {
#if defined(__aarch64__)
    CHECK(std::string(lenet::backend_name(lenet::best_backend())) == "neon");
    CHECK(lenet::parse_backend("neon") == lenet::best_backend());
#else
    CHECK_THROWS_WITH(lenet::parse_backend("neon"), Catch::Contains("unknown backend"));
#endif
}
