// The backend registry: one row per backend folder. A new backend is its folder (a table.cpp
// filling kernels::Ops) and one row here.
#include <string>

#include "core/error.h"
#include "core/tensor.h"
#include "kernels/ops.h"
#ifdef LENET_HAVE_CUDA
#include "kernels/cuda/cuda.h"
#endif

namespace lenet::kernels {

const Ops& reference_table();
#ifdef LENET_HAVE_AVX2
bool avx2_available();
const Ops& avx2_table();
#endif
#ifdef LENET_HAVE_NEON
bool neon_available();
const Ops& neon_table();
#endif

namespace {
bool always() { return true; }
}  // namespace

const std::vector<BackendInfo>& built_backends() {
    static const std::vector<BackendInfo> rows{
        {"reference", always, reference_table, host_memory},
#ifdef LENET_HAVE_AVX2
        {"avx2", avx2_available, avx2_table, host_memory},
#endif
#ifdef LENET_HAVE_NEON
        {"neon", neon_available, neon_table, host_memory},
#endif
#ifdef LENET_HAVE_CUDA
        {"cuda", cuda::available, cuda::table, cuda::managed_memory},
#endif
    };
    return rows;
}

std::vector<const Ops*> available_backends() {
    std::vector<const Ops*> list;
    for (const BackendInfo& row : built_backends())
        if (row.memory().device() == Device::cpu && row.available()) list.push_back(&row.table());
    return list;
}

const TensorMemory& tensor_memory(const Ops& ops) {
    for (const BackendInfo& row : built_backends())
        if (&row.table() == &ops) return row.memory();
    return host_memory();  // a table outside the registry (tests' own): host kernels
}

const Ops& reference_ops() { return reference_table(); }

const Ops& best_ops() { return *available_backends().back(); }

const Ops* find_ops(std::string_view name) {
    for (const BackendInfo& row : built_backends())
        if (name == row.name) return &row.table();
    return nullptr;
}

}  // namespace lenet::kernels

namespace lenet {

const char* backend_name(Backend backend) { return backend ? backend->name : "?"; }

Backend best_backend() { return &kernels::best_ops(); }

namespace {

// The cuda table on device `index`; errors start with the option that asked for it.
Backend cuda_backend([[maybe_unused]] long long index, const std::string& option) {
#ifdef LENET_HAVE_CUDA
    if (index < 0 || index > 1 << 20) throw Error(cat(option, ": not a device number"));
    try {
        kernels::cuda::select_device(int(index));
    } catch (const Error& e) {
        throw Error(cat(option, ": ", e.what()));
    }
    return &kernels::cuda::table();
#else
    throw Error(cat(option, ": this build has no cuda backend (configure with -DLENET_CUDA=ON)"));
#endif
}

}  // namespace

Backend parse_backend(std::string_view name) {
    if (name == "auto") return best_backend();
#ifdef LENET_HAVE_CUDA
    if (name == "cuda") return cuda_backend(0, "-backend cuda");
#endif
    std::string names = "auto";
    for (const kernels::BackendInfo& row : kernels::built_backends()) {
        names += cat(", ", row.name);
        if (name != row.name) continue;
        if (!row.available()) throw Error(cat("-backend ", name, ": not available on this CPU"));
        return &row.table();
    }
    throw Error(cat("-backend ", name, ": unknown backend (expected ", names, ")"));
}

Backend select_gpu(long long index) { return cuda_backend(index, cat("-gpu ", index)); }

}  // namespace lenet
