// The host side of device backends, testable on any machine: tensors' memory hook, the registry's
// cuda row (built or not, with or without a device), and -gpu / -backend parsing.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "commands/args.h"
#include "core/error.h"
#include "core/tensor.h"
#include "kernels/ops.h"
#ifdef LENET_HAVE_CUDA
#include "kernels/cuda/cuda.h"
#endif

namespace {

namespace k = lenet::kernels;
using Catch::Matchers::Contains;

// Host memory that counts what it hands out and takes back.
class CountingMemory final : public lenet::TensorMemory {
public:
    mutable std::size_t allocated = 0, released = 0, live_floats = 0;
    lenet::Device device() const override { return lenet::Device::cuda_managed; }
    float* allocate(std::size_t floats) const override {
        ++allocated;
        live_floats += floats;
        return lenet::host_memory().allocate(floats);
    }
    void release(float* data, std::size_t floats) const noexcept override {
        ++released;
        live_floats -= floats;
        lenet::host_memory().release(data, floats);
    }
};

}  // namespace

TEST_CASE("Tensor storage comes from its TensorMemory, zeroed, and goes back once", "[tensor]") {
    CountingMemory memory;
    {
        lenet::Tensor t(2, lenet::Shape{3, 4, 5}, memory);
        CHECK(memory.allocated == 1);
        CHECK(memory.live_floats == 120);
        CHECK(t.device() == lenet::Device::cuda_managed);
        CHECK(t.owns_memory());
        CHECK(std::all_of(t.data(), t.data() + t.size(), [](float v) { return v == 0.0f; }));
        t.data()[7] = 3.0f;
        lenet::Tensor moved(std::move(t));
        CHECK(t.data() == nullptr);
        CHECK_FALSE(t.owns_memory());
        CHECK(moved.data()[7] == 3.0f);
        lenet::Tensor other = lenet::Tensor::flat(10, memory);
        CHECK(memory.allocated == 2);
        other = std::move(moved);  // other's first storage goes back now
        CHECK(memory.released == 1);
        CHECK(memory.live_floats == 120);
        CHECK(other.data()[7] == 3.0f);
        CHECK(other.device() == lenet::Device::cuda_managed);
        // Empty tensors take nothing.
        lenet::Tensor empty(0, lenet::Shape{3, 4, 5}, memory);
        CHECK(memory.allocated == 2);
        CHECK(empty.data() == nullptr);
    }
    CHECK(memory.released == 2);
    CHECK(memory.live_floats == 0);
}

TEST_CASE("CPU backends keep tensors in host memory, and auto and the CPU list never hold a device backend", "[backend]") {
    for (const k::Ops* ops : k::available_backends()) {
        INFO(ops->name);
        CHECK(k::tensor_memory(*ops).device() == lenet::Device::cpu);
        CHECK(std::string(ops->name) != "cuda");
    }
    CHECK(k::tensor_memory(*lenet::best_backend()).device() == lenet::Device::cpu);
    // A table outside the registry (a test's own) runs host kernels.
    const k::Ops copy = k::reference_ops();
    CHECK(k::tensor_memory(copy).device() == lenet::Device::cpu);
}

TEST_CASE("backend options: -gpu or -backend, not both, and -gpu takes a device number", "[backend]") {
    const std::vector<lenet::OptionSpec> specs{{"-backend", true}, {"-gpu", true}};
    CHECK(lenet::backend_option(lenet::Args("test", {}, specs)) == lenet::best_backend());
    CHECK(lenet::backend_option(lenet::Args("test", {"-backend", "reference"}, specs)) == &k::reference_ops());
    CHECK_THROWS_WITH(lenet::backend_option(lenet::Args("test", {"-gpu", "0", "-backend", "reference"}, specs)),
                      Contains("not both"));
    CHECK_THROWS_WITH(lenet::backend_option(lenet::Args("test", {"-gpu", "x"}, specs)), Contains("-gpu x"));
}

#ifndef LENET_HAVE_CUDA
TEST_CASE("a build without the cuda backend says so for -gpu and -backend cuda", "[backend]") {
    CHECK(k::find_ops("cuda") == nullptr);
    CHECK_THROWS_WITH(lenet::select_gpu(0), Contains("this build has no cuda backend") && Contains("-DLENET_CUDA=ON"));
    CHECK_THROWS_WITH(lenet::parse_backend("cuda"), Contains("unknown backend"));
}
#else
TEST_CASE("the cuda row is available exactly when cudaGetDeviceCount reports a device", "[backend][cuda]") {
    CHECK(k::cuda::devices_usable(0, 1));
    CHECK(k::cuda::devices_usable(0, 8));
    CHECK_FALSE(k::cuda::devices_usable(0, 0));
    CHECK_FALSE(k::cuda::devices_usable(35, 1));   // cudaErrorInsufficientDriver
    CHECK_FALSE(k::cuda::devices_usable(100, 0));  // cudaErrorNoDevice
    const k::Ops* cuda = k::find_ops("cuda");
    REQUIRE(cuda != nullptr);
    CHECK(cuda == &k::cuda::table());
    CHECK(k::tensor_memory(*cuda).device() == lenet::Device::cuda_managed);
    const std::vector<const k::Ops*> cpu_tables = k::available_backends();
    CHECK(std::find(cpu_tables.begin(), cpu_tables.end(), cuda) == cpu_tables.end());
    if (!k::cuda::available()) {
        CHECK(k::cuda::device_count() == 0);
        CHECK_THAT(k::cuda::unavailable_reason(), Contains("no CUDA device"));
        CHECK_THROWS_WITH(lenet::parse_backend("cuda"), Contains("-backend cuda") && Contains("no CUDA device"));
        CHECK_THROWS_WITH(lenet::select_gpu(1), Contains("-gpu 1") && Contains("no CUDA device"));
    } else {
        CHECK(k::cuda::device_count() > 0);
        CHECK(k::cuda::unavailable_reason().empty());
        CHECK_THROWS_WITH(lenet::select_gpu(k::cuda::device_count()), Contains("expected a device from 0"));
    }
}
#endif

#ifdef LENET_HAVE_CUDA
TEST_CASE("the cuda table has its own kernels for exactly the ops src/kernels/cuda/README.md lists", "[backend][cuda]") {
    // Building the table makes no CUDA call: this runs without a device.
    const std::set<std::string> cuda_ops{
        "gemm", "gemm_single", "activate", "activate_single", "activation_gradient", "activation_gradient_single",
        "scale_add_bias", "bias_gradient", "bias_gradient_single", "scale_gradient", "channel_mean_variance",
        "normalize", "normalize_rolling", "update_rolling", "batchnorm_backward", "add", "copy", "multiply",
        "multiply_add", "im2col", "col2im_add", "maxpool_forward", "maxpool_backward_set", "maxpool_backward_add",
        "adam_update", "xnor_conv_workspace", "xnor_conv", "xnor_conv_single", "xnor_dense", "gemm_packed_a"};
    std::set<std::string> own;
    for (const k::OpOrigin& o : k::op_origins(k::cuda::table())) {
        if (std::string(o.origin) == "own") own.insert(o.op);
    }
    CHECK(own == cuda_ops);
    CHECK(std::string(k::cuda::table().name) == "cuda");
}
#endif
