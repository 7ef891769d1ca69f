// Every op of the cuda table against the reference kernel on the same inputs, in managed memory:
// float ops within a tolerance (other summation orders, expf/tanhf), pooling's choices and the
// XNOR dots bit-exact. Shapes are odd on purpose (no multiple of a warp or a block).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "core/tensor.h"
#include "kernels/cuda/cuda.h"
#include "kernels/ops.h"

namespace {

namespace k = lenet::kernels;
using lenet::Tensor;

const k::Ops& gpu() { return k::cuda::table(); }
const k::Ops& cpu() { return k::reference_ops(); }
lenet::Compute gpu_compute() { return {nullptr, &gpu()}; }
lenet::Compute cpu_compute() { return {nullptr, &cpu()}; }

// A managed buffer of n floats (or n ints / n/2 words reinterpreted), filled by the host.
struct Buffer {
    Tensor t;
    explicit Buffer(std::size_t n) : t(Tensor::flat(std::max<std::size_t>(n, 1), k::cuda::managed_memory())) {}
    float* f() { return t.data(); }
    std::int32_t* i() { return reinterpret_cast<std::int32_t*>(t.data()); }
    k::BitWord* words() { return reinterpret_cast<k::BitWord*>(t.data()); }
    std::vector<float> host(std::size_t n) const { return {t.data(), t.data() + n}; }
};

std::vector<float> random_values(std::size_t n, unsigned seed, bool with_zeros = false) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = with_zeros && i % 7 == 3 ? (i % 2 ? -0.0f : 0.0f) : u(rng);
    return v;
}

Buffer managed(const std::vector<float>& v) {
    Buffer b(v.size());
    std::copy(v.begin(), v.end(), b.f());
    return b;
}

void check_close(const float* got, const std::vector<float>& want, float tolerance) {
    std::size_t bad = 0, first = 0;
    for (std::size_t i = 0; i < want.size(); ++i)
        if (!(std::fabs(got[i] - want[i]) <= tolerance * std::max(1.0f, std::fabs(want[i])))) {
            if (bad++ == 0) first = i;
        }
    INFO("first mismatch at " << first << ": " << got[first] << " vs " << want[first]);
    CHECK(bad == 0);
}

void check_equal(const float* got, const std::vector<float>& want) {
    CHECK(std::memcmp(got, want.data(), want.size() * sizeof(float)) == 0);
}

}  // namespace

TEST_CASE("cuda table: the ops with kernels of their own", "[cuda]") {
    for (const char* op : {"gemm", "activate", "activation_gradient", "batchnorm_backward", "adam_update", "im2col",
                           "col2im_add", "maxpool_forward", "xnor_conv", "xnor_dense"}) {
        bool own = false;
        for (const k::OpOrigin& o : k::op_origins(gpu()))
            if (std::string(o.op) == op) own = std::string(o.origin) == "own";
        INFO(op);
        CHECK(own);
    }
    CHECK(k::tensor_memory(gpu()).device() == lenet::Device::cuda_managed);
}

TEST_CASE("cuda gemm equals the reference: every transpose, odd shapes, strides, alpha and beta", "[cuda]") {
    const int m = 37, n = 29, kk = 53, pad = 3;
    for (bool ta : {false, true})
        for (bool tb : {false, true})
            for (float beta : {0.0f, 0.7f}) {
                const int lda = (ta ? m : kk) + pad, ldb = (tb ? kk : n) + pad, ldc = n + pad;
                const std::vector<float> a = random_values(std::size_t(ta ? kk : m) * lda, 1);
                const std::vector<float> b = random_values(std::size_t(tb ? n : kk) * ldb, 2);
                const std::vector<float> c0 = random_values(std::size_t(m) * ldc, 3);
                Buffer ga = managed(a), gb = managed(b), gc = managed(c0);
                std::vector<float> want = c0;
                k::GemmArgs args{ta, tb, m, n, kk, 1.5f, a.data(), lda, b.data(), ldb, beta, want.data(), ldc};
                k::gemm_reference(args);
                args.a = ga.f();
                args.b = gb.f();
                args.c = gc.f();
                gpu().gemm(gpu_compute(), args);
                INFO("trans_a " << ta << " trans_b " << tb << " beta " << beta);
                check_close(gc.f(), want, 1e-4f);
            }
}

