// Loads the CUDA driver once per process and turns its error codes into
// CudaError. Entry points are looked up by their versioned names (those the
// CUDA headers map the plain names to).
#include "runtime/cuda_driver.h"

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/interrupt.h"

namespace ember::runtime::cuda {
namespace {

using Result = int;  // CUresult; 0 is CUDA_SUCCESS
constexpr int kAttrMultiprocessors = 16;  // CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT
constexpr int kAttrMajor = 75;            // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
constexpr int kAttrMinor = 76;            // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR
constexpr int kAttrMemoryPools = 115;     // CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED
constexpr int kPoolReleaseThreshold = 4;  // CU_MEMPOOL_ATTR_RELEASE_THRESHOLD
constexpr int kPointerDeviceOrdinal = 9;  // CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL
constexpr Result kNotReady = 600;         // CUDA_ERROR_NOT_READY
constexpr int kJitErrorLogBuffer = 5;     // CU_JIT_ERROR_LOG_BUFFER
constexpr int kJitErrorLogBufferSize = 6; // CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES

// CUmemPoolProps: pinned device memory on one device, not exportable; the
// rest (maxSize 0: the system's limit, usage, reserved) must be zero.
struct PoolProps {
  int alloc_type = 1;     // CU_MEM_ALLOCATION_TYPE_PINNED
  int handle_types = 0;   // CU_MEM_HANDLE_TYPE_NONE
  int location_type = 1;  // CU_MEM_LOCATION_TYPE_DEVICE
  int location_id = 0;    // the device ordinal
  void* win32_security_attributes = nullptr;
  unsigned char zero[64] = {};
};
static_assert(sizeof(PoolProps) == 88, "the size of CUmemPoolProps");

struct Driver {
  Result (*init)(unsigned flags);
  Result (*driver_get_version)(int* version);
  Result (*device_get_count)(int* count);
  Result (*device_get)(int* device, int ordinal);
  Result (*device_get_name)(char* name, int length, int device);
  Result (*device_get_attribute)(int* value, int attribute, int device);
  Result (*device_total_mem)(size_t* bytes, int device);
  Result (*get_error_name)(Result error, const char** name);
  Result (*get_error_string)(Result error, const char** text);
  Result (*primary_ctx_retain)(uintptr_t* context, int device);
  Result (*ctx_set_current)(uintptr_t context);
  Result (*ctx_synchronize)();
  Result (*stream_synchronize)(Stream stream);
  Result (*stream_query)(Stream stream);
  Result (*mem_alloc)(DevicePtr* p, size_t bytes);
  Result (*mem_free)(DevicePtr p);
  // Stream-ordered, from a pool of ember's own (CUDA 11.2 on; null in older drivers).
  Result (*mem_pool_create)(uintptr_t* pool, const PoolProps* props);
  Result (*mem_pool_set_attribute)(uintptr_t pool, int attribute, void* value);
  Result (*mem_pool_trim_to)(uintptr_t pool, size_t keep);
  Result (*mem_alloc_from_pool_async)(DevicePtr* p, size_t bytes, uintptr_t pool, Stream stream);
  Result (*mem_free_async)(DevicePtr p, Stream stream);
  Result (*mem_get_info)(size_t* free, size_t* total);
  Result (*memcpy_htod)(DevicePtr dst, const void* src, size_t bytes);
  Result (*memcpy_dtoh)(void* dst, DevicePtr src, size_t bytes);
  Result (*memcpy_dtod)(DevicePtr dst, DevicePtr src, size_t bytes);
  Result (*memset_d8)(DevicePtr p, unsigned char value, size_t bytes);
  Result (*pointer_get_attribute)(void* value, int attribute, DevicePtr p);
  Result (*module_load_data_ex)(uintptr_t* module, const void* image, unsigned n, int* options,
                                void** values);
  Result (*module_unload)(uintptr_t module);
  Result (*module_get_function)(uintptr_t* function, uintptr_t module, const char* name);
  Result (*occupancy_block_size)(int* min_grid, int* block, uintptr_t function,
                                 size_t (*smem_for_block)(int), size_t smem, int block_limit);
  Result (*launch_kernel)(uintptr_t function, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                          unsigned by, unsigned bz, unsigned smem, Stream stream, void** params,
                          void** extra);
};

struct Loaded {
  Driver driver{};
  bool ok = false;
  // When !ok: the CudaError to raise.
  int code = -1;
  std::string name = "no CUDA driver", why;
};

template <typename F>
bool find(void* lib, const char* symbol, F& fn, std::string& why) {
  fn = reinterpret_cast<F>(dlsym(lib, symbol));
  if (!fn) why = std::string("the CUDA driver has no ") + symbol;
  return fn != nullptr;
}

Loaded load() {
  Loaded l;
  const char* env = std::getenv("EMBER_CUDA_DRIVER");
  const char* path = env && *env ? env : "libcuda.so.1";
  void* lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* error = dlerror();
    l.why = std::string("cannot load the CUDA driver (") + path + "): " + (error ? error : "");
    return l;
  }
  Driver& d = l.driver;
  if (!(find(lib, "cuInit", d.init, l.why) &&
        find(lib, "cuDriverGetVersion", d.driver_get_version, l.why) &&
        find(lib, "cuDeviceGetCount", d.device_get_count, l.why) &&
        find(lib, "cuDeviceGet", d.device_get, l.why) &&
        find(lib, "cuDeviceGetName", d.device_get_name, l.why) &&
        find(lib, "cuDeviceGetAttribute", d.device_get_attribute, l.why) &&
        find(lib, "cuDeviceTotalMem_v2", d.device_total_mem, l.why) &&
        find(lib, "cuGetErrorName", d.get_error_name, l.why) &&
        find(lib, "cuGetErrorString", d.get_error_string, l.why) &&
        find(lib, "cuDevicePrimaryCtxRetain", d.primary_ctx_retain, l.why) &&
        find(lib, "cuCtxSetCurrent", d.ctx_set_current, l.why) &&
        find(lib, "cuCtxSynchronize", d.ctx_synchronize, l.why) &&
        find(lib, "cuStreamSynchronize", d.stream_synchronize, l.why) &&
        find(lib, "cuStreamQuery", d.stream_query, l.why) &&
        find(lib, "cuMemAlloc_v2", d.mem_alloc, l.why) &&
        find(lib, "cuMemFree_v2", d.mem_free, l.why) &&
        find(lib, "cuMemGetInfo_v2", d.mem_get_info, l.why) &&
        find(lib, "cuMemcpyHtoD_v2", d.memcpy_htod, l.why) &&
        find(lib, "cuMemcpyDtoH_v2", d.memcpy_dtoh, l.why) &&
        find(lib, "cuMemcpyDtoD_v2", d.memcpy_dtod, l.why) &&
        find(lib, "cuMemsetD8_v2", d.memset_d8, l.why) &&
        find(lib, "cuPointerGetAttribute", d.pointer_get_attribute, l.why) &&
        find(lib, "cuModuleLoadDataEx", d.module_load_data_ex, l.why) &&
        find(lib, "cuModuleUnload", d.module_unload, l.why) &&
        find(lib, "cuModuleGetFunction", d.module_get_function, l.why) &&
        find(lib, "cuOccupancyMaxPotentialBlockSize", d.occupancy_block_size, l.why) &&
        find(lib, "cuLaunchKernel", d.launch_kernel, l.why)))
    return l;
  std::string optional;
  if (!(find(lib, "cuMemPoolCreate", d.mem_pool_create, optional) &&
        find(lib, "cuMemPoolSetAttribute", d.mem_pool_set_attribute, optional) &&
        find(lib, "cuMemPoolTrimTo", d.mem_pool_trim_to, optional) &&
        find(lib, "cuMemAllocFromPoolAsync", d.mem_alloc_from_pool_async, optional) &&
        find(lib, "cuMemFreeAsync", d.mem_free_async, optional)))
    d.mem_pool_create = nullptr;  // memory comes from cuMemAlloc
  l.ok = true;
  return l;
}

// Errors after which the context is unusable (a kernel touched bad memory,
// ran a bad instruction or was killed).
bool is_fault(Result code) {
  return code == 700 || code == 702 || (code >= 714 && code <= 719);
}

CudaError error(const Driver& d, Result code, const char* call) {
  const char* name = nullptr;
  const char* text = nullptr;
  if (d.get_error_name(code, &name) != 0 || !name) name = "CUDA_ERROR_UNKNOWN";
  if (d.get_error_string(code, &text) != 0 || !text) text = "unknown error";
  std::string message = std::string(call) + " failed: " + name + ": " + text;
  if (is_fault(code))
    message += " (a kernel faulted: this process's CUDA context is lost; restart the process)";
  return CudaError(code, name, message);
}

void check(const Driver& d, Result code, const char* call) {
  if (code != 0) throw error(d, code, call);
}

// The driver, loaded and initialized; throws CudaError otherwise.
const Driver& driver() {
  static const Loaded loaded = [] {
    Loaded l = load();
    if (l.ok) {
      Result r = l.driver.init(0);
      if (r != 0) {
        CudaError e = error(l.driver, r, "cuInit");
        l.ok = false;
        l.code = e.code;
        l.name = e.name;
        l.why = e.what();
      }
    }
    return l;
  }();
  if (!loaded.ok) throw CudaError(loaded.code, loaded.name, loaded.why);
  return loaded.driver;
}

struct Device {
  uintptr_t context = 0;  // 0 until retained
  uintptr_t pool = 0;     // ember's memory pool on the device; 0: cuMemAlloc
};

// A stream-ordered memory pool of ember's own on `device` (0 where the
// driver or the device has none). It keeps what is freed (a pool's default
// release threshold, 0, hands all of it back to the system at every
// synchronization, and the next allocation maps fresh pages); allocate()
// trims it when the device runs out. Being ember's, the device's default
// pool, which other libraries may use, keeps its settings.
uintptr_t create_pool(const Driver& d, int device, int handle) {
  int supported = 0;
  if (!d.mem_pool_create ||
      d.device_get_attribute(&supported, kAttrMemoryPools, handle) != 0 || !supported)
    return 0;
  PoolProps props;
  props.location_id = device;
  uintptr_t pool = 0;
  uint64_t keep_all = UINT64_MAX;
  if (d.mem_pool_create(&pool, &props) != 0) return 0;
  d.mem_pool_set_attribute(pool, kPoolReleaseThreshold, &keep_all);
  return pool;
}

// The driver, with `device`'s primary context current on this thread (each
// context is retained once, for the life of the process); `pool` gets the
// device's memory pool (0: none).
const Driver& use(int device, uintptr_t* pool = nullptr) {
  const Driver& d = driver();
  static std::mutex mutex;
  static std::vector<Device> devices;  // by ordinal
  Device current;
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (device >= static_cast<int>(devices.size())) devices.resize(device + 1);
    Device& dev = devices[device];
    if (!dev.context) {
      int handle = 0;
      check(d, d.device_get(&handle, device), "cuDeviceGet");
      check(d, d.primary_ctx_retain(&dev.context, handle), "cuDevicePrimaryCtxRetain");
      check(d, d.ctx_set_current(dev.context), "cuCtxSetCurrent");
      dev.pool = create_pool(d, device, handle);
    }
    current = dev;
  }
  check(d, d.ctx_set_current(current.context), "cuCtxSetCurrent");
  if (pool) *pool = current.pool;
  return d;
}

