// The GPU tests' entry point: without a usable CUDA device the whole executable is skipped (exit
// 77, which ctest's SKIP_RETURN_CODE reports as "Skipped"), never passed.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>

#include "kernels/cuda/cuda.h"

namespace {
constexpr int kSkipCode = 77;  // CMakeLists.txt registers it
}

int main(int argc, char* argv[]) {
    if (!lenet::kernels::cuda::available()) {
        std::printf("lenet_cuda_tests: skipped: %s\n", lenet::kernels::cuda::unavailable_reason().c_str());
        return kSkipCode;
    }
    return Catch::Session().run(argc, argv);
}
