// Each optimized backend's GEMM against the reference kernel: ragged and prime shapes, every transpose, alpha and
// beta, padded leading dimensions, NaN-filled C with beta == 0, k == 0, shapes that cross the
// kernel's cache blocks, and the threaded dispatcher splitting C by rows and by columns.
//
// Tolerance: |optimized - reference| <= 1e-5 * (k + 1) * max(1, |reference|). The two sum the k products
// in different orders (and a vector kernel may fuse multiply and add), so the rounding difference
// grows with k; operands are uniform in [-1, 1], so a wrong index or a lost term is off by O(1).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/thread_pool.h"
#include "kernels/backend.h"
#include "kernels/gemm/gemm.h"
#include "../backends.h"

namespace {

using lenet::kernels::GemmArgs;

constexpr float kSentinel = 12345.0f;  // fills the padding of C, which must never be written

struct Case {
    bool trans_a = false, trans_b = false;
    int m = 0, n = 0, k = 0;
    float alpha = 1.0f, beta = 0.0f;
    int pad_a = 0, pad_b = 0, pad_c = 0;  // extra floats per stored row
};

std::string describe(const Case& c) {
    std::ostringstream out;
    out << "m=" << c.m << " n=" << c.n << " k=" << c.k << " trans_a=" << c.trans_a << " trans_b=" << c.trans_b
        << " alpha=" << c.alpha << " beta=" << c.beta << " pads=" << c.pad_a << "," << c.pad_b << "," << c.pad_c;
    return out.str();
}

// Operands for one case, stored as the case says (transposed or not, padded rows), and a C whose
// logical part is NaN when beta == 0 (it must not be read) and whose padding holds kSentinel.
struct Operands {
    std::vector<float> a, b, c;
    GemmArgs args;

    Operands(const Case& c_, std::uint64_t seed) {
        lenet::Rng rng(seed);
        const int a_rows = c_.trans_a ? c_.k : c_.m, a_cols = c_.trans_a ? c_.m : c_.k;
        const int b_rows = c_.trans_b ? c_.n : c_.k, b_cols = c_.trans_b ? c_.k : c_.n;
        args.trans_a = c_.trans_a;
        args.trans_b = c_.trans_b;
        args.m = c_.m;
        args.n = c_.n;
        args.k = c_.k;
        args.alpha = c_.alpha;
        args.beta = c_.beta;
        args.lda = a_cols + c_.pad_a;
        args.ldb = b_cols + c_.pad_b;
        args.ldc = c_.n + c_.pad_c;
        // At least one float so data() is a valid pointer even for empty operands.
        a.resize(std::max<std::size_t>(1, std::size_t(a_rows) * args.lda));
        b.resize(std::max<std::size_t>(1, std::size_t(b_rows) * args.ldb));
        c.resize(std::max<std::size_t>(1, std::size_t(c_.m) * args.ldc));
        for (float& x : a) x = rng.uniform(-1.0f, 1.0f);
        for (float& x : b) x = rng.uniform(-1.0f, 1.0f);
        for (int i = 0; i < c_.m; ++i)
            for (int j = 0; j < args.ldc; ++j)
                c[std::size_t(i) * args.ldc + j] = j >= c_.n         ? kSentinel
                                                   : c_.beta == 0.0f ? std::numeric_limits<float>::quiet_NaN()
                                                                     : rng.uniform(-1.0f, 1.0f);
        args.a = a.data();
        args.b = b.data();
        args.c = c.data();
    }
};

// Runs `kernel` and the reference on identical operands; counts elements out of tolerance (NaN
// counts as out) and padding elements that changed, reporting the first of each.
template <class Kernel>
void check_against_reference(const Case& cs, Kernel&& kernel, std::uint64_t seed = 1) {
    Operands got(cs, seed), want(cs, seed);
    kernel(got.args);
    lenet::kernels::gemm_reference(want.args);

    const double tolerance = 1e-5 * (cs.k + 1);
    int bad = 0, padding_written = 0;
    std::string first;
    for (int i = 0; i < cs.m; ++i) {
        for (int j = 0; j < got.args.ldc; ++j) {
            const std::size_t at = std::size_t(i) * got.args.ldc + j;
            const float x = got.c[at], ref = want.c[at];
            if (j >= cs.n) {
                if (x != kSentinel) ++padding_written;
                continue;
            }
            const bool ok = std::isfinite(x) && std::abs(double(x) - ref) <= tolerance * std::max(1.0, std::abs(double(ref)));
            if (!ok && bad++ == 0) {
                std::ostringstream out;
                out << "C[" << i << "][" << j << "] = " << x << ", reference " << ref;
                first = out.str();
            }
        }
    }
    INFO(describe(cs));
    INFO(first);
    CHECK(bad == 0);
    CHECK(padding_written == 0);
}

// Every optimized backend's single-threaded GEMM against the reference.
void check_backends(const Case& cs, std::uint64_t seed = 1) {
    for (const lenet::kernels::Ops* backend : lenet::test::optimized_backends()) {
        INFO("backend " << backend->name);
        check_against_reference(
            cs, [&](const GemmArgs& g) { backend->gemm_single(g); }, seed);
    }
}

const int kSizes[] = {1, 2, 3, 5, 7, 13, 17, 31, 33, 65, 127, 257};
const float kAlphas[] = {1.0f, 0.5f, -2.0f};
const float kBetas[] = {0.0f, 1.0f, 0.25f};

}  // namespace

