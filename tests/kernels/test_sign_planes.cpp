// Sign planes (kernels/ops/sign_planes.h) on every backend against plain simulations written
// here: the XNOR convolution with each input (float image, sign planes) and each output (dots,
// sign planes by thresholds), max pooling by OR and AND, upsampling. Odd shapes: channel and
// filter counts around the packing units (4-filter quads, 8-channel planes, 64-bit words), rows
// shorter and longer than a 32-byte vector, every padding; bytes past an output must stay untouched.
#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/thread_pool.h"
#include "kernels/backend.h"
#include "kernels/binary/xnor.h"
#include "kernels/ops.h"

namespace {

using lenet::Rng;
namespace k = lenet::kernels;

constexpr std::uint8_t kGuardByte = 0xA5;
constexpr std::size_t kGuardBytes = 64;

bool positive(float x) { return x > 0.0f; }  // Darknet's rule, the one sign planes carry

// Uniform in [-1, 1], one value in eight an exact 0 or -0 (both -1).
std::vector<float> random_image(Rng& rng, std::size_t n) {
    std::vector<float> v(n);
    for (float& x : v) {
        const std::uint64_t r = rng.below(16);
        x = r == 0 ? 0.0f : r == 1 ? -0.0f : rng.uniform(-1.0f, 1.0f);
    }
    return v;
}

// The planes of a C x H x W float image, written out here.
std::vector<std::uint8_t> planes_of(const std::vector<float>& image, int channels, int height, int width) {
    const std::size_t pixels = std::size_t(height) * std::size_t(width);
    std::vector<std::uint8_t> planes(std::size_t((channels + 7) / 8) * pixels, 0);
    for (int c = 0; c < channels; ++c)
        for (std::size_t p = 0; p < pixels; ++p)
            if (positive(image[std::size_t(c) * pixels + p])) planes[std::size_t(c / 8) * pixels + p] |= std::uint8_t(1u << (c % 8));
    return planes;
}

// s(image), zero padded, convolved with s(weights): integer dots.
std::vector<int> simulate_dots(const k::ConvGeometry& g, int filters, const std::vector<float>& image,
                               const std::vector<float>& weights) {
    const int oh = g.out_h(), ow = g.out_w();
    std::vector<int> dots(std::size_t(filters) * std::size_t(oh) * std::size_t(ow), 0);
    for (int f = 0; f < filters; ++f)
        for (int oy = 0; oy < oh; ++oy)
            for (int ox = 0; ox < ow; ++ox) {
                int sum = 0;
                for (int c = 0; c < g.channels; ++c)
                    for (int ky = 0; ky < g.size; ++ky)
                        for (int kx = 0; kx < g.size; ++kx) {
                            const int y = oy * g.stride - g.pad + ky, x = ox * g.stride - g.pad + kx;
                            if (y < 0 || y >= g.height || x < 0 || x >= g.width) continue;
                            const int in = positive(image[(std::size_t(c) * g.height + y) * g.width + x]) ? 1 : -1;
                            const int w = positive(weights[((std::size_t(f) * g.channels + c) * g.size + ky) * g.size + kx]) ? 1 : -1;
                            sum += in * w;
                        }
                dots[(std::size_t(f) * oh + oy) * ow + ox] = sum;
            }
    return dots;
}

std::string describe(const k::ConvGeometry& g, int filters) {
    std::ostringstream out;
    out << "c=" << g.channels << " h=" << g.height << " w=" << g.width << " size=" << g.size << " stride=" << g.stride
        << " pad=" << g.pad << " filters=" << filters;
    return out.str();
}

void check_conv_io(const k::ConvGeometry& g, int filters, std::uint64_t seed) {
    Rng rng(seed);
    const std::vector<float> image = random_image(rng, std::size_t(g.channels) * g.height * g.width);
    const std::vector<float> weights = random_image(rng, std::size_t(filters) * g.channels * g.size * g.size);
    const std::vector<int> dots = simulate_dots(g, filters, image, weights);
    const std::vector<std::uint8_t> in_planes = planes_of(image, g.channels, g.height, g.width);
    // Thresholds anywhere in the dots' range (and past it: constant bits), either direction.
    const int n = g.channels * g.size * g.size;
    std::vector<std::int32_t> above(static_cast<std::size_t>(filters));
    std::vector<std::uint8_t> invert(static_cast<std::size_t>(filters));
    for (int f = 0; f < filters; ++f) {
        above[std::size_t(f)] = std::int32_t(rng.below(std::uint64_t(2 * n + 3))) - n - 1;
        invert[std::size_t(f)] = std::uint8_t(rng.below(2));
    }
    const std::size_t spatial = std::size_t(g.out_h()) * std::size_t(g.out_w());
    std::vector<float> expected_dots(dots.begin(), dots.end());
    std::vector<std::uint8_t> expected_planes(std::size_t((filters + 7) / 8) * spatial, 0);
    for (int f = 0; f < filters; ++f)
        for (std::size_t p = 0; p < spatial; ++p) {
            const int dot = dots[std::size_t(f) * spatial + p];
            if ((dot > above[std::size_t(f)]) != (invert[std::size_t(f)] != 0))
                expected_planes[std::size_t(f / 8) * spatial + p] |= std::uint8_t(1u << (f % 8));
        }
    const k::PackedFilters packed = k::pack_filters(weights.data(), filters, g.channels, g.size, k::ZeroSign::negative);
    for (const k::Ops* ops : k::available_backends())
        for (int threads : {1, 3}) {
            lenet::ThreadPool pool(threads);
            const lenet::Compute compute{threads == 1 ? nullptr : &pool, ops};
            for (const bool planes_in : {false, true})
                for (const bool planes_out : {false, true}) {
                    INFO(describe(g, filters) << " backend=" << ops->name << " threads=" << threads
                                              << (planes_in ? " planes in" : " image in")
                                              << (planes_out ? ", planes out" : ", dots out"));
                    const std::size_t bytes = k::xnor_conv_pool_workspace_bytes(g, packed, threads);
                    std::vector<std::uint8_t> workspace(bytes + 3 + kGuardBytes, kGuardByte);
                    std::vector<float> out_dots(expected_dots.size() + 16, 12345.0f);
                    std::vector<std::uint8_t> out_planes(expected_planes.size() + kGuardBytes, kGuardByte);
                    k::XnorConvIo io;
                    if (planes_in) io.in_planes = in_planes.data();
                    else io.image = image.data();
                    if (planes_out) {
                        io.out_planes = out_planes.data();
                        io.thresholds = {above.data(), invert.data()};
                    } else {
                        io.dots = out_dots.data();
                    }
                    ops->xnor_conv_io(compute, g, packed, io, workspace.data() + 3);
                    for (std::size_t i = 3 + bytes; i < workspace.size(); ++i) REQUIRE(workspace[i] == kGuardByte);
                    if (planes_out) {
                        for (std::size_t i = expected_planes.size(); i < out_planes.size(); ++i)
                            REQUIRE(out_planes[i] == kGuardByte);
                        out_planes.resize(expected_planes.size());
                        REQUIRE(out_planes == expected_planes);
                    } else {
                        for (std::size_t i = expected_dots.size(); i < out_dots.size(); ++i) REQUIRE(out_dots[i] == 12345.0f);
                        out_dots.resize(expected_dots.size());
                        REQUIRE(out_dots == expected_dots);
                    }
                }
        }
}

// Max pooling of +-1 signs channel by channel (AND channels: the min), written out here.
std::vector<std::uint8_t> simulate_pool(const k::PoolGeometry& g, const std::vector<std::uint8_t>& and_bits,
                                        const std::vector<std::uint8_t>& in) {
    const int oh = g.out_h(), ow = g.out_w(), first = -(g.padding / 2);
    std::vector<std::uint8_t> out(std::size_t(g.channels) * std::size_t(oh) * std::size_t(ow), 0);
    for (int plane = 0; plane < g.channels; ++plane)
        for (int bit = 0; bit < 8; ++bit) {
            const bool use_min = (and_bits[std::size_t(plane)] >> bit) & 1;
            for (int oy = 0; oy < oh; ++oy)
                for (int ox = 0; ox < ow; ++ox) {
                    int best = use_min ? 2 : -2;
                    for (int ky = 0; ky < g.size; ++ky)
                        for (int kx = 0; kx < g.size; ++kx) {
                            const int y = oy * g.stride + first + ky, x = ox * g.stride + first + kx;
                            if (y < 0 || y >= g.height || x < 0 || x >= g.width) continue;
                            const int sign = (in[(std::size_t(plane) * g.height + y) * g.width + x] >> bit) & 1 ? 1 : -1;
                            best = use_min ? std::min(best, sign) : std::max(best, sign);
                        }
                    if (best == 1) out[(std::size_t(plane) * oh + oy) * ow + ox] |= std::uint8_t(1u << bit);
                }
        }
    return out;
}

}  // namespace

