// The backend registry: one row per backend folder. A new backend is its folder (a table.cpp
// filling kernels::Ops) and one row here.
#include <string>

#include "core/error.h"
#include "kernels/ops.h"

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
        {"reference", always, reference_table},
#ifdef LENET_HAVE_AVX2
        {"avx2", avx2_available, avx2_table},
#endif
#ifdef LENET_HAVE_NEON
        {"neon", neon_available, neon_table},
#endif
    };
    return rows;
}

std::vector<const Ops*> available_backends() {
    std::vector<const Ops*> list;
    for (const BackendInfo& row : built_backends())
        if (row.available()) list.push_back(&row.table());
    return list;
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

Backend parse_backend(std::string_view name) {
    if (name == "auto") return best_backend();
    std::string names = "auto";
    for (const kernels::BackendInfo& row : kernels::built_backends()) {
        names += cat(", ", row.name);
        if (name != row.name) continue;
        if (!row.available()) throw Error(cat("-backend ", name, ": not available on this CPU"));
        return &row.table();
    }
    throw Error(cat("-backend ", name, ": unknown backend (expected ", names, ")"));
}

}  // namespace lenet
