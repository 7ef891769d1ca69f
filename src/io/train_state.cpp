#include "io/train_state.h"

#include <zlib.h>

#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "io/atomic_file.h"

namespace lenet {

namespace {
constexpr char kMagic[4] = {'L', 'N', 'T', 'S'};
constexpr std::uint32_t kVersion = 4;  // reads 1 to 3 too

template <class T>
void put(std::string& bytes, T value) {
    bytes.append(reinterpret_cast<const char*>(&value), sizeof value);
}

class Cursor {
public:
    Cursor(const std::string& path, const std::string& bytes) : path_(path), bytes_(bytes) {}
    template <class T>
    T get(const char* what) {
        if (bytes_.size() - offset_ < sizeof(T))
            throw Error(cat(path_, ": truncated at byte offset ", offset_, " reading ", what));
        T value;
        std::memcpy(&value, bytes_.data() + offset_, sizeof value);
        offset_ += sizeof value;
        return value;
    }
    std::size_t offset() const { return offset_; }
    std::size_t remaining() const { return bytes_.size() - offset_; }

private:
    const std::string& path_;
    const std::string& bytes_;
    std::size_t offset_ = 0;
};
}  // namespace

std::string state_path_for(const std::string& weights_path) { return weights_path + ".state"; }

void save_train_state(const std::string& path, const TrainState& state) {
    std::string bytes(kMagic, 4);
    put<std::uint32_t>(bytes, kVersion);
    put<std::uint64_t>(bytes, state.seen);
    put<std::uint64_t>(bytes, state.updates);
    put<std::uint64_t>(bytes, state.seed);
    put<std::uint32_t>(bytes, state.adam ? 1u : 0u);
    put<std::uint64_t>(bytes, state.moments.size());
    bytes.append(reinterpret_cast<const char*>(state.moments.data()), state.moments.size() * sizeof(float));
    put<std::uint64_t>(bytes, state.lenet_only.size());
    bytes.append(reinterpret_cast<const char*>(state.lenet_only.data()), state.lenet_only.size() * sizeof(float));
    put<double>(bytes, state.best_map);
    put<double>(bytes, state.train_seconds);
    const auto crc = std::uint32_t(crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), uInt(bytes.size())));
    put<std::uint32_t>(bytes, crc);
    write_file_atomically(path, bytes);
}

void save_lenet_only_state(const std::string& weights_path, std::uint64_t seen, const std::vector<float>& values) {
    if (values.empty()) return;
    TrainState state;
    state.seen = seen;
    state.lenet_only = values;
    save_train_state(state_path_for(weights_path), state);
}

std::optional<TrainState> load_train_state(const std::string& path) {
    if (!std::filesystem::exists(path)) return std::nullopt;
    const std::string bytes = read_file(path);
    Cursor in(path, bytes);
    if (bytes.size() < 4 || std::memcmp(bytes.data(), kMagic, 4) != 0)
        throw Error(cat(path, ": byte offset 0: not a lenet training state file"));
    in.get<std::uint32_t>("magic");
    const auto version = in.get<std::uint32_t>("version");
    if (version < 1 || version > kVersion) throw Error(cat(path, ": byte offset 4: unsupported version ", version));
    TrainState state;
    state.seen = in.get<std::uint64_t>("seen");
    state.updates = in.get<std::uint64_t>("updates");
    state.seed = in.get<std::uint64_t>("seed");
    state.adam = in.get<std::uint32_t>("optimizer") != 0;
    auto read_array = [&](std::vector<float>& out, const char* what) {
        const auto count = in.get<std::uint64_t>("count");
        if (count > in.remaining() / sizeof(float))
            throw Error(cat(path, ": truncated at byte offset ", in.offset(), ": ", count, " ", what, " promised, ",
                            in.remaining(), " bytes left"));
        out.resize(count);
        for (auto& v : out) v = in.get<float>(what);
    };
    read_array(state.moments, "moments");
    if (version >= 2) read_array(state.lenet_only, "layer values");
    if (version >= 3) state.best_map = in.get<double>("best mAP");
    if (version >= 4) state.train_seconds = in.get<double>("training seconds");
    const std::size_t body = in.offset();
    const auto stored = in.get<std::uint32_t>("checksum");
    const auto actual = std::uint32_t(crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), uInt(body)));
    if (stored != actual) throw Error(cat(path, ": byte offset ", body, ": checksum mismatch (damaged file)"));
    if (in.remaining() != 0) throw Error(cat(path, ": byte offset ", in.offset(), ": unexpected trailing bytes"));
    return state;
}

}  // namespace lenet
