// The call path of @kernel functions: domain and arguments -> specialization
// key -> cached Kernel (compiled on a miss through a Python callback) -> run
// in place on the caller's arrays with the GIL released.
#pragma once

#include <pybind11/pybind11.h>

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/kernel.h"

namespace ember {

struct LaunchArgs;  // one launch's arguments, converted (launcher.cpp)

class Launcher {
 public:
  // `compile(arg_types, domain_ndim)` gets a list of (dtype name, weak, ndim,
  // unit stride) tuples (ndim 0: a scalar; unit stride: the last dimension's
  // stride is one item) and returns a Kernel for them.
  Launcher(std::string name, int nargs, pybind11::function compile);
  // domain: an int or a tuple of 1 to 3 ints; args: the kernel's arguments.
  void launch(pybind11::handle domain, const pybind11::tuple& args);
  // (the list `compile` would get, the domain's rank) for such a launch.
  pybind11::tuple arg_types(pybind11::handle domain, const pybind11::tuple& args) const;
  size_t size() const;

 private:
  const runtime::Kernel& lookup(const LaunchArgs& a);

  std::string name_;
  int nargs_;
  pybind11::function compile_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const runtime::Kernel>> kernels_;
};

// A kernel's domain (an int or a tuple of 1 to 3 ints >= 0) as its extents;
// TypeError / ValueError otherwise. Shared with the GPU path (gpu.py).
std::vector<int64_t> read_domain(pybind11::handle domain);

// Runs the IR interpreter on a kernel's source (after `promote`), in place on
// NumPy arrays: the reference the compiled code is tested against.
void interpret_kernel(const ir::Function& source, pybind11::handle domain,
                      const pybind11::tuple& args);

}  // namespace ember
