// Loads the CUDA driver once per process and turns its error codes into
// CudaError. Entry points are looked up by their versioned names (those the
// CUDA headers map the plain names to).
#include "runtime/cuda_driver.h"

#include <dlfcn.h>

#include <cstdlib>

namespace ember::runtime::cuda {
namespace {

using Result = int;  // CUresult; 0 is CUDA_SUCCESS
constexpr int kAttrMultiprocessors = 16;  // CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT
constexpr int kAttrMajor = 75;            // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
constexpr int kAttrMinor = 76;            // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR

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
        find(lib, "cuGetErrorString", d.get_error_string, l.why)))
    return l;
  l.ok = true;
  return l;
}

CudaError error(const Driver& d, Result code, const char* call) {
  const char* name = nullptr;
  const char* text = nullptr;
  if (d.get_error_name(code, &name) != 0 || !name) name = "CUDA_ERROR_UNKNOWN";
  if (d.get_error_string(code, &text) != 0 || !text) text = "unknown error";
  return CudaError(code, name, std::string(call) + " failed: " + name + ": " + text);
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

}  // namespace ember::runtime::cuda
