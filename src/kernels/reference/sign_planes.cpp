// Portable kernels of sign planes (the truth the optimized ones are tested against).
#include "kernels/ops/sign_planes.h"

#include <algorithm>

namespace lenet::kernels {

void maxpool_signs_reference(const PoolGeometry& g, const std::uint8_t* and_bits, const std::uint8_t* in,
                             std::uint8_t* out) {
    const int oh = g.out_h(), ow = g.out_w(), first = -(g.padding / 2);
    for (int c = 0; c < g.channels; ++c) {
        // AND of bits = NOT (OR of NOT bits): flip the AND channels before and after.
        const std::uint8_t flip = and_bits ? and_bits[c] : 0;
        const std::uint8_t* plane = in + std::size_t(c) * std::size_t(g.height) * std::size_t(g.width);
        std::uint8_t* dst = out + std::size_t(c) * std::size_t(oh) * std::size_t(ow);
        for (int oy = 0; oy < oh; ++oy)
            for (int ox = 0; ox < ow; ++ox) {
                std::uint8_t bits = 0;
                for (int ky = 0; ky < g.size; ++ky)
                    for (int kx = 0; kx < g.size; ++kx) {
                        const int y = oy * g.stride + first + ky, x = ox * g.stride + first + kx;
                        if (y >= 0 && y < g.height && x >= 0 && x < g.width)
                            bits |= std::uint8_t(plane[std::size_t(y) * std::size_t(g.width) + std::size_t(x)] ^ flip);
                    }
                dst[std::size_t(oy) * std::size_t(ow) + std::size_t(ox)] = std::uint8_t(bits ^ flip);
            }
    }
}

void upsample_signs_reference(const UpsampleGeometry& g, std::size_t planes, const std::uint8_t* in,
                              std::uint8_t* out) {
    const int s = g.factor(), oh = g.out_h(), ow = g.out_w();
    for (std::size_t p = 0; p < planes; ++p) {
        const std::uint8_t* src = in + p * std::size_t(g.height) * std::size_t(g.width);
        std::uint8_t* dst = out + p * std::size_t(oh) * std::size_t(ow);
        for (int y = 0; y < oh; ++y)
            for (int x = 0; x < ow; ++x)
                dst[std::size_t(y) * std::size_t(ow) + std::size_t(x)] = src[std::size_t(y / s) * std::size_t(g.width) + std::size_t(x / s)];
    }
}

}  // namespace lenet::kernels
