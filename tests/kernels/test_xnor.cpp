// The bit-packed XNOR kernels of every backend (through its table) against a plain float
// simulation of the same binary arithmetic: sign the input, zero-pad, and sum the +-1 products.
// Both sign rules: XNOR-Net's (x >= 0 -> +1, so 0 and -0 are +1; xnor_scale=k) and Darknet's
// (x > 0 -> +1, so 0 and -0 are -1; xnor_scale=none). Padded taps are 0 under both (not -1, as
// AlexeyAB's packed path makes them). Results are integers, so every backend and thread count
// must match exactly.
// Shapes sweep channel counts around the packing units (1, 3, 32, 63, 64, 65, 130 against nibbles
// of 4, steps of 8, words of 64), windows 1-5, strides 1-3, paddings 0-2, odd image sizes and
// filter counts around multiples of 4 and 16; inputs include exact zeros and negative zeros.
#include <catch2/catch.hpp>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/thread_pool.h"
#include "kernels/backend.h"
#include "kernels/binary/xnor.h"
#include "kernels/ops.h"

namespace {

using lenet::Backend;
using lenet::Rng;
namespace k = lenet::kernels;

constexpr float kGuard = 12345.0f;      // fills the floats past an output, which must never be written
constexpr std::size_t kGuardFloats = 16;
constexpr unsigned char kGuardByte = 0xA5;  // fills the bytes past a workspace

constexpr k::ZeroSign kPositive = k::ZeroSign::positive, kNegative = k::ZeroSign::negative;

// Written out here rather than taken from the kernels' headers.
float expected_sign(float x, k::ZeroSign zero) {
    if (zero == kPositive) return x >= 0.0f ? 1.0f : -1.0f;
    return x > 0.0f ? 1.0f : -1.0f;
}

const char* rule_name(k::ZeroSign zero) { return zero == kPositive ? "s(0)=+1" : "s(0)=-1"; }

// Uniform in [-1, 1], with about one value in eight an exact 0 or -0.
std::vector<float> random_values(Rng& rng, std::size_t n) {
    std::vector<float> v(n);
    for (float& x : v) {
        const std::uint64_t r = rng.below(16);
        x = r == 0 ? 0.0f : r == 1 ? -0.0f : rng.uniform(-1.0f, 1.0f);
    }
    return v;
}

// The float simulation: s(image) zero-padded, convolved with s(weights).
std::vector<float> simulate_conv(const k::ConvGeometry& g, int filters, const std::vector<float>& image,
                                 const std::vector<float>& weights, k::ZeroSign zero) {
    const int out_h = g.out_h(), out_w = g.out_w();
    std::vector<float> out(std::size_t(filters) * std::size_t(out_h) * std::size_t(out_w));
    for (int f = 0; f < filters; ++f)
        for (int oy = 0; oy < out_h; ++oy)
            for (int ox = 0; ox < out_w; ++ox) {
                float sum = 0.0f;
                for (int c = 0; c < g.channels; ++c)
                    for (int ky = 0; ky < g.size; ++ky)
                        for (int kx = 0; kx < g.size; ++kx) {
                            const int y = oy * g.stride - g.pad + ky, x = ox * g.stride - g.pad + kx;
                            const float in = y < 0 || y >= g.height || x < 0 || x >= g.width
                                                 ? 0.0f
                                                 : expected_sign(image[(std::size_t(c) * g.height + y) * g.width + x], zero);
                            sum += in * expected_sign(
                                            weights[((std::size_t(f) * g.channels + c) * g.size + ky) * g.size + kx], zero);
                        }
                out[(std::size_t(f) * out_h + oy) * out_w + ox] = sum;
            }
    return out;
}

std::vector<float> simulate_dense(int rows, int columns, int batch, const std::vector<float>& input,
                                  const std::vector<float>& weights, k::ZeroSign zero) {
    std::vector<float> out(std::size_t(batch) * std::size_t(rows));
    for (int b = 0; b < batch; ++b)
        for (int r = 0; r < rows; ++r) {
            float sum = 0.0f;
            for (int i = 0; i < columns; ++i)
                sum += expected_sign(input[std::size_t(b) * columns + i], zero) *
                       expected_sign(weights[std::size_t(r) * columns + i], zero);
            out[std::size_t(b) * rows + r] = sum;
        }
    return out;
}

// A workspace of `bytes` starting at an odd offset (the kernels align it themselves), followed by
// guard bytes that must survive.
struct Workspace {
    std::vector<unsigned char> storage;
    std::size_t bytes;
    explicit Workspace(std::size_t bytes_) : storage(bytes_ + 3 + 64, kGuardByte), bytes(bytes_) {}
    void* data() { return storage.data() + 3; }
    bool guard_intact() const {
        for (std::size_t i = 3 + bytes; i < storage.size(); ++i)
            if (storage[i] != kGuardByte) return false;
        return true;
    }
};

std::vector<Backend> backends() {
    std::vector<Backend> list = lenet::kernels::available_backends();
    return list;
}

// Runs xnor_conv (threads > 1: a pool; threads == 1: xnor_conv_single) and returns the dots
// followed by kGuardFloats guard floats.
std::vector<float> run_conv(Backend backend, int threads, const k::ConvGeometry& g, const k::PackedFilters& packed,
                            const std::vector<float>& image, bool* workspace_ok) {
    const std::size_t outputs = std::size_t(packed.filters) * std::size_t(g.out_h()) * std::size_t(g.out_w());
    std::vector<float> dots(outputs + kGuardFloats, kGuard);
    if (threads == 1) {
        Workspace ws(k::xnor_conv_workspace_bytes(g, packed));
        backend->xnor_conv_single(g, packed, image.data(), dots.data(), ws.data());
        *workspace_ok = ws.guard_intact();
    } else {
        lenet::ThreadPool pool(threads);
        Workspace ws(k::xnor_conv_pool_workspace_bytes(g, packed, pool.size()));
        backend->xnor_conv({&pool, backend}, g, packed, image.data(), dots.data(), ws.data());
        *workspace_ok = ws.guard_intact();
    }
    return dots;
}

std::string describe(const k::ConvGeometry& g, int filters) {
    std::ostringstream out;
    out << "c=" << g.channels << " h=" << g.height << " w=" << g.width << " size=" << g.size << " stride=" << g.stride
        << " pad=" << g.pad << " filters=" << filters;
    return out.str();
}

// Under both sign rules.
void check_conv(const k::ConvGeometry& g, int filters, std::uint64_t seed) {
    Rng rng(seed);
    const std::vector<float> image = random_values(rng, std::size_t(g.channels) * g.height * g.width);
    const std::vector<float> weights = random_values(rng, std::size_t(filters) * g.channels * g.size * g.size);
    for (k::ZeroSign zero : {kPositive, kNegative}) {
        std::vector<float> expected = simulate_conv(g, filters, image, weights, zero);
        expected.resize(expected.size() + kGuardFloats, kGuard);
        const k::PackedFilters packed = k::pack_filters(weights.data(), filters, g.channels, g.size, zero);
        for (Backend backend : backends())
            for (int threads : {1, 3}) {
                INFO(describe(g, filters) << " " << rule_name(zero) << " backend=" << lenet::backend_name(backend)
                                          << " threads=" << threads);
                bool workspace_ok = false;
                const std::vector<float> dots = run_conv(backend, threads, g, packed, image, &workspace_ok);
                CHECK(workspace_ok);
                REQUIRE(dots == expected);
            }
    }
}

}  // namespace