std::string gib(size_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f GiB", bytes / double(1 << 30));
  return text;
}

}  // namespace

std::string unavailable_reason() {
  try {
    if (device_count() == 0) return "the CUDA driver sees no device";
    return "";
  } catch (const CudaError& e) {
    return e.what();
  }
}

bool available() { return unavailable_reason().empty(); }

int device_count() {
  const Driver& d = driver();
  int n = 0;
  check(d, d.device_get_count(&n), "cuDeviceGetCount");
  return n;
}

DeviceInfo device_info(int ordinal) {
  const Driver& d = driver();
  int device = 0;
  check(d, d.device_get(&device, ordinal), "cuDeviceGet");
  DeviceInfo info;
  char name[256] = {};
  check(d, d.device_get_name(name, sizeof name - 1, device), "cuDeviceGetName");
  info.name = name;
  check(d, d.device_get_attribute(&info.major, kAttrMajor, device), "cuDeviceGetAttribute");
  check(d, d.device_get_attribute(&info.minor, kAttrMinor, device), "cuDeviceGetAttribute");
  check(d, d.device_get_attribute(&info.multiprocessors, kAttrMultiprocessors, device),
        "cuDeviceGetAttribute");
  size_t bytes = 0;
  check(d, d.device_total_mem(&bytes, device), "cuDeviceTotalMem");
  info.total_memory = static_cast<int64_t>(bytes);
  check(d, d.driver_get_version(&info.driver_version), "cuDriverGetVersion");
  return info;
}

