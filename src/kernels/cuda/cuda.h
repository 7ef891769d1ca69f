// The cuda backend as the rest of lenet sees it: no CUDA header here, so the registry and the
// commands compile with the C++ compiler alone. See README.md in this folder for the design.
#pragma once
#include <string>

namespace lenet {
class TensorMemory;
}

namespace lenet::kernels {
struct Ops;
}

namespace lenet::kernels::cuda {

// The rule behind the backend row's "available": cudaGetDeviceCount succeeded (status 0) and
// reported at least one device. Anything else (no driver, no device, a driver older than the
// runtime) means not available, never an error.
bool devices_usable(int status, int count);
// Devices this process can use: 0 without a driver or device.
int device_count();
bool available();
// Why the backend is not available (the runtime's own words), empty when it is.
std::string unavailable_reason();

// Makes device `index` the current one for this process, or throws Error when there is no such
// device or when it cannot address host memory (see README.md: layers' parameters are
// still host vectors, which the device reads through HMM/ATS).
void select_device(int index);

// The table: reference kernels with the ops of this folder replaced (README.md lists them).
const Ops& table();
// CUDA managed memory for the network's tensors.
const TensorMemory& managed_memory();

}  // namespace lenet::kernels::cuda
