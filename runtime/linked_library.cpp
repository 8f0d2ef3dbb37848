// Opening an ahead-of-time library from Python (linked_library.h).
#include "runtime/linked_library.h"

#include <dlfcn.h>

#include "runtime/aot_abi.h"
#include "runtime/cpu_features.h"

namespace ember::runtime {

LinkedLibrary open_library(const std::string& path) {
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) throw std::invalid_argument(std::string("cannot load ") + path + ": " + dlerror());
  auto* slot = static_cast<ember_aot_library**>(dlsym(handle, "ember_aot_library"));
  if (!slot) throw std::invalid_argument(path + " is not a library that `ember aot build` made");
  ember_aot_library* lib = *slot;
  LinkedLibrary linked;
  linked.fields = read_artifact(std::string_view(lib->table, static_cast<size_t>(lib->table_size)));
  const std::string& stem = required(linked.fields, "library");
  int isa = lib->select(lib);
  if (isa < 0) {
    auto last_error = reinterpret_cast<const char* (*)()>(dlsym(handle, (stem + "_last_error").c_str()));
    throw std::runtime_error(last_error ? last_error() : "no ISA of " + path + " runs here");
  }
  std::vector<std::string> isas = feature_list(required(linked.fields, "isas"));  // comma-separated
  linked.isa = isas.at(isa);
  int exports = std::stoi(required(linked.fields, "exports"));
  for (int e = 0; e < exports; ++e) {
    std::string prefix = "export." + std::to_string(e) + ".";
    std::shared_ptr<Kernel> kernel =
        kernel_from_texts(linked.fields, required(linked.fields, prefix + "file"), prefix);
    set_entries(*kernel, aot_entries(lib, isa, exports, e));
    kernel->origin = "library";
    linked.kernels.push_back(kernel);
  }
  return linked;
}

}  // namespace ember::runtime