TEST_CASE("xnor conv: hand-computed 3x3 image, 2x2 filter, pad 1", "[xnor]") {
    // s(image) = [+ - +; - + -; + + -] (0 is +1), s(filter) = [+ -; - +]. Each output sums the
    // window's taps inside the image; taps in the padding add nothing.
    const std::vector<float> image{1, -2, 0, -1, 3, -4, 5, -0.0f, -6};
    const std::vector<float> weights{0.5f, -1, -0.25f, 0};
    const k::ConvGeometry g{1, 3, 3, 2, 1, 1};
    const std::vector<float> expected{1, -2, 2, -1,  //
                                      -2, 4, -4, 2,  //
                                      2, -2, 0, 0,   //
                                      -1, 0, 2, -1};
    // Darknet's rule: the image's 0 and -0 become -1 and the filter's 0 too: s(image) = [+ - -; - + -;
    // + - -], s(filter) = [+ -; - -].
    const std::vector<float> expected_darknet{-1, 0, 2, 1,  //
                                              0, 2, 0, 0,   //
                                              0, -2, 4, 0,  //
                                              -1, 2, 0, -1};
    REQUIRE(simulate_conv(g, 1, image, weights, kPositive) == expected);
    REQUIRE(simulate_conv(g, 1, image, weights, kNegative) == expected_darknet);
    for (k::ZeroSign zero : {kPositive, kNegative}) {
        const k::PackedFilters packed = k::pack_filters(weights.data(), 1, 1, 2, zero);
        std::vector<float> with_guard = zero == kPositive ? expected : expected_darknet;
        with_guard.resize(expected.size() + kGuardFloats, kGuard);
        for (Backend backend : backends())
            for (int threads : {1, 3}) {
                INFO(rule_name(zero) << " backend=" << lenet::backend_name(backend) << " threads=" << threads);
                bool workspace_ok = false;
                CHECK(run_conv(backend, threads, g, packed, image, &workspace_ok) == with_guard);
                CHECK(workspace_ok);
            }
    }
}

