// Backends for the tests: every table this CPU runs, through the registry (kernels/ops.h), never by
// name. A test that needs a backend beyond the reference and finds none is skipped: under ctest
// (which sets LENET_TEST_SKIP_CODE for each test, see CMakeLists.txt) the test's process exits
// with that code and ctest reports "Skipped"; run by hand, the test warns and passes nothing.
#pragma once
#include <catch2/catch.hpp>

#include <cstdlib>
#include <string_view>
#include <vector>

#include "kernels/ops.h"

namespace lenet::test {

// The backends to run layer tests on: the reference first.
inline std::vector<const kernels::Ops*> all_backends() { return kernels::available_backends(); }

// The backends that have kernels of their own to check against the reference.
// LENET_TEST_BACKENDS=reference hides them (to see the skips on any machine).
inline std::vector<const kernels::Ops*> optimized_backends() {
    std::vector<const kernels::Ops*> list = kernels::available_backends();
    list.erase(list.begin());
    const char* only = std::getenv("LENET_TEST_BACKENDS");
    if (only && std::string_view(only) == "reference") list.clear();
    return list;
}

// True when there is nothing to test (the caller returns); under ctest it does not return.
inline bool no_optimized_backend_to_test() {
    if (!optimized_backends().empty()) return false;
    if (const char* code = std::getenv("LENET_TEST_SKIP_CODE")) std::_Exit(std::atoi(code));
    WARN("no backend but the reference on this CPU or build: nothing to compare");
    return true;
}

// The backend the running test case is on: a test case that starts with EACH_BACKEND() runs once
// per available backend (a Catch generator), the reference first; other cases get the best one.
inline const kernels::Ops*& backend_under_test() {
    static const kernels::Ops* backend = &kernels::best_ops();
    return backend;
}

}  // namespace lenet::test

#define EACH_BACKEND()                                                                                \
    ::lenet::test::backend_under_test() = GENERATE(from_range(::lenet::test::all_backends())); \
    INFO("backend " << ::lenet::backend_name(::lenet::test::backend_under_test()))

// At the top of a test that compares optimized backends with the reference: skipped (ctest shows
// "Skipped") when there are none.
#define SKIP_WITHOUT_OPTIMIZED_BACKEND()                              \
    do {                                                              \
        if (::lenet::test::no_optimized_backend_to_test()) return;    \
    } while (0)
