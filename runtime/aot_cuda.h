// The GPU exports of an ahead-of-time library (runtime/aot_library.cpp):
// PTX for some architectures, loaded through the driver (dlopen at the first
// call: the library does not link libcuda) once per device, and launched on
// the caller's stream.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "runtime/cuda_driver.h"
#include "runtime/kernel.h"

namespace ember::runtime {

// The device cannot run any of the library's PTX (too old for all of it).
class GpuArchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class GpuExport {
 public:
  // `ptx`: architecture ("sm_80") -> PTX text, each with kernel `entry`
  // (and, for a reduction, `entry`_merge and `entry`_finish).
  GpuExport(std::map<std::string, std::string> ptx, std::string entry, bool reduction)
      : ptx_(std::move(ptx)), entry_(std::move(entry)), reduction_(reduction) {}

  // Queues `kernel` with the C function's arguments `argv` (a map: n, the
  // device pointers, out's, the stream; a reduction: the same with the
  // result's pointer, and it waits for the stream; a @kernel: the extents,
  // each parameter, the stream). Throws std::invalid_argument for bad
  // arguments, cuda::CudaError for the driver's errors, GpuArchError,
  // ir::IndexError after a bounds-checked kernel (which waits for the
  // stream to report it).
  void call(const Kernel& kernel, void* const* argv);

 private:
  std::shared_ptr<cuda::Module> module(int device);
  void reduce(const Kernel& kernel, std::vector<uint64_t> slots, int64_t n, cuda::Stream stream);
  std::map<std::string, std::string> ptx_;
  std::string entry_;
  bool reduction_;
  std::mutex mu_;
  std::map<int, std::shared_ptr<cuda::Module>> modules_;  // per device
};

}  // namespace ember::runtime
