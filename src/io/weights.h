// Darknet's .weights format (little-endian): int32 major, minor, revision; `seen` as uint64 when
// major*10+minor >= 2 (else int32); then each layer's float32 arrays in cfg order. Reading checks
// every array against the bytes left and names the file, the byte offset, the layer and the array
// on a mismatch.
//
// The packed format (`lenet export -binary`) has the same layer order but stores the weights of
// binary and XNOR layers as alpha (float32 per output row) followed by 1 bit per weight:
//   "LNPK", u32 version (2), u64 seen, the layers' arrays, u64 n, n float32 of the arrays Darknet
//   has no place for (Layer::lenet_only_arrays, in layer order), u32 CRC-32 of everything before.
// Version 1 had no n and kept those arrays inline ([batchnorm]: biases after its three arrays).
// Bits: per row, ceil(n / 64) little-endian u64 words; bit i % 64 of word i / 64 is 1 when
// weight i of the row (Darknet order) is >= 0. Float layers are stored as in .weights.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "kernels/ops/binarize.h"

namespace lenet {

class WeightsReader {
public:
    WeightsReader(std::string path, std::string bytes);

    std::uint64_t seen() const { return seen_; }
    int major() const { return major_; }
    int minor() const { return minor_; }
    // Sets the layer named in errors ("layer 3 (convolutional)").
    void set_layer(std::string description) { layer_ = std::move(description); }
    void read_floats(float* out, std::size_t count, const char* what);
    void read_words(std::uint64_t* out, std::size_t count, const char* what);
    // A packed file (see above); its CRC has been checked and is not part of remaining().
    bool packed() const { return packed_; }
    std::uint32_t packed_version() const { return packed_version_; }
    // Whether each layer's lenet-only arrays follow its Darknet arrays (packed version 1 and
    // .weights from older lenets); set by the network, which knows the expected sizes.
    bool inline_lenet_arrays() const { return inline_lenet_arrays_; }
    void set_inline_lenet_arrays(bool inline_arrays) { inline_lenet_arrays_ = inline_arrays; }
    std::size_t offset() const { return offset_; }
    std::size_t remaining() const { return bytes_.size() - offset_; }
    const std::string& path() const { return path_; }

private:
    void require(std::size_t needed, const char* what) const;

    std::string path_, bytes_, layer_;
    std::size_t offset_ = 0;
    bool packed_ = false, inline_lenet_arrays_ = false;
    std::uint32_t packed_version_ = 0;
    int major_ = 0, minor_ = 0, revision_ = 0;
    std::uint64_t seen_ = 0;
};

class WeightsWriter {
public:
    explicit WeightsWriter(std::uint64_t seen, bool packed = false);
    void write_floats(const float* values, std::size_t count);
    void write_words(const std::uint64_t* values, std::size_t count);
    bool packed() const { return packed_; }
    // The file's bytes; a packed file ends with its CRC.
    std::string finish() const;
    const std::string& bytes() const { return bytes_; }

private:
    std::string bytes_;
    bool packed_ = false;
};

// The bytes of a .weights header as WeightsWriter writes it (version 0.2: 64-bit seen).
inline constexpr std::size_t kWeightsHeaderBytes = 20;

// The weights of a binary layer (rows x n, Darknet order): float32 in .weights; alpha and sign
// bits in a packed file (bit 1 where s(w) = +1 under the layer's ZeroSign), read back as
// alpha * s(W), which binarizes to the same alpha and signs (s = -1 reads as -alpha, -0 at alpha 0).
void write_binary_weights(WeightsWriter& writer, const float* weights, int rows, int n, kernels::ZeroSign zero);
void read_binary_weights(WeightsReader& reader, float* weights, int rows, int n);

}  // namespace lenet
