#include "data/idx.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"
#include "io/atomic_file.h"

namespace lenet {

namespace {

// Reads the whole file through zlib, which passes non-gzip data through unchanged.
std::string read_maybe_gzip(const std::string& path) {
    gzFile file = gzopen(path.c_str(), "rb");
    if (!file) throw Error(cat(path, ": cannot open: ", std::strerror(errno ? errno : ENOENT)));
    gzbuffer(file, 1 << 17);
    std::string bytes;
    char chunk[1 << 16];
    for (;;) {
        const int n = gzread(file, chunk, sizeof chunk);
        if (n < 0) {
            int code = 0;
            const std::string message = gzerror(file, &code);
            gzclose(file);
            throw Error(cat(path, ": corrupt gzip data after ", bytes.size(), " uncompressed bytes: ", message));
        }
        if (n == 0) break;
        bytes.append(chunk, std::size_t(n));
    }
    int code = 0;
    gzerror(file, &code);
    gzclose(file);
    return bytes;
}

std::uint32_t read_be32(const std::string& bytes, std::size_t offset) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + offset);
    return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | std::uint32_t(p[3]);
}

}  // namespace

IdxArray read_idx(const std::string& path) {
    const std::string bytes = read_maybe_gzip(path);
    if (bytes.size() < 4) throw Error(cat(path, ": truncated at byte offset ", bytes.size(), ": no IDX header"));
    const auto* header = reinterpret_cast<const unsigned char*>(bytes.data());
    if (header[0] != 0 || header[1] != 0)
        throw Error(cat(path, ": byte offset 0: bad magic number (not an IDX file)"));
    if (header[2] != 0x08)
        throw Error(cat(path, ": byte offset 2: element type 0x", std::hex, int(header[2]),
                        " is not unsigned bytes (0x08)"));
    const int rank = header[3];
    if (rank < 1 || rank > 4) throw Error(cat(path, ": byte offset 3: ", rank, " dimensions (expected 1 to 4)"));
    const std::size_t header_size = 4 + 4 * std::size_t(rank);
    if (bytes.size() < header_size)
        throw Error(cat(path, ": truncated at byte offset ", bytes.size(), ": the header needs ", header_size, " bytes"));
    IdxArray array;
    std::uint64_t count = 1;
    for (int d = 0; d < rank; ++d) {
        array.dims.push_back(read_be32(bytes, 4 + 4 * std::size_t(d)));
        count *= array.dims.back();
        if (count > (1ull << 34)) throw Error(cat(path, ": byte offset ", 4 + 4 * d, ": dimensions too large"));
    }
    if (bytes.size() - header_size != count)
        throw Error(cat(path, ": ", bytes.size() < header_size + count ? "truncated" : "trailing data", " at byte offset ",
                        std::min<std::uint64_t>(bytes.size(), header_size + count), ": the header promises ", count,
                        " data bytes after the ", header_size, "-byte header, the file holds ",
                        bytes.size() - header_size));
    array.data.assign(bytes.begin() + std::ptrdiff_t(header_size), bytes.end());
    return array;
}

void write_idx(const std::string& path, const IdxArray& array) {
    std::string bytes;
    bytes.push_back(0);
    bytes.push_back(0);
    bytes.push_back(0x08);
    bytes.push_back(char(array.dims.size()));
    for (std::uint32_t d : array.dims)
        for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(char((d >> shift) & 0xFF));
    bytes.append(reinterpret_cast<const char*>(array.data.data()), array.data.size());
    write_file_atomically(path, bytes);
}

}  // namespace lenet