TEST_CASE("xnor dense: hand-computed 2x3", "[xnor]") {
    // s(input) = [+ - +]; s(row 0) = [+ - +] -> 3; s(row 1) = [- + +] (-0 is +1) -> -1 - 1 + 1 = -1.
    const std::vector<float> weights{1, -1, 0, -2, 3, -0.0f};
    // Darknet's rule: s(input) = [- - +]; s(row 0) = [+ - -] -> -1 + 1 - 1 = -1; s(row 1) = [- + -]
    // -> 1 - 1 - 1 = -1.
    const std::vector<float> input{0, -1, 5};
    for (k::ZeroSign zero : {kPositive, kNegative}) {
        const k::PackedRows packed = k::pack_rows(weights.data(), 2, 3, zero);
        for (Backend backend : backends()) {
            INFO(rule_name(zero) << " backend=" << lenet::backend_name(backend));
            std::vector<float> dots(2 + kGuardFloats, kGuard);
            Workspace ws(k::xnor_dense_workspace_bytes(packed, 1));
            backend->xnor_dense({nullptr, backend}, packed, input.data(), 1, dots.data(), ws.data());
            CHECK(dots[0] == (zero == kPositive ? 3.0f : -1.0f));
            CHECK(dots[1] == -1.0f);
            CHECK(dots[2] == kGuard);
            CHECK(ws.guard_intact());
        }
    }
}

TEST_CASE("xnor pack/unpack round trips", "[xnor]") {
    Rng rng(11);
    for (int filters : {1, 5, 16, 17, 33})
        for (int channels : {1, 3, 7, 8, 9, 63, 64, 65, 130})
            for (int size : {1, 2, 3, 5})
                for (k::ZeroSign zero : {kPositive, kNegative}) {
                    INFO("filters=" << filters << " channels=" << channels << " size=" << size << " " << rule_name(zero));
                    const std::vector<float> w = random_values(rng, std::size_t(filters) * channels * size * size);
                    const k::PackedFilters packed = k::pack_filters(w.data(), filters, channels, size, zero);
                    REQUIRE(packed.zero == zero);
                    REQUIRE(packed.bits.size() == std::size_t(filters) * std::size_t(packed.row_words));
                    std::vector<float> signs(w.size(), 0.0f);
                    k::unpack_filters(packed, signs.data());
                    for (std::size_t i = 0; i < w.size(); ++i) REQUIRE(signs[i] == expected_sign(w[i], zero));
                    // The tables hold popcount(x XOR w) for the same signs, w 0 for missing channels and filters.
                    const int taps = size * size;
                    REQUIRE(packed.tables.size() == std::size_t(packed.quads) * taps * std::size_t(packed.steps) * 8);
                    for (int f = 0; f < packed.quads * 4; ++f)
                        for (int t = 0; t < taps; ++t)
                            for (int s = 0; s < packed.steps; ++s)
                                for (int h = 0; h < 2; ++h) {
                                    unsigned nibble = 0;
                                    for (int j = 0; j < 4; ++j) {
                                        const int c = 8 * s + 4 * h + j;
                                        if (f < filters && c < channels && expected_sign(w[(std::size_t(f) * channels + c) * taps + t], zero) > 0)
                                            nibble |= 1u << j;
                                    }
                                    const k::Block16& table =
                                        packed.tables[(((std::size_t(f / 4) * taps + t) * std::size_t(packed.steps) + s) * 4 + f % 4) * 2 + h];
                                    for (unsigned x = 0; x < 16; ++x) REQUIRE(table.bytes[x] == std::popcount(x ^ nibble));
                                }
                }
    for (int rows : {1, 3, 64, 65})
        for (int columns : {1, 2, 63, 64, 65, 127, 200})
            for (k::ZeroSign zero : {kPositive, kNegative}) {
                INFO("rows=" << rows << " columns=" << columns << " " << rule_name(zero));
                const std::vector<float> w = random_values(rng, std::size_t(rows) * columns);
                const k::PackedRows packed = k::pack_rows(w.data(), rows, columns, zero);
                REQUIRE(packed.zero == zero);
                REQUIRE(packed.row_words == (columns + 63) / 64);
                std::vector<float> signs(w.size(), 0.0f);
                k::unpack_rows(packed, signs.data());
                for (std::size_t i = 0; i < w.size(); ++i) REQUIRE(signs[i] == expected_sign(w[i], zero));
                if (columns % 64)  // unused bits are zero
                    for (int r = 0; r < rows; ++r)
                        REQUIRE(packed.bits[std::size_t(r) * packed.row_words + packed.row_words - 1] >> (columns % 64) == 0);
            }
}

