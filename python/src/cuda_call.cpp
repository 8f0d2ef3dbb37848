// CudaCall (cuda_call.h): @vectorize(target="cuda") calls on device arrays.
#include "python/src/cuda_call.h"

#include <cstring>

#include "python/src/convert.h"
#include "python/src/gil.h"

namespace py = pybind11;

namespace ember {
namespace {

PyObject* interned(const char* s) {
  PyObject* name = PyUnicode_InternFromString(s);
  if (!name) throw py::error_already_set();
  return name;  // kept for the process's life
}

// The DeviceArray attributes the fast path reads.
struct Names {
  PyObject *ptr = interned("ptr"), *shape = interned("shape"), *dtype = interned("dtype"),
           *device = interned("device"), *contiguous = interned("is_c_contiguous"),
           *readonly = interned("readonly");
};
const Names& names() {
  static const Names n;
  return n;
}

}  // namespace

CudaCall::CudaCall(int nargs, py::type device_array, py::function make_result)
    : nargs_(nargs), device_array_(std::move(device_array)), make_result_(std::move(make_result)) {}

bool CudaCall::read(const py::tuple& args, Args& a) const {
  const Names& n = names();
  if (static_cast<int>(args.size()) != nargs_) return false;
  for (int i = 0; i < nargs_; ++i) {
    PyObject* arg = PyTuple_GET_ITEM(args.ptr(), i);
    uint64_t slot = 0;
    if (Py_TYPE(arg) == reinterpret_cast<PyTypeObject*>(device_array_.ptr())) {
      py::object s = attr(arg, n.shape);
      if (a.shape) {
        int same = PyObject_RichCompareBool(a.shape.ptr(), s.ptr(), Py_EQ);
        if (same < 0) throw py::error_already_set();
        if (!same) return false;
      } else {
        if (PyTuple_GET_SIZE(s.ptr()) == 0) return false;  // 0-d: read by value on the slow path
        for (py::handle d : s) a.n *= d.cast<int64_t>();
        a.shape = s;
      }
      int dev = attr(arg, n.device).cast<int>();
      if ((a.device >= 0 && dev != a.device) || !attr(arg, n.contiguous).cast<bool>()) return false;
      a.device = dev;
      std::optional<ir::Scalar> s_type = scalar_of(attr(arg, n.dtype).cast<py::dtype>());
      if (!s_type) return false;
      a.key += static_cast<char>(static_cast<int>(*s_type));
      slot = attr(arg, n.ptr).cast<uint64_t>();
      a.dtypes.push_back(*s_type);
    } else if (std::optional<ir::Scalar> s_type = read_python_number(arg, i, &slot)) {
      a.key += static_cast<char>(static_cast<int>(*s_type) | 16);  // weak
      a.dtypes.push_back(*s_type);
    } else {
      return false;
    }
    a.slots.push_back(slot);
  }
  if (!a.shape) return false;  // no array: the slow path's 0-d result
  a.key += static_cast<char>(a.device);
  return true;
}

void CudaCall::add(const py::tuple& args, std::shared_ptr<runtime::Kernel> kernel,
                   std::shared_ptr<runtime::cuda::Module> module, py::dtype result) {
  Args a;
  if (read(args, a)) loaded_[a.key] = {std::move(kernel), std::move(module), std::move(result)};
}

py::object CudaCall::call(const py::tuple& args, py::handle out) {
  const Names& n = names();
  Args a;
  if (!read(args, a)) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
  auto it = loaded_.find(a.key);
  if (it == loaded_.end()) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
  const Loaded& loaded = it->second;
  for (const runtime::WeakIntUse& use : loaded.kernel->weak_int_uses)
    check_weak_int(use, static_cast<int64_t>(a.slots[use.param]),
                   a.dtypes[use.param] == ir::Scalar::U64, PyTuple_GET_ITEM(args.ptr(), use.param));
  py::object result;
  if (out.is_none()) {
    result = make_result_(a.shape, loaded.result, a.device);
  } else {
    // Anything but a matching writable DeviceArray: the slow path says what is wrong.
    bool fits = Py_TYPE(out.ptr()) == reinterpret_cast<PyTypeObject*>(device_array_.ptr()) &&
                attr(out, n.shape).equal(a.shape) && attr(out, n.device).cast<int>() == a.device &&
                attr(out, n.dtype).equal(loaded.result) && attr(out, n.contiguous).cast<bool>() &&
                !attr(out, n.readonly).cast<bool>();
    if (!fits) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
    result = py::reinterpret_borrow<py::object>(out);
  }
  a.slots.push_back(attr(result, n.ptr).cast<uint64_t>());
  a.slots.push_back(static_cast<uint64_t>(a.n));
  std::shared_ptr<runtime::cuda::Module> module = loaded.module;  // add() may replace the entry
  {
    ReleaseGil release;
    module->launch(0, a.n, a.slots, 0);
  }
  return result;
}

}  // namespace ember