TEST_CASE("optimized gemm matches the reference on odd and prime shapes, all transposes", "[gemm][backends]") {
    SKIP_WITHOUT_OPTIMIZED_BACKEND();
    // k 257 and 300 span two k blocks, m or n 257 two row blocks of the kernel.
    const int ks[] = {1, 2, 5, 8, 9, 31, 64, 257, 300};
    int index = 0;
    for (bool trans_a : {false, true}) {
        for (bool trans_b : {false, true}) {
            for (int m : kSizes) {
                for (int n : kSizes) {
                    Case cs;
                    cs.trans_a = trans_a;
                    cs.trans_b = trans_b;
                    cs.m = m;
                    cs.n = n;
                    // Rotate the other parameters through every (m, n) pair rather than crossing them.
                    cs.k = ks[index % 9];
                    cs.alpha = kAlphas[index % 3];
                    cs.beta = kBetas[(index / 3) % 3];
                    cs.pad_a = index % 4 == 1 ? 3 : 0;
                    cs.pad_b = index % 4 == 2 ? 5 : 0;
                    cs.pad_c = index % 4 == 3 ? 7 : index % 4;
                    check_backends(cs, std::uint64_t(index) + 1);
                    ++index;
                }
            }
        }
    }
}

TEST_CASE("optimized gemm handles every alpha and beta with every transpose", "[gemm][backends]") {
    SKIP_WITHOUT_OPTIMIZED_BACKEND();
    // The second shape crosses the row and k blocks, so later k blocks must accumulate onto the first.
    const Case shapes[] = {{false, false, 37, 45, 29}, {false, false, 150, 70, 300}};
    for (const Case& shape : shapes)
        for (bool trans_a : {false, true})
            for (bool trans_b : {false, true})
                for (float alpha : kAlphas)
                    for (float beta : kBetas) {
                        Case cs = shape;
                        cs.trans_a = trans_a;
                        cs.trans_b = trans_b;
                        cs.alpha = alpha;
                        cs.beta = beta;
                        cs.pad_a = 1;
                        cs.pad_b = 2;
                        cs.pad_c = 3;
                        check_backends(cs);
                    }
}