TEST_CASE("xnor conv matches the float simulation on random shapes", "[xnor]") {
    std::uint64_t seed = 100;
    for (int channels : {1, 3, 32, 63, 64, 65, 130}) {
        Rng rng{std::uint64_t(channels)};
        for (int trial = 0; trial < 10; ++trial) {
            const int size = 1 + int(rng.below(5)), stride = 1 + int(rng.below(3)), pad = int(rng.below(3));
            // Odd sizes, at least one output.
            int height = 1 + 2 * int(rng.below(6)), width = 1 + 2 * int(rng.below(6));
            while (height + 2 * pad < size) height += 2;
            while (width + 2 * pad < size) width += 2;
            const int filters_choice[] = {1, 5, 16, 17, 32, 33, 40};
            const int filters = filters_choice[rng.below(7)];
            check_conv({channels, height, width, size, stride, pad}, filters, ++seed);
        }
    }
    // Whole vector-kernel tiles and partial ones, wider images.
    check_conv({64, 15, 13, 3, 1, 1}, 64, ++seed);
    check_conv({128, 9, 11, 3, 2, 1}, 48, ++seed);
    // Enough positions for several threads, each with its own ring of table rows.
    check_conv({32, 21, 19, 3, 2, 1}, 20, ++seed);
    check_conv({3, 23, 17, 5, 3, 2}, 7, ++seed);
    check_conv({65, 12, 3, 3, 1, 0}, 33, ++seed);  // rows narrower than a tile
    // Byte-plane kernels: at stride 1 a row's right padding is the next row's left padding, unless the
    // outputs are wider (pad >= size); 1024-byte planes (moved to an odd number of cache lines);
    // an odd number of 32-position vectors (the last tile a single vector); strides split into phases.
    check_conv({16, 7, 9, 1, 1, 2}, 5, ++seed);
    check_conv({8, 5, 6, 2, 1, 2}, 4, ++seed);
    check_conv({256, 28, 28, 3, 1, 1}, 6, ++seed);
    check_conv({24, 5, 11, 3, 1, 1}, 9, ++seed);
    check_conv({40, 13, 17, 3, 3, 2}, 7, ++seed);
    // More than 31 steps of 8 channels per tap: a byte-sum kernel's sums are widened within a tap.
    check_conv({520, 5, 7, 1, 1, 0}, 17, ++seed);
    check_conv({513, 6, 5, 3, 2, 1}, 5, ++seed);
    // Too many bits per output for a 16-bit-sum kernel: the reference runs instead.
    check_conv({1000, 9, 9, 9, 1, 0}, 3, ++seed);
}

TEST_CASE("xnor dense matches the float simulation", "[xnor]") {
    Rng rng(21);
    struct Shape {
        int rows, columns, batch;
    };
    std::vector<Shape> shapes;
    for (int rows : {1, 3, 17, 64, 65})
        for (int columns : {1, 63, 64, 65, 257, 1000})
            for (int batch : {1, 2, 5}) shapes.push_back({rows, columns, batch});
    shapes.push_back({301, 3001, 3});  // large enough to split between threads
    for (const Shape& s : shapes) {
        const std::vector<float> weights = random_values(rng, std::size_t(s.rows) * s.columns);
        const std::vector<float> input = random_values(rng, std::size_t(s.batch) * s.columns);
        for (k::ZeroSign zero : {kPositive, kNegative}) {
            std::vector<float> expected = simulate_dense(s.rows, s.columns, s.batch, input, weights, zero);
            expected.resize(expected.size() + kGuardFloats, kGuard);
            const k::PackedRows packed = k::pack_rows(weights.data(), s.rows, s.columns, zero);
            for (Backend backend : backends())
                for (int threads : {1, 3}) {
                    INFO("rows=" << s.rows << " columns=" << s.columns << " batch=" << s.batch << " " << rule_name(zero)
                                 << " backend=" << lenet::backend_name(backend) << " threads=" << threads);
                    lenet::ThreadPool pool(threads);
                    std::vector<float> dots(expected.size(), kGuard);
                    Workspace ws(k::xnor_dense_workspace_bytes(packed, s.batch));
                    backend->xnor_dense({&pool, backend}, packed, input.data(), s.batch, dots.data(), ws.data());
                    CHECK(ws.guard_intact());
                    REQUIRE(dots == expected);
                }
        }
    }
}