TEST_CASE("cuda activations and their gradients equal the reference", "[cuda]") {
    const std::size_t n = 1031;
    for (lenet::Activation a : {lenet::Activation::linear, lenet::Activation::relu, lenet::Activation::leaky,
                                lenet::Activation::logistic, lenet::Activation::tanh}) {
        INFO(lenet::activation_name(a));
        std::vector<float> x = random_values(n, 4, true), delta = random_values(n, 5);
        Buffer gx = managed(x), gd = managed(delta);
        cpu().activate(cpu_compute(), a, x.data(), n);
        gpu().activate(gpu_compute(), a, gx.f(), n);
        check_close(gx.f(), x, 1e-6f);
        cpu().activation_gradient(cpu_compute(), a, x.data(), delta.data(), n);
        gpu().activation_gradient(gpu_compute(), a, gx.f(), gd.f(), n);
        check_close(gd.f(), delta, 1e-6f);
    }
}

TEST_CASE("cuda add, copy, multiply, multiply_add equal the reference", "[cuda]") {
    const std::size_t n = 777;
    const std::vector<float> src = random_values(n, 6), factor = random_values(n, 7), dst0 = random_values(n, 8);
    Buffer gs = managed(src), gf = managed(factor);
    std::vector<float> want = dst0;
    Buffer gd = managed(dst0);
    k::add_reference(src.data(), n, want.data());
    gpu().add(gs.f(), n, gd.f());
    check_equal(gd.f(), want);
    gpu().copy(gs.f(), n, gd.f());
    check_equal(gd.f(), src);
    k::multiply_reference(src.data(), factor.data(), n, want.data());
    gpu().multiply(gs.f(), gf.f(), n, gd.f());
    check_equal(gd.f(), want);
    k::multiply_add_reference(src.data(), factor.data(), n, want.data());
    gpu().multiply_add(gs.f(), gf.f(), n, gd.f());
    check_close(gd.f(), want, 1e-6f);
}

TEST_CASE("cuda Adam equals the reference, with and without zeroing the gradient", "[cuda]") {
    const std::size_t n = 1001;
    for (bool zero_grad : {true, false}) {
        const k::AdamArgs args{0.9f, 0.999f, 1e-7f, 5e-4f, 0.01f, zero_grad};
        std::vector<float> value = random_values(n, 9), grad = random_values(n, 10), m = random_values(n, 11),
                           v = random_values(n, 12);
        for (float& x : v) x = std::fabs(x);
        Buffer gv = managed(value), gg = managed(grad), gm = managed(m), gs = managed(v);
        for (int step = 0; step < 3; ++step) {
            cpu().adam_update(args, value.data(), grad.data(), m.data(), v.data(), n);
            gpu().adam_update(args, gv.f(), gg.f(), gm.f(), gs.f(), n);
        }
        check_close(gv.f(), value, 1e-5f);
        check_close(gm.f(), m, 1e-5f);
        check_close(gs.f(), v, 1e-5f);
        check_equal(gg.f(), grad);
    }
}

