// Opens a library that `ember aot build` made, for Python (ember.load): its
// exports as Kernels whose entry points are the library's code for the ISA
// the library selected. No LLVM and no compiling here.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/kernel.h"

namespace ember::runtime {

struct LinkedLibrary {
  std::map<std::string, std::string> fields;  // the library's table (aot_library.cpp)
  std::string isa;                            // the ISA it selected
  std::vector<std::shared_ptr<const Kernel>> kernels;  // one per export, in the table's order
};

// Loads the shared library at `path` (it stays loaded for the process).
// std::invalid_argument: not loadable, or not an ember library;
// std::runtime_error: no ISA of it runs here (its message says why).
LinkedLibrary open_library(const std::string& path);

}  // namespace ember::runtime