DevicePtr allocate(int device, size_t bytes) {
  uintptr_t pool = 0;
  const Driver& d = use(device, &pool);
  DevicePtr p = 0;
  Result r = pool ? d.mem_alloc_from_pool_async(&p, bytes, pool, 0) : d.mem_alloc(&p, bytes);
  const char* call = pool ? "cuMemAllocFromPoolAsync" : "cuMemAlloc";
  if (r == kOutOfMemory && pool) {
    // The pool may hold freed memory the system could give: once the frees
    // queued before now are done, hand it all back and try again.
    if (d.ctx_synchronize() == 0 && d.mem_pool_trim_to(pool, 0) == 0)
      r = d.mem_alloc_from_pool_async(&p, bytes, pool, 0);
  }
  if (r == kOutOfMemory) {
    size_t free = 0, total = 0;
    d.mem_get_info(&free, &total);
    CudaError e = error(d, r, call);
    throw CudaError(r, e.name, std::string(e.what()) + " (asked for " + gib(bytes) + " on device " +
                                   std::to_string(device) + "; " + gib(free) + " free of " +
                                   gib(total) + ")");
  }
  check(d, r, call);
  return p;
}

void release(int device, DevicePtr p) noexcept {
  try {
    uintptr_t pool = 0;
    const Driver& d = use(device, &pool);
    if (pool)
      d.mem_free_async(p, 0);
    else
      d.mem_free(p);
  } catch (const CudaError&) {
    // A lost context or an unloaded driver: the memory went with it.
  }
}