TEST_CASE("optimized gemm handles leading dimensions larger than the rows", "[gemm][backends]") {
    SKIP_WITHOUT_OPTIMIZED_BACKEND();
    for (bool trans_a : {false, true})
        for (bool trans_b : {false, true})
            for (int pad : {1, 8, 16, 61}) {
                Case cs{trans_a, trans_b, 19, 23, 41, 0.5f, 0.25f, pad, pad + 2, pad + 5};
                check_backends(cs);
            }
}

TEST_CASE("optimized gemm with beta == 0 never reads C", "[gemm][backends]") {
    SKIP_WITHOUT_OPTIMIZED_BACKEND();
    // Operands fills C with NaN when beta == 0; any read of it would leak into the result.
    for (bool trans_a : {false, true})
        for (bool trans_b : {false, true})
            for (const Case& shape : {Case{false, false, 1, 1, 1}, Case{false, false, 6, 16, 8},
                                      Case{false, false, 13, 33, 17}, Case{false, false, 257, 31, 300}}) {
                Case cs = shape;
                cs.trans_a = trans_a;
                cs.trans_b = trans_b;
                cs.beta = 0.0f;
                cs.pad_c = 4;
                check_backends(cs);
            }
}

TEST_CASE("optimized gemm with k == 0 scales C by beta", "[gemm][backends]") {
    SKIP_WITHOUT_OPTIMIZED_BACKEND();
    for (float beta : kBetas) {
        Case cs{false, false, 7, 13, 0, 2.0f, beta, 0, 0, 3};
        check_backends(cs);
        Operands ops(cs, 5);
        for (const auto* backend : lenet::test::optimized_backends()) backend->gemm_single(ops.args);
        for (int i = 0; i < cs.m; ++i)
            for (int j = 0; j < cs.n; ++j)
                if (beta == 0.0f) REQUIRE(ops.c[std::size_t(i) * ops.args.ldc + j] == 0.0f);
    }
}

TEST_CASE("optimized gemm with m or n == 0 changes nothing", "[gemm][backends]") {
    SKIP_WITHOUT_OPTIMIZED_BACKEND();
    std::vector<float> a(64, 1.0f), b(64, 1.0f), c(64, 7.0f);
    for (int which = 0; which < 2; ++which) {
        GemmArgs g;
        g.m = which == 0 ? 0 : 4;
        g.n = which == 0 ? 4 : 0;
        g.k = 4;
        g.a = a.data();
        g.lda = 4;
        g.b = b.data();
        g.ldb = 4;
        g.c = c.data();
        g.ldc = 4;
        for (const auto* backend : lenet::test::optimized_backends()) backend->gemm_single(g);
        CHECK(std::all_of(c.begin(), c.end(), [](float x) { return x == 7.0f; }));
    }
}

TEST_CASE("optimized gemm matches the reference across the column block", "[gemm][backends]") {
    SKIP_WITHOUT_OPTIMIZED_BACKEND();
    // n = 4099 spans two column panels of packed B.
    for (bool trans_a : {false, true})
        for (bool trans_b : {false, true}) {
            Case cs{trans_a, trans_b, 7, 4099, 20, -2.0f, 0.25f, 0, 1, 2};
            check_backends(cs);
        }
    check_backends(Case{false, false, 13, 4100, 300, 1.0f, 1.0f, 0, 0, 0});
}

TEST_CASE("optimized gemm matches the reference on LeNet-sized products", "[gemm][backends]") {
    SKIP_WITHOUT_OPTIMIZED_BACKEND();
    // Convolution forward and both backward products for a batch of 128.
    const Case shapes[] = {
        {false, false, 32, 676, 9, 1.0f, 0.0f},   {false, false, 32, 144, 128, 1.0f, 1.0f},
        {false, true, 128, 500, 1152, 1.0f, 0.0f}, {true, false, 500, 1152, 128, 1.0f, 0.0f},
        {false, false, 128, 1152, 500, 1.0f, 1.0f},
    };
    for (const Case& cs : shapes) check_backends(cs);
}