TEST_CASE("xnor conv io: image or sign planes in, dots or sign planes out, equal the simulation", "[xnor][signs]") {
    std::uint64_t seed = 500;
    for (int channels : {1, 3, 8, 13, 32, 64, 67}) {
        Rng rng{std::uint64_t(channels) + 7};
        for (int trial = 0; trial < 6; ++trial) {
            const int size = 1 + int(rng.below(4)), stride = 1 + int(rng.below(2)), pad = int(rng.below(3));
            int height = 1 + 2 * int(rng.below(8)), width = 1 + 2 * int(rng.below(8));
            while (height + 2 * pad < size) height += 2;
            while (width + 2 * pad < size) width += 2;
            const int filters_choice[] = {1, 4, 5, 8, 12, 17, 33};
            check_conv_io({channels, height, width, size, stride, pad}, filters_choice[rng.below(7)], ++seed);
        }
    }
    // Wide rows (several vectors and tiles), an odd number of quads, yolov3-tiny's 13x13 stride-1 layout.
    check_conv_io({32, 9, 71, 3, 1, 1}, 20, ++seed);
    check_conv_io({16, 37, 33, 3, 1, 1}, 36, ++seed);
    check_conv_io({128, 13, 13, 3, 1, 1}, 24, ++seed);
    check_conv_io({40, 11, 13, 1, 1, 0}, 9, ++seed);
}

