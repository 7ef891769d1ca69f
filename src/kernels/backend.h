// Which table of kernels runs the arithmetic (kernels/ops.h). The reference kernels are plain C++
// and are the truth every other backend is tested against; the choice is made once, at run time,
// from the CPU's features or the user's -backend option.
#pragma once
#include <string_view>

namespace lenet {

class ThreadPool;
namespace kernels {
struct Ops;
}

// A backend is its table of kernels.
using Backend = const kernels::Ops*;

const char* backend_name(Backend backend);
// Parses "auto" or a backend's name; throws Error naming the option on anything else or on a
// backend this CPU or build cannot run.
Backend parse_backend(std::string_view name);
// The fastest backend this CPU runs (never a device backend: those are chosen by name).
Backend best_backend();
// The cuda backend on device `index` (-gpu N; "-backend cuda" is device 0); throws Error naming
// the option when the build has no cuda backend, there is no such device or none at all.
Backend select_gpu(long long index);

// What every kernel call needs besides its operands: the bound table and the threads.
struct Compute {
    ThreadPool* pool = nullptr;
    const kernels::Ops* ops = nullptr;
};

}  // namespace lenet
