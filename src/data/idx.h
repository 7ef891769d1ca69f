// The IDX format of MNIST and Fashion-MNIST: a big-endian header (0, 0, type 0x08 = ubyte, number
// of dimensions; then one uint32 per dimension) followed by the bytes. Files may be gzip'd.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace lenet {

struct IdxArray {
    std::vector<std::uint32_t> dims;
    std::vector<std::uint8_t> data;
};

// Reads a raw or .gz IDX file of unsigned bytes. Errors name the file and the byte offset (in the
// uncompressed stream).
IdxArray read_idx(const std::string& path);
// Writes raw (uncompressed) IDX, atomically.
void write_idx(const std::string& path, const IdxArray& array);

}  // namespace lenet
