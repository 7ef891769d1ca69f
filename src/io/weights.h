// Darknet's .weights format (little-endian): int32 major, minor, revision; `seen` as uint64 when
// major*10+minor >= 2 (else int32); then each layer's float32 arrays in cfg order. Reading checks
// every array against the bytes left and names the file, the byte offset, the layer and the array
// on a mismatch.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

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
    std::size_t offset() const { return offset_; }
    std::size_t remaining() const { return bytes_.size() - offset_; }
    const std::string& path() const { return path_; }

private:
    std::string path_, bytes_, layer_;
    std::size_t offset_ = 0;
    int major_ = 0, minor_ = 0, revision_ = 0;
    std::uint64_t seen_ = 0;
};

class WeightsWriter {
public:
    explicit WeightsWriter(std::uint64_t seen);
    void write_floats(const float* values, std::size_t count);
    const std::string& bytes() const { return bytes_; }

private:
    std::string bytes_;
};

}  // namespace lenet
