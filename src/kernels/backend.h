// Which family of kernels runs the arithmetic. The reference kernels are plain C++ and are the
// truth every optimized family is tested against; the choice is made once, at run time, from the
// CPU's features or the user's -backend option.
#pragma once
#include <string>
#include <string_view>

namespace lenet {

class ThreadPool;

enum class Backend { reference, avx2 };

const char* backend_name(Backend backend);
// Parses "reference", "avx2" or "auto"; throws Error naming the option on anything else or on a
// backend this CPU or build cannot run.
Backend parse_backend(std::string_view name);
bool backend_available(Backend backend);
Backend best_backend();

bool cpu_has_avx2_fma();

// What every kernel call needs besides its operands.
struct Compute {
    ThreadPool* pool = nullptr;
    Backend backend = Backend::reference;
};

}  // namespace lenet
