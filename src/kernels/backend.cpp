#include "kernels/backend.h"

#include "core/error.h"

namespace lenet {

const char* backend_name(Backend backend) {
    switch (backend) {
        case Backend::reference: return "reference";
        case Backend::avx2: return "avx2";
    }
    return "?";
}

bool cpu_has_avx2_fma() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return false;
#endif
}

bool backend_available(Backend backend) {
    switch (backend) {
        case Backend::reference: return true;
        case Backend::avx2:
#ifdef LENET_HAVE_AVX2
            return cpu_has_avx2_fma();
#else
            return false;
#endif
    }
    return false;
}

Backend best_backend() { return backend_available(Backend::avx2) ? Backend::avx2 : Backend::reference; }

Backend parse_backend(std::string_view name) {
    if (name == "auto") return best_backend();
    for (Backend b : {Backend::reference, Backend::avx2}) {
        if (name == backend_name(b)) {
            if (!backend_available(b))
                throw Error(cat("-backend ", name, ": not available on this CPU or build"));
            return b;
        }
    }
    throw Error(cat("-backend ", name, ": unknown backend (expected auto, reference or avx2)"));
}

}  // namespace lenet