TEST_CASE("cuda batchnorm ops equal the reference", "[cuda]") {
    const int batch = 3, channels = 5, spatial = 7 * 9;
    const std::size_t n = std::size_t(batch) * channels * spatial;
    const std::vector<float> x = random_values(n, 13), delta = random_values(n, 14);
    std::vector<float> scales = random_values(channels, 15), biases = random_values(channels, 16);
    Buffer gx = managed(x), gdelta = managed(delta), gscales = managed(scales), gbiases = managed(biases);

    SECTION("scale_add_bias, with and without scales") {
        for (bool with_scales : {true, false}) {
            std::vector<float> want = x;
            Buffer got = managed(x);
            k::scale_add_bias_reference(want.data(), with_scales ? scales.data() : nullptr, biases.data(), batch,
                                        channels, spatial);
            gpu().scale_add_bias(got.f(), with_scales ? gscales.f() : nullptr, gbiases.f(), batch, channels, spatial);
            check_close(got.f(), want, 1e-6f);
        }
    }
    SECTION("bias and scale gradients add to what is there") {
        std::vector<float> want = random_values(channels, 17), want_scale = want;
        Buffer got = managed(want), got_scale = managed(want);
        k::bias_gradient_reference(delta.data(), batch, channels, spatial, want.data());
        gpu().bias_gradient(gpu_compute(), gdelta.f(), batch, channels, spatial, got.f());
        check_close(got.f(), want, 1e-5f);
        k::scale_gradient_reference(delta.data(), x.data(), batch, channels, spatial, want_scale.data());
        gpu().scale_gradient(gpu_compute(), gdelta.f(), gx.f(), batch, channels, spatial, got_scale.f());
        check_close(got_scale.f(), want_scale, 1e-5f);
    }
    SECTION("statistics, normalisation, rolling averages, backward") {
        std::vector<float> mean(channels), variance(channels);
        Buffer gmean(channels), gvariance(channels);
        k::channel_mean_variance(x.data(), batch, channels, spatial, mean.data(), variance.data());
        gpu().channel_mean_variance(gx.f(), batch, channels, spatial, gmean.f(), gvariance.f());
        check_close(gmean.f(), mean, 1e-6f);
        check_close(gvariance.f(), variance, 1e-6f);

        std::vector<float> x_norm(n), rolling_out(n);
        Buffer gx_norm(n), grolling_out(n);
        k::normalize(x.data(), mean.data(), variance.data(), batch, channels, spatial, x_norm.data());
        gpu().normalize(gx.f(), gmean.f(), gvariance.f(), batch, channels, spatial, gx_norm.f());
        check_close(gx_norm.f(), x_norm, 1e-5f);
        k::normalize_rolling(x.data(), mean.data(), variance.data(), batch, channels, spatial, rolling_out.data());
        gpu().normalize_rolling(gx.f(), gmean.f(), gvariance.f(), batch, channels, spatial, grolling_out.f());
        check_close(grolling_out.f(), rolling_out, 1e-5f);

        std::vector<float> rolling_mean = random_values(channels, 18), rolling_variance = random_values(channels, 19);
        Buffer grm = managed(rolling_mean), grv = managed(rolling_variance);
        k::update_rolling(mean.data(), variance.data(), channels, batch * spatial, rolling_mean.data(),
                          rolling_variance.data());
        gpu().update_rolling(gmean.f(), gvariance.f(), channels, batch * spatial, grm.f(), grv.f());
        check_close(grm.f(), rolling_mean, 1e-6f);
        check_close(grv.f(), rolling_variance, 1e-6f);

        std::vector<float> want = delta;
        Buffer got = managed(delta);
        k::batchnorm_backward(want.data(), x_norm.data(), scales.data(), variance.data(), batch, channels, spatial);
        gpu().batchnorm_backward(got.f(), gx_norm.f(), gscales.f(), gvariance.f(), batch, channels, spatial);
        check_close(got.f(), want, 1e-4f);
    }
}

