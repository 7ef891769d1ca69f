// Shared helpers for the libFuzzer targets (built by scripts/fuzz.sh, not by CMake).
#pragma once
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace lenet_fuzz {

// Where inputs go: $LENET_FUZZ_TMPDIR, else /dev/shm (tmpfs: rewriting a file on the disk-backed
// /tmp costs ~1 ms, which capped the targets near 500 exec/s), else /tmp.
inline std::string temp_dir() {
    if (const char* dir = std::getenv("LENET_FUZZ_TMPDIR"); dir && *dir) return dir;
    if (::access("/dev/shm", W_OK) == 0) return "/dev/shm";
    return "/tmp";
}

// The loaders under test take a path, so each input is written to a per-process temp file.
// `suffix` matters only for readers that look at the name (none do today; kept for clarity).
inline const std::string& write_input(const std::uint8_t* data, std::size_t size, const char* suffix) {
    static const std::string path =
        temp_dir() + "/lenet_fuzz_" + std::to_string(::getpid()) + "_" + suffix;
    static const bool cleanup = [] { return std::atexit([] { std::remove(path.c_str()); }) == 0; }();
    (void)cleanup;
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) throw std::runtime_error("fuzz harness: cannot open " + path);  // harness failure, not a finding
    if (size && std::fwrite(data, 1, size, f) != size) {
        std::fclose(f);
        throw std::runtime_error("fuzz harness: short write to " + path);
    }
    std::fclose(f);
    return path;
}

}  // namespace lenet_fuzz
