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

// For targets that reach OpenCV's decoders: OpenCV reads OPENCV_IO_MAX_IMAGE_PIXELS once, in a
// static initializer when it loads, so a setenv in LLVMFuzzerInitialize comes too late (a PGM
// header claiming 10^9 pixels then allocates 3 GB, past -rss_limit_mb). Re-executes the target
// with the cap (and a quiet logger) in its environment; returns when they are already there.
inline void cap_opencv_image_size(char*** argv) {
    if (std::getenv("OPENCV_IO_MAX_IMAGE_PIXELS")) return;
    ::setenv("OPENCV_IO_MAX_IMAGE_PIXELS", "16777216", 1);  // OpenCV's own cap is 2^30
    ::setenv("OPENCV_LOG_LEVEL", "ERROR", 0);
    if (argv && *argv) ::execv("/proc/self/exe", *argv);
    std::perror("fuzz harness: re-executing with OPENCV_IO_MAX_IMAGE_PIXELS set");
    std::abort();
}

}  // namespace lenet_fuzz
