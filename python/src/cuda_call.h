// The hot path of a @vectorize(target="cuda") call whose arrays are all on
// the device: ember DeviceArrays (C-contiguous, one shape, one device) and
// Python numbers in, the kernel queued with the GIL released, a DeviceArray
// (or out=) back. Everything else (NumPy arguments, foreign device arrays,
// broadcasting, an error, a specialization not loaded yet) is answered with
// NotImplemented: python/ember/gpu.py's path takes the call, and registers
// the specialization it loaded with add().
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <memory>
#include <string>
#include <unordered_map>

#include "runtime/cuda_driver.h"
#include "runtime/kernel.h"

namespace ember {

class CudaCall {
 public:
  // `device_array`: ember.cuda.DeviceArray; `make_result(shape, dtype,
  // device)`: a new C-contiguous DeviceArray.
  CudaCall(int nargs, pybind11::type device_array, pybind11::function make_result);

  pybind11::object call(const pybind11::tuple& args, pybind11::handle out);
  // Registers the specialization loaded for `args` (ignored unless the fast
  // path could take such arguments).
  void add(const pybind11::tuple& args, std::shared_ptr<runtime::Kernel> kernel,
           std::shared_ptr<runtime::cuda::Module> module, pybind11::dtype result);
  size_t size() const { return loaded_.size(); }

 private:
  struct Loaded {
    std::shared_ptr<const runtime::Kernel> kernel;
    std::shared_ptr<runtime::cuda::Module> module;
    pybind11::dtype result;
  };
  // What the fast path reads from the arguments.
  struct Args {
    std::string key;                 // a byte per argument (dtype, weak), then the device
    std::vector<uint64_t> slots;     // the kernel's parameters up to the output
    std::vector<ir::Scalar> dtypes;  // one per argument
    pybind11::object shape;          // the arrays' shape (a tuple)
    int64_t n = 1;
    int device = -1;
  };
  // False when the fast path cannot take these arguments.
  bool read(const pybind11::tuple& args, Args& a) const;
  // The array attribute `name` of a DeviceArray.
  static pybind11::object attr(pybind11::handle array, PyObject* name) {
    return pybind11::reinterpret_steal<pybind11::object>(PyObject_GetAttr(array.ptr(), name));
  }

  int nargs_;
  pybind11::type device_array_;
  pybind11::function make_result_;
  std::unordered_map<std::string, Loaded> loaded_;  // used with the GIL held
};

}  // namespace ember