namespace {

// Waits for stream `s`'s work by asking the driver, so that a Ctrl-C
// (interrupt.h) ends the wait with Interrupted; the device finishes that
// work on its own. Yields for the first millisecond, then sleeps 100 us
// between questions.
void drain(const Driver& d, Stream s) {
  auto start = std::chrono::steady_clock::now();
  for (;;) {
    Result r = d.stream_query(s);
    if (r != kNotReady) return check(d, r, "cuStreamQuery");
    check_interrupt();
    if (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1))
      std::this_thread::yield();
    else
      std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

}  // namespace

void copy_to_device(int device, DevicePtr dst, const void* src, size_t bytes) {
  const Driver& d = use(device);
  if (bytes) check(d, d.memcpy_htod(dst, src, bytes), "cuMemcpyHtoD");
}

void copy_to_host(int device, void* dst, DevicePtr src, size_t bytes) {
  const Driver& d = use(device);
  if (!bytes) return;
  drain(d, 0);  // the copy waits for the work before it: wait here, interruptibly
  check(d, d.memcpy_dtoh(dst, src, bytes), "cuMemcpyDtoH");
}

void copy_on_device(int device, DevicePtr dst, DevicePtr src, size_t bytes) {
  const Driver& d = use(device);
  if (bytes) check(d, d.memcpy_dtod(dst, src, bytes), "cuMemcpyDtoD");
}

void zero(int device, DevicePtr p, size_t bytes) {
  const Driver& d = use(device);
  if (bytes) check(d, d.memset_d8(p, 0, bytes), "cuMemsetD8");
}

void synchronize(int device) {
  const Driver& d = use(device);
  drain(d, 0);
  check(d, d.ctx_synchronize(), "cuCtxSynchronize");
}

void synchronize_stream(int device, Stream s) {
  const Driver& d = use(device);
  drain(d, s);
  check(d, d.stream_synchronize(s), "cuStreamSynchronize");
}

int device_of(DevicePtr p) {
  const Driver& d = driver();
  int ordinal = -1;
  check(d, d.pointer_get_attribute(&ordinal, kPointerDeviceOrdinal, p), "cuPointerGetAttribute");
  return ordinal;
}

DeviceMemory::DeviceMemory(int device, size_t bytes)
    : device_(device), bytes_(bytes), ptr_(bytes ? allocate(device, bytes) : 0) {}

DeviceMemory::~DeviceMemory() {
  if (ptr_) release(device_, ptr_);
}

Module::Module(int device, const std::string& ptx, const std::vector<std::string>& entries,
               int block)
    : device_(device) {
  const Driver& d = use(device);
  char log[8192] = {};
  int options[] = {kJitErrorLogBuffer, kJitErrorLogBufferSize};
  void* values[] = {log, reinterpret_cast<void*>(uintptr_t{sizeof log - 1})};
  Result r = d.module_load_data_ex(&module_, ptx.c_str(), 2, options, values);
  if (r != 0) {
    CudaError e = error(d, r, "cuModuleLoadData");
    throw CudaError(r, e.name, std::string(e.what()) + (*log ? "\n" + std::string(log) : ""));
  }
  try {
    for (const std::string& entry : entries) {
      Kernel k;
      check(d, d.module_get_function(&k.function, module_, entry.c_str()), "cuModuleGetFunction");
      check(d, d.occupancy_block_size(&k.max_grid, &k.block, k.function, nullptr, 0, 0),
            "cuOccupancyMaxPotentialBlockSize");
      if (block) {  // as many threads as the occupancy calculator's grid
        k.max_grid = static_cast<int>(int64_t{k.max_grid} * k.block / block);
        k.block = block;
      }
      k.max_grid = std::max(k.max_grid, 1);
      kernels_.push_back(k);
    }
  } catch (...) {
    d.module_unload(module_);
    throw;
  }
}

Module::~Module() {
  try {
    use(device_).module_unload(module_);
  } catch (const CudaError&) {
  }
}

void Module::launch(size_t entry, int64_t threads, std::span<const uint64_t> params,
                    Stream stream) const {
  if (threads <= 0) return;
  const Kernel& k = kernels_.at(entry);
  const Driver& d = use(device_);
  std::vector<void*> pointers;
  for (const uint64_t& slot : params) pointers.push_back(const_cast<uint64_t*>(&slot));
  int64_t blocks = std::min<int64_t>((threads + k.block - 1) / k.block, k.max_grid);
  check(d,
        d.launch_kernel(k.function, static_cast<unsigned>(blocks), 1, 1, k.block, 1, 1, 0, stream,
                        pointers.data(), nullptr),
        "cuLaunchKernel");
}

}  // namespace ember::runtime::cuda
