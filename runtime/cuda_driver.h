// The CUDA driver API, loaded at run time (dlopen of libcuda.so.1, or the
// file $EMBER_CUDA_DRIVER names): ember builds, imports and runs its CPU
// paths on machines without it. Only the entry points ember calls are
// wrapped, with the driver's handle types spelled as plain integers and
// pointers. Every call that touches a device first makes that device's
// primary context (the one CuPy, PyTorch and Numba share) current on the
// calling thread, so pointers from those libraries are valid here.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace ember::runtime::cuda {

// A driver call failed: `name` is the driver's error name
// ("CUDA_ERROR_NO_DEVICE"), `code` its CUresult; what() adds the driver's
// description and the call. Also raised by every call when the driver did
// not load (code -1, name "no CUDA driver") or cuInit failed (its error).
// An out-of-memory error says how much was asked for and how much is free;
// a kernel fault says that the context is lost.
class CudaError : public std::runtime_error {
 public:
  CudaError(int code, std::string name, const std::string& message)
      : std::runtime_error(message), code(code), name(std::move(name)) {}
  int code;
  std::string name;
};
inline constexpr int kOutOfMemory = 2;  // CUDA_ERROR_OUT_OF_MEMORY

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

// --- Memory and copies (synchronous for the host; device-to-device copies
// and launches are queued on the legacy default stream). Memory comes from
// the device's stream-ordered pool (cuMemAllocAsync / cuMemFreeAsync on the
// legacy default stream): no device-wide synchronization when it is freed,
// and reuse without a trip through the driver's allocator. -----------------
using DevicePtr = uint64_t;  // CUdeviceptr
using Stream = uintptr_t;    // CUstream; 0 is the legacy default stream

DevicePtr allocate(int device, size_t bytes);  // bytes > 0
void release(int device, DevicePtr p) noexcept;  // for destructors: errors are dropped
void copy_to_device(int device, DevicePtr dst, const void* src, size_t bytes);
void copy_to_host(int device, void* dst, DevicePtr src, size_t bytes);
void copy_on_device(int device, DevicePtr dst, DevicePtr src, size_t bytes);
void zero(int device, DevicePtr p, size_t bytes);
// Waits that a Ctrl-C ends (runtime/interrupt.h: Interrupted; the device
// goes on with its work): copies to the host, and these.
void synchronize(int device);                  // the whole device (context)
void synchronize_stream(int device, Stream s);  // one stream
// The device ordinal `p` belongs to; CudaError when it is not device memory.
int device_of(DevicePtr p);

// Owns `bytes` of device memory; freed when the last reference goes.
class DeviceMemory {
 public:
  DeviceMemory(int device, size_t bytes);
  ~DeviceMemory();
  DeviceMemory(const DeviceMemory&) = delete;
  DeviceMemory& operator=(const DeviceMemory&) = delete;
  DevicePtr ptr() const { return ptr_; }
  size_t bytes() const { return bytes_; }
  int device() const { return device_; }

 private:
  int device_;
  size_t bytes_;
  DevicePtr ptr_ = 0;
};

// A PTX module loaded on one device, with its kernels `entries` (grid-stride
// kernels: any grid covers their domain). Loading JIT-compiles the PTX for
// the device; a failure carries the driver's JIT log. Blocks have `block`
// threads when it is not 0 (kernels that require it), otherwise the size
// the occupancy calculator picks per kernel.
class Module {
 public:
  Module(int device, const std::string& ptx, const std::vector<std::string>& entries,
         int block = 0);
  ~Module();
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  // Queues kernel `entry` (an index into `entries`) over `threads` logical
  // threads on `stream`. Each parameter sits in its own 8-byte slot
  // (little-endian, low bytes first), in the kernel's parameter order.
  void launch(size_t entry, int64_t threads, std::span<const uint64_t> params,
              Stream stream) const;
  int device() const { return device_; }
  // A kernel's threads per block (occupancy) and the blocks that fill the device.
  int block_size(size_t entry) const { return kernels_.at(entry).block; }
  int max_grid(size_t entry) const { return kernels_.at(entry).max_grid; }

 private:
  struct Kernel {
    uintptr_t function = 0;
    int block = 0, max_grid = 0;
  };
  int device_;
  uintptr_t module_ = 0;
  std::vector<Kernel> kernels_;
};

}  // namespace ember::runtime::cuda
