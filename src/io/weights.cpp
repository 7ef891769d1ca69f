#include "io/weights.h"

#include <bit>
#include <cstring>

#include "core/error.h"

static_assert(std::endian::native == std::endian::little, "the .weights reader assumes a little-endian host");

namespace lenet {

namespace {
template <class T>
void append(std::string& bytes, T value) {
    char raw[sizeof(T)];
    std::memcpy(raw, &value, sizeof(T));
    bytes.append(raw, sizeof(T));
}
}  // namespace

WeightsReader::WeightsReader(std::string path, std::string bytes) : path_(std::move(path)), bytes_(std::move(bytes)) {
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

void WeightsReader::read_floats(float* out, std::size_t count, const char* what) {
    const std::size_t needed = count * sizeof(float);
    if (remaining() < needed)
        throw Error(cat(path_, ": truncated at byte offset ", offset_, ": ", layer_, " needs ", needed,
                        " bytes for its ", what, " but only ", remaining(), " remain (file has ", bytes_.size(),
                        " bytes; wrong cfg or incomplete download?)"));
    std::memcpy(out, bytes_.data() + offset_, needed);
    offset_ += needed;
}

WeightsWriter::WeightsWriter(std::uint64_t seen) {
    append<std::int32_t>(bytes_, 0);  // major
    append<std::int32_t>(bytes_, 2);  // minor: 0.2 stores seen as uint64
    append<std::int32_t>(bytes_, 0);  // revision
    append<std::uint64_t>(bytes_, seen);
}

void WeightsWriter::write_floats(const float* values, std::size_t count) {
    bytes_.append(reinterpret_cast<const char*>(values), count * sizeof(float));
}

}  // namespace lenet
