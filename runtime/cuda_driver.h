// The CUDA driver API, loaded at run time (dlopen of libcuda.so.1, or the
// file $EMBER_CUDA_DRIVER names): ember builds, imports and runs its CPU
// paths on machines without it. Only the entry points ember calls are
// declared, with the driver's C types spelled as plain integers.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace ember::runtime::cuda {

// A driver call failed: `name` is the driver's error name
// ("CUDA_ERROR_NO_DEVICE"), `code` its CUresult; what() adds the driver's
// description and the call. Also raised by every call when the driver did
// not load (code -1, name "no CUDA driver") or cuInit failed (its error).
class CudaError : public std::runtime_error {
 public:
  CudaError(int code, std::string name, const std::string& message)
      : std::runtime_error(message), code(code), name(std::move(name)) {}
  int code;
  std::string name;
};

struct DeviceInfo {
  std::string name;
  int major = 0, minor = 0;  // compute capability
  int multiprocessors = 0;
  int64_t total_memory = 0;  // bytes
  int driver_version = 0;    // e.g. 12040 for CUDA 12.4
};

// Whether the driver loaded, initialized and sees at least one device.
bool available();
// Why available() is false ("" when it is true).
std::string unavailable_reason();
int device_count();                 // throws CudaError without a driver
DeviceInfo device_info(int device);  // throws CudaError

}  // namespace ember::runtime::cuda