TEST_CASE("threaded gemm of each optimized backend matches the reference", "[gemm][backends][threads]") {
    SKIP_WITHOUT_OPTIMIZED_BACKEND();
    for (int threads : {2, 3}) {
        lenet::ThreadPool pool(threads);
        for (const auto* backend : lenet::test::optimized_backends()) {
            const lenet::Compute compute{&pool, backend};
            // m >= n splits C by rows, n > m by columns; both are large enough to be split.
            const Case shapes[] = {{false, false, 200, 51, 40, 0.5f, 0.25f, 1, 2, 3},
                                   {false, false, 31, 301, 70, -2.0f, 1.0f, 2, 1, 5},
                                   {false, false, 97, 97, 97, 1.0f, 0.0f, 0, 0, 1}};
            for (const Case& shape : shapes)
                for (bool trans_a : {false, true})
                    for (bool trans_b : {false, true}) {
                        Case cs = shape;
                        cs.trans_a = trans_a;
                        cs.trans_b = trans_b;
                        INFO("threads=" << threads);
                        check_against_reference(cs, [&](const GemmArgs& g) { compute.ops->gemm(compute, g); });

                        // The split is fixed for a thread count, so a repeat gives the same bits.
                        Operands first(cs, 9), second(cs, 9);
                        compute.ops->gemm(compute, first.args);
                        compute.ops->gemm(compute, second.args);
                        CHECK(first.c == second.c);
                    }
        }
    }
}

TEST_CASE("gemm with A packed once equals each backend's gemm bit for bit", "[gemm][backends]") {
    // The product a float layer runs at inference with its weights packed at load: the same sums
    // in the same order as the backend's gemm (threaded by rows, by columns, or on one thread),
    // whatever B's transpose, beta and padding; shapes cross the row, depth and column blocks.
    struct Shape {
        int m, n, k;
    };
    const Shape shapes[] = {{1, 1, 1}, {7, 5, 3}, {13, 17, 29}, {512, 169, 2304}, {255, 676, 256},
                            {150, 31, 300}, {6, 4100, 9}, {97, 1, 513}, {5, 300, 0}};
    lenet::ThreadPool pool(3);
    std::uint64_t seed = 90;
    for (const lenet::kernels::Ops* ops : lenet::test::all_backends())
        for (const Shape& s : shapes)
            for (const bool trans_b : {false, true})
                for (const float beta : {0.0f, 1.0f, -0.5f}) {
                    INFO(ops->name << " m=" << s.m << " n=" << s.n << " k=" << s.k << " trans_b=" << trans_b << " beta=" << beta);
                    lenet::Rng rng(++seed);
                    const int lda = s.k + 3, ldb = (trans_b ? s.k : s.n) + 2, ldc = s.n + 1;
                    std::vector<float> a(std::size_t(s.m) * std::size_t(lda)), b(std::size_t(trans_b ? s.n : s.k) * std::size_t(ldb) + 1),
                        c0(std::size_t(s.m) * std::size_t(ldc) + 1);
                    for (float& x : a) x = rng.uniform(-1.0f, 1.0f);
                    for (float& x : b) x = rng.uniform(-1.0f, 1.0f);
                    for (float& x : c0) x = rng.uniform(-1.0f, 1.0f);
                    lenet::kernels::PackedGemmA packed;
                    ops->gemm_pack_a(a.data(), s.m, s.k, lda, packed);
                    for (const bool threaded : {false, true}) {
                        const lenet::Compute compute{threaded ? &pool : nullptr, ops};
                        std::vector<float> expected = c0, got = c0;
                        GemmArgs args{false, trans_b, s.m, s.n, s.k, 1.0f, a.data(), lda, b.data(), ldb, beta, expected.data(), ldc};
                        if (threaded) ops->gemm(compute, args);
                        else ops->gemm_single(args);
                        args.c = got.data();
                        args.a = nullptr;
                        ops->gemm_packed_a(compute, packed, args);
                        REQUIRE(got == expected);
                    }
                }
}
