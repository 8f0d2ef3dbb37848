// The call path of a @vectorize function: arguments -> specialization key ->
// cached Kernel (compiled on a miss through a Python callback) -> launch with
// the GIL released.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "runtime/kernel.h"

namespace ember {

class Dispatcher {
 public:
  // `compile(arg_types)` gets a list of (dtype name, weak, scalar layout)
  // tuples and returns a Kernel for them.
  Dispatcher(std::string name, int nargs, pybind11::function compile);

  pybind11::object call(const pybind11::args& args, const pybind11::kwargs& kwargs);
  // Compiles (or finds) the kernel for these argument types.
  std::shared_ptr<const runtime::Kernel> specialize(const pybind11::list& arg_types);
  size_t size() const;

 private:
  std::shared_ptr<const runtime::Kernel> lookup(const std::string& key,
                                                const pybind11::list& arg_types);

  std::string name_;
  int nargs_;
  pybind11::function compile_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const runtime::Kernel>> kernels_;
};

}  // namespace ember