TEST_CASE("cuda im2col and col2im_add equal the reference", "[cuda]") {
    for (const k::ConvGeometry g : {k::ConvGeometry{3, 7, 9, 3, 1, 1}, k::ConvGeometry{2, 8, 5, 3, 2, 0},
                                    k::ConvGeometry{4, 6, 7, 1, 1, 0}, k::ConvGeometry{3, 9, 11, 5, 2, 2},
                                    k::ConvGeometry{1, 5, 5, 4, 3, 1}}) {
        INFO("c " << g.channels << " " << g.height << "x" << g.width << " size " << g.size << " stride " << g.stride
                  << " pad " << g.pad);
        const std::size_t image_n = std::size_t(g.channels) * g.height * g.width;
        const std::size_t columns_n = std::size_t(g.channels) * g.size * g.size * g.out_h() * g.out_w();
        const std::vector<float> image = random_values(image_n, 20), columns = random_values(columns_n, 21);
        Buffer gimage = managed(image), gcolumns(columns_n);
        std::vector<float> want(columns_n);
        k::im2col_reference(g, image.data(), want.data());
        gpu().im2col(g, gimage.f(), gcolumns.f());
        check_equal(gcolumns.f(), want);

        std::vector<float> back = image;
        Buffer gcols = managed(columns), gback = managed(image);
        k::col2im_add_reference(g, columns.data(), back.data());
        gpu().col2im_add(g, gcols.f(), gback.f());
        check_close(gback.f(), back, 1e-5f);
    }
}

TEST_CASE("cuda max pooling equals the reference: values and argmax exactly, gradients", "[cuda]") {
    const int batch = 3;
    for (const k::PoolGeometry g : {k::PoolGeometry{3, 7, 9, 2, 2, 0}, k::PoolGeometry{2, 7, 8, 2, 2, 1},
                                    k::PoolGeometry{2, 6, 6, 3, 2, 1}, k::PoolGeometry{1, 5, 5, 2, 1, 1},
                                    k::PoolGeometry{2, 9, 7, 3, 3, 2}}) {
        INFO("c " << g.channels << " " << g.height << "x" << g.width << " size " << g.size << " stride " << g.stride
                  << " padding " << g.padding);
        const std::size_t in_n = std::size_t(batch) * g.channels * g.height * g.width;
        const std::size_t out_n = std::size_t(batch) * g.channels * g.out_h() * g.out_w();
        std::vector<float> in = random_values(in_n, 22);
        for (std::size_t i = 0; i < in_n; i += 5) in[i] = 0.25f;  // ties: the first maximum wins
        Buffer gin = managed(in), gout(out_n), gargmax(out_n);
        std::vector<float> out(out_n);
        std::vector<std::int32_t> argmax(out_n);
        k::maxpool_forward_reference(g, batch, in.data(), out.data(), argmax.data());
        gpu().maxpool_forward(g, batch, gin.f(), gout.f(), gargmax.i());
        check_equal(gout.f(), out);
        CHECK(std::equal(argmax.begin(), argmax.end(), gargmax.i()));

        const std::vector<float> delta = random_values(out_n, 23), grad0 = random_values(in_n, 24);
        Buffer gdelta = managed(delta), gset = managed(grad0), gadd = managed(grad0);
        std::vector<float> set = grad0, added = grad0;
        k::maxpool_backward_set_reference(g, batch, delta.data(), argmax.data(), set.data());
        k::maxpool_backward_add_reference(g, batch, delta.data(), argmax.data(), added.data());
        gpu().maxpool_backward_set(g, batch, gdelta.f(), gargmax.i(), gset.f());
        gpu().maxpool_backward_add(g, batch, gdelta.f(), gargmax.i(), gadd.f());
        check_close(gset.f(), set, 1e-6f);
        check_close(gadd.f(), added, 1e-6f);
    }
}

