// The call path of @vectorize and @reduce functions: arguments ->
// specialization key -> cached Kernel (compiled on a miss through a Python
// callback) -> launch with the GIL released.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/kernel.h"
#include "runtime/launch.h"

namespace ember {

class Dispatcher {
 public:
  // `compile(arg_types)` gets a list of (dtype name, weak, scalar layout)
  // tuples and returns a Kernel for them. `reduce`: the kernels are
  // reductions, called with `axis=` instead of `out=`.
  Dispatcher(std::string name, int nargs, pybind11::function compile, bool reduce = false);

  // args: a tuple; kwargs: a dict or null (as CPython's tp_call passes them).
  pybind11::object call(PyObject* args, PyObject* kwargs);
  // The same as a CPython tp_call slot, for types that install it directly.
  static PyObject* tp_call(PyObject* self, PyObject* args, PyObject* kwargs);
  // Whether a call needs NumPy's protocols, which the Python subclass's
  // _protocol_call handles: keyword arguments other than out= (axis= for a
  // reduction), an ndarray subclass, or an object with __array_ufunc__.
  bool needs_protocol(PyObject* args, PyObject* kwargs) const;
  // Compiles (or finds) the kernel for these argument types.
  std::shared_ptr<const runtime::Kernel> specialize(const pybind11::list& arg_types);
  size_t size() const;
  // The axes (0 to ndim-1, ascending) that a reduce call's `axis` names, read
  // and checked as NumPy does (reduce_call.cpp); the GPU's reduce uses it too.
  static std::vector<int> reduced_axes(pybind11::handle axis, int ndim);

 private:
  struct Entry {
    std::shared_ptr<const runtime::Kernel> kernel;
    pybind11::dtype result;  // the output array's dtype
  };
  const Entry& lookup(const std::string& key, const pybind11::list& arg_types);
  const Entry* find(const std::string& key) const;
  // The end of a call, once the inputs broadcast to `shape`.
  pybind11::object map(const Entry& entry, std::span<const runtime::Operand> in,
                       const runtime::Shape& shape, pybind11::handle out);
  pybind11::object reduce(const Entry& entry, std::span<const runtime::Operand> in,
                          const runtime::Shape& shape, pybind11::handle axis);  // reduce_call.cpp
  // Whether `axis` (as a call passes it) reduces the last of `ndim` axes;
  // false for a bad value, which reduce() reports (reduce_call.cpp).
  static bool reduces_last_axis(pybind11::handle axis, int ndim);

  std::string name_;
  int nargs_;
  bool reduce_;
  pybind11::function compile_;
  mutable std::mutex mu_;
  // Entries are never erased, so pointers to them stay valid.
  std::unordered_map<std::string, Entry> kernels_;
};

// Raises TypeError when `self` (a Dispatcher or Launcher, or a subclass) was
// made by __new__ without __init__: its C++ object does not exist, and
// pybind11 checks that only when calling the class.
void require_initialized(PyObject* self);

// What a compile callback returned, as a Kernel; TypeError for anything else.
std::shared_ptr<runtime::Kernel> compiled_kernel(const pybind11::object& result);

}  // namespace ember