TEST_CASE("max pool of sign planes: OR (max) and AND (min) channels, every window rule", "[signs]") {
    struct Case {
        int planes, height, width, size, stride, padding;
    };
    const Case cases[] = {
        {3, 8, 10, 2, 2, 0},  {2, 9, 7, 2, 2, 1},   {1, 13, 13, 2, 1, 1}, {2, 5, 6, 2, 1, 0},
        {3, 7, 131, 2, 2, 1}, {2, 6, 70, 2, 2, 0}, {2, 5, 100, 2, 1, 1}, {1, 4, 33, 2, 1, 0},
        {2, 9, 11, 3, 1, 2},  {1, 10, 9, 3, 2, 1},  {1, 1, 1, 2, 1, 1},   {2, 3, 65, 2, 2, 1},
    };
    std::uint64_t seed = 40;
    for (const Case& c : cases) {
        const k::PoolGeometry g{c.planes, c.height, c.width, c.size, c.stride, c.padding};
        REQUIRE(g.windows_hold_input());
        Rng rng(++seed);
        std::vector<std::uint8_t> in(std::size_t(c.planes) * c.height * c.width);
        for (auto& b : in) b = std::uint8_t(rng.below(256));
        for (const bool with_and : {false, true}) {
            std::vector<std::uint8_t> and_bits(std::size_t(c.planes), 0);
            if (with_and)
                for (auto& b : and_bits) b = std::uint8_t(rng.below(256));
            const std::vector<std::uint8_t> expected = simulate_pool(g, and_bits, in);
            for (const k::Ops* ops : k::available_backends()) {
                INFO("planes=" << c.planes << " " << c.height << "x" << c.width << " size=" << c.size << " stride="
                               << c.stride << " padding=" << c.padding << (with_and ? " with AND" : "") << " " << ops->name);
                std::vector<std::uint8_t> out(expected.size() + kGuardBytes, kGuardByte);
                ops->maxpool_signs(g, with_and ? and_bits.data() : nullptr, in.data(), out.data());
                for (std::size_t i = expected.size(); i < out.size(); ++i) REQUIRE(out[i] == kGuardByte);
                out.resize(expected.size());
                REQUIRE(out == expected);
            }
        }
    }
}

TEST_CASE("upsample of sign planes repeats each byte", "[signs]") {
    std::uint64_t seed = 70;
    for (const int stride : {2, 3})
        for (const int width : {1, 5, 15, 16, 17, 33, 40})
            for (const int height : {1, 3}) {
                const k::UpsampleGeometry g{height, width, stride, 1.0f};
                const std::size_t planes = 3;
                Rng rng(++seed);
                std::vector<std::uint8_t> in(planes * std::size_t(height * width));
                for (auto& b : in) b = std::uint8_t(rng.below(256));
                const std::size_t out_plane = std::size_t(g.out_h()) * std::size_t(g.out_w());
                std::vector<std::uint8_t> expected(planes * out_plane);
                for (std::size_t p = 0; p < planes; ++p)
                    for (int y = 0; y < g.out_h(); ++y)
                        for (int x = 0; x < g.out_w(); ++x)
                            expected[p * out_plane + std::size_t(y * g.out_w() + x)] =
                                in[p * std::size_t(height * width) + std::size_t((y / stride) * width + x / stride)];
                for (const k::Ops* ops : k::available_backends()) {
                    INFO(height << "x" << width << " stride " << stride << " " << ops->name);
                    std::vector<std::uint8_t> out(expected.size() + kGuardBytes, kGuardByte);
                    ops->upsample_signs(g, planes, in.data(), out.data());
                    for (std::size_t i = expected.size(); i < out.size(); ++i) REQUIRE(out[i] == kGuardByte);
                    out.resize(expected.size());
                    REQUIRE(out == expected);
                }
            }
}
