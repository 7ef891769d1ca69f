#include "io/weights.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <vector>

#include <zlib.h>

#include "core/error.h"
#include "kernels/ops/binarize.h"

static_assert(std::endian::native == std::endian::little, "the .weights reader assumes a little-endian host");

namespace lenet {

namespace {
template <class T>
void append(std::string& bytes, T value) {
    char raw[sizeof(T)];
    std::memcpy(raw, &value, sizeof(T));
    bytes.append(raw, sizeof(T));
}

constexpr char kPackedMagic[4] = {'L', 'N', 'P', 'K'};
constexpr std::uint32_t kPackedVersion = 2;  // reads 1 too

std::uint32_t crc_of(const char* data, std::size_t size) {
    uLong crc = crc32(0L, Z_NULL, 0);
    while (size > 0) {  // zlib takes uInt lengths
        const uInt part = uInt(std::min<std::size_t>(size, 1u << 30));
        crc = crc32(crc, reinterpret_cast<const Bytef*>(data), part);
        data += part;
        size -= part;
    }
    return std::uint32_t(crc);
}
}  // namespace

WeightsReader::WeightsReader(std::string path, std::string bytes) : path_(std::move(path)), bytes_(std::move(bytes)) {
    if (bytes_.size() >= 4 && std::memcmp(bytes_.data(), kPackedMagic, 4) == 0) {
        // Packed: magic, version, seen, ..., CRC.
        if (bytes_.size() < 4 + 4 + 8 + 4)
            throw Error(cat(path_, ": truncated packed weights file (", bytes_.size(), " bytes; the header and CRC need 20)"));
        std::uint32_t version = 0, stored = 0;
        std::memcpy(&version, bytes_.data() + 4, 4);
        if (version != 1 && version != kPackedVersion)
            throw Error(cat(path_, ": byte offset 4: packed weights version ", version, ", this lenet reads versions 1 to ",
                            kPackedVersion));
        const std::size_t body = bytes_.size() - 4;
        std::memcpy(&stored, bytes_.data() + body, 4);
        const std::uint32_t actual = crc_of(bytes_.data(), body);
        if (stored != actual)
            throw Error(cat(path_, ": byte offset ", body, ": CRC-32 mismatch (stored ", stored, ", computed ", actual,
                            "): the packed weights file is corrupt or truncated"));
        bytes_.resize(body);
        std::memcpy(&seen_, bytes_.data() + 8, 8);
        offset_ = 16;
        packed_ = true;
        packed_version_ = version;
        inline_lenet_arrays_ = version == 1;
        return;
    }
    auto read_header_int = [&](const char* what) {
        std::int32_t value = 0;
        if (remaining() < sizeof value)
            throw Error(cat(path_, ": truncated at byte offset ", offset_, " in the header (", what,
                            "): the file has ", bytes_.size(), " bytes"));
        std::memcpy(&value, bytes_.data() + offset_, sizeof value);
        offset_ += sizeof value;
        return value;
    };
    major_ = read_header_int("major version");
    minor_ = read_header_int("minor version");
    revision_ = read_header_int("revision");
    if (major_ < 0 || minor_ < 0 || major_ > 1000 || minor_ > 1000)
        throw Error(cat(path_, ": byte offset 0: not a Darknet .weights file (version ", major_, ".", minor_, ")"));
    if (major_ * 10 + minor_ >= 2) {
        if (remaining() < sizeof(std::uint64_t))
            throw Error(cat(path_, ": truncated at byte offset ", offset_, " in the header (seen)"));
        std::memcpy(&seen_, bytes_.data() + offset_, sizeof seen_);
        offset_ += sizeof seen_;
    } else {
        seen_ = std::uint64_t(std::uint32_t(read_header_int("seen")));
    }
}

void WeightsReader::require(std::size_t needed, const char* what) const {
    if (remaining() < needed)
        throw Error(cat(path_, ": truncated at byte offset ", offset_, ": ", layer_, " needs ", needed,
                        " bytes for its ", what, " but only ", remaining(), " remain (file has ", bytes_.size(),
                        " bytes; wrong cfg or incomplete download?)"));
}

void WeightsReader::read_floats(float* out, std::size_t count, const char* what) {
    const std::size_t needed = count * sizeof(float);
    require(needed, what);
    if (needed) std::memcpy(out, bytes_.data() + offset_, needed);
    offset_ += needed;
}

void WeightsReader::read_words(std::uint64_t* out, std::size_t count, const char* what) {
    const std::size_t needed = count * sizeof(std::uint64_t);
    require(needed, what);
    if (needed) std::memcpy(out, bytes_.data() + offset_, needed);
    offset_ += needed;
}

WeightsWriter::WeightsWriter(std::uint64_t seen, bool packed) : packed_(packed) {
    if (packed) {
        bytes_.append(kPackedMagic, 4);
        append<std::uint32_t>(bytes_, kPackedVersion);
    } else {
        append<std::int32_t>(bytes_, 0);  // major
        append<std::int32_t>(bytes_, 2);  // minor: 0.2 stores seen as uint64
        append<std::int32_t>(bytes_, 0);  // revision
    }
    append<std::uint64_t>(bytes_, seen);
}

void WeightsWriter::write_floats(const float* values, std::size_t count) {
    bytes_.append(reinterpret_cast<const char*>(values), count * sizeof(float));
}

void WeightsWriter::write_words(const std::uint64_t* values, std::size_t count) {
    bytes_.append(reinterpret_cast<const char*>(values), count * sizeof(std::uint64_t));
}

std::string WeightsWriter::finish() const {
    if (!packed_) return bytes_;
    std::string out = bytes_;
    append<std::uint32_t>(out, crc_of(out.data(), out.size()));
    return out;
}

void write_binary_weights(WeightsWriter& writer, const float* weights, int rows, int n, kernels::ZeroSign zero) {
    const std::size_t count = std::size_t(rows) * std::size_t(n);
    if (!writer.packed()) return writer.write_floats(weights, count);
    std::vector<float> signs(count), alpha(static_cast<std::size_t>(rows));
    kernels::binarize_rows(weights, rows, n, zero, signs.data(), alpha.data());
    writer.write_floats(alpha.data(), alpha.size());
    const std::size_t row_words = (std::size_t(n) + 63) / 64;
    std::vector<std::uint64_t> words(row_words);
    for (int r = 0; r < rows; ++r) {
        std::fill(words.begin(), words.end(), 0);
        const float* row = signs.data() + std::size_t(r) * std::size_t(n);
        for (int i = 0; i < n; ++i)
            if (row[i] > 0) words[std::size_t(i) / 64] |= std::uint64_t(1) << (i % 64);
        writer.write_words(words.data(), words.size());
    }
}

void read_binary_weights(WeightsReader& reader, float* weights, int rows, int n) {
    const std::size_t count = std::size_t(rows) * std::size_t(n);
    if (!reader.packed()) return reader.read_floats(weights, count, "weights");
    std::vector<float> alpha(static_cast<std::size_t>(rows));
    reader.read_floats(alpha.data(), alpha.size(), "alpha");
    for (std::size_t r = 0; r < alpha.size(); ++r)
        if (!std::isfinite(alpha[r]) || alpha[r] < 0)
            throw Error(cat(reader.path(), ": byte offset ", reader.offset() - 4 * (alpha.size() - r), ": alpha of row ",
                            r, " is ", alpha[r], " (expected a finite value >= 0)"));
    const std::size_t row_words = (std::size_t(n) + 63) / 64;
    std::vector<std::uint64_t> words(row_words);
    for (int r = 0; r < rows; ++r) {
        const std::size_t at = reader.offset();
        reader.read_words(words.data(), words.size(), "sign bits");
        if (n % 64 != 0 && (words.back() >> (n % 64)) != 0)
            throw Error(cat(reader.path(), ": byte offset ", at + 8 * (row_words - 1), ": row ", r,
                            " has sign bits set past its ", n, " weights"));
        float* row = weights + std::size_t(r) * std::size_t(n);
        const float a = alpha[std::size_t(r)];
        for (int i = 0; i < n; ++i) row[i] = (words[std::size_t(i) / 64] >> (i % 64)) & 1 ? a : -a;
    }
}

}  // namespace lenet
