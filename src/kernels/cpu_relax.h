// A hint to the CPU that the caller is spinning on a flag (lets the other hyperthread run, saves
// power); the only per-ISA instruction the thread pool needs.
#pragma once

namespace lenet::kernels {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    asm volatile("yield");
#endif
}

}  // namespace lenet::kernels
