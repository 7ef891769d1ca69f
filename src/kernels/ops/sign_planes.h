// Bit-packed activations between binary layers at inference (DESIGN.md §4). A C x H x W tensor
// whose readers need only its signs is kept as "sign planes": ceil(C / 8) planes of H * W bytes,
// bit j of byte [s][y * W + x] = 1 when channel 8s + j is +1 at (y, x) (the packed weights' bit
// encoding), bits of channels >= C always 0; images follow one another. Darknet's xnor=1 sign
// rule (x > 0 -> +1, else -1) is the only one they carry: only K-free XNOR layers read them.
//
// An XNOR convolution writes them through per-filter integer thresholds on its dot products
// (its output transform, batch norm, activation and the next layers' per-channel functions folded
// in: SignThresholds), max pooling, upsampling and [route] pass them on, and the next XNOR
// convolution reads them directly (binary/xnor.h: XnorConvIo).
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/ops/graph.h"
#include "kernels/ops/pool.h"

namespace lenet::kernels {

inline int sign_plane_count(int channels) { return (channels + 7) / 8; }
// Bytes of one image's sign planes.
inline std::size_t sign_planes_bytes(int channels, int height, int width) {
    return std::size_t(sign_plane_count(channels)) * std::size_t(height) * std::size_t(width);
}

// Filter f's output bit from its exact integer dot: (dot > above[f]) != invert[f]. Any monotone
// function of the dot followed by a sign is one of these (a constant too: above = -n - 1 or n).
struct SignThresholds {
    const std::int32_t* above = nullptr;
    const std::uint8_t* invert = nullptr;  // 0 or 1 per filter
    bool bit(int filter, std::int32_t dot) const { return (dot > above[filter]) != (invert[filter] != 0); }
};

// Max pooling of sign planes: g.channels planes (of one or more images) of g.height x g.width
// bytes; Darknet's window rule (pool.h). The max of signs is the OR of their bits; a channel
// whose bit in and_bits[plane] is set is pooled by AND (the min of its signs: what a max pool
// followed by a decreasing per-channel function gives). and_bits null: OR throughout. Every
// window must hold an input (PoolGeometry::windows_hold_input).
void maxpool_signs_reference(const PoolGeometry& g, const std::uint8_t* and_bits, const std::uint8_t* in,
                             std::uint8_t* out);

// Nearest-neighbour upsampling (stride > 0, scale 1) of `planes` byte planes of g.height x g.width.
void upsample_signs_reference(const UpsampleGeometry& g, std::size_t planes, const std::uint8_t* in,
                              std::uint8_t* out);

}  // namespace lenet::kernels