TEST_CASE("cuda XNOR convolution equals the reference bit for bit", "[cuda][xnor]") {
    for (const k::ConvGeometry g : {k::ConvGeometry{3, 7, 9, 3, 1, 1}, k::ConvGeometry{64, 5, 6, 3, 1, 1},
                                    k::ConvGeometry{65, 6, 5, 3, 2, 1}, k::ConvGeometry{130, 4, 7, 1, 1, 0},
                                    k::ConvGeometry{7, 11, 9, 5, 3, 2}}) {
        for (k::ZeroSign zero : {k::ZeroSign::positive, k::ZeroSign::negative}) {
            const int filters = 13;
            INFO("c " << g.channels << " " << g.height << "x" << g.width << " size " << g.size << " stride "
                      << g.stride << " pad " << g.pad << " zero " << int(zero));
            const std::vector<float> weights =
                random_values(std::size_t(filters) * g.channels * g.size * g.size, 25, true);
            const std::vector<float> image = random_values(std::size_t(g.channels) * g.height * g.width, 26, true);
            const k::PackedFilters packed = k::pack_filters(weights.data(), filters, g.channels, g.size, zero);
            const std::size_t dots_n = std::size_t(filters) * g.out_h() * g.out_w();
            std::vector<float> want(dots_n);
            std::vector<unsigned char> workspace(k::xnor_conv_workspace_reference(g, 1));
            k::xnor_conv_single_reference(g, packed, image.data(), want.data(), workspace.data());

            Buffer gimage = managed(image), gdots(dots_n);
            Buffer gworkspace(gpu().xnor_conv_workspace(g, 1) / sizeof(float) + 1);
            gpu().xnor_conv(gpu_compute(), g, packed, gimage.f(), gdots.f(), gworkspace.f());
            check_equal(gdots.f(), want);

            // The packed image itself, word for word (the bit layout of binary/xnor.h).
            std::vector<k::BitWord> hwc(k::pack_image_words(g));
            k::pack_image_reference(g, image.data(), zero, hwc.data());
            const auto* address = reinterpret_cast<const unsigned char*>(gworkspace.f());
            const auto* words = reinterpret_cast<const k::BitWord*>(
                address + ((64 - reinterpret_cast<std::uintptr_t>(address) % 64) % 64));
            CHECK(std::equal(hwc.begin(), hwc.end(), words));
        }
    }
}

TEST_CASE("cuda XNOR dense layer equals the reference bit for bit", "[cuda][xnor]") {
    for (int columns : {1, 63, 64, 65, 200})
        for (k::ZeroSign zero : {k::ZeroSign::positive, k::ZeroSign::negative}) {
            const int rows = 11, batch = 5;
            INFO("columns " << columns << " zero " << int(zero));
            const std::vector<float> weights = random_values(std::size_t(rows) * columns, 27, true);
            const std::vector<float> input = random_values(std::size_t(batch) * columns, 28, true);
            const k::PackedRows packed = k::pack_rows(weights.data(), rows, columns, zero);
            std::vector<float> want(std::size_t(batch) * rows);
            std::vector<unsigned char> workspace(k::xnor_dense_workspace_bytes(packed, batch));
            cpu().xnor_dense(cpu_compute(), packed, input.data(), batch, want.data(), workspace.data());
            Buffer ginput = managed(input), gdots(want.size());
            Buffer gworkspace(k::xnor_dense_workspace_bytes(packed, batch) / sizeof(float) + 1);
            gpu().xnor_dense(gpu_compute(), packed, ginput.f(), batch, gdots.f(), gworkspace.f());
            check_equal(gdots.f(), want);
        }
}

TEST_CASE("cuda gemm with k = 0 scales C by beta, and beta = 0 overwrites garbage", "[cuda]") {
    const int m = 5, n = 7, ldc = 9;
    std::vector<float> c0 = random_values(std::size_t(m) * ldc, 29);
    for (float beta : {0.0f, 0.5f}) {
        Buffer gc = managed(c0);
        if (beta == 0.0f)
            for (int j = 0; j < n; ++j) gc.f()[j] = std::nanf("");
        std::vector<float> want = c0;
        for (int i = 0; i < m; ++i)
            for (int j = 0; j < n; ++j) want[std::size_t(i) * ldc + j] = beta * c0[std::size_t(i) * ldc + j];
        const k::GemmArgs args{false, false, m, n, 0, 1.0f, gc.f(), 1, gc.f(), ldc, beta, gc.f(), ldc};
        gpu().gemm(gpu_compute(), args);
        INFO("beta " << beta);
        check_close(gc.f(), want, 1e-6f);
    }
}
