// Argument conversion, specialization cache and launch of @kernel functions.
// Arrays are passed as views of the caller's memory: stores are visible to
// the caller, nothing is copied.
#include "python/src/launcher.h"
#include "python/src/dispatcher.h"

#include <pybind11/numpy.h>

#include <algorithm>
#include <optional>
#include <cstring>
#include <vector>

#include "codegen/codegen.h"
#include "compiler/passes.h"
#include "ir/interpreter.h"
#include "python/src/convert.h"
#include "runtime/run_kernel.h"
#include "python/src/gil.h"

namespace py = pybind11;

namespace ember {
// The arguments of one launch, converted.
struct LaunchArgs {
  std::vector<int64_t> domain;
  std::string key;  // domain rank, then per argument: dtype | weak << 4, ndim
  std::vector<ir::Scalar> dtypes;
  std::vector<bool> weak;
  std::vector<py::object> arrays;  // null for scalars
  std::vector<int> ndims;          // 0 for scalars
  std::vector<bool> unit;          // arrays whose last dimension has unit stride
  std::vector<codegen::ArrayArg> views;
  std::vector<int64_t> boxes;  // scalar values, in their dtype's memory layout
  std::vector<void*> ptrs;

  py::list types() const {
    py::list out;
    for (size_t i = 0; i < dtypes.size(); ++i)
      out.append(py::make_tuple(std::string(ir::numpy_name(dtypes[i])), static_cast<bool>(weak[i]),
                                ndims[i], static_cast<bool>(unit[i])));
    return out;
  }
};

namespace {

// The number of indices of a domain: 0 for an empty one, whatever its other
// extents; nullopt when a non-empty one has more than 2**63 - 1.
std::optional<int64_t> index_count(const std::vector<int64_t>& domain) {
  if (std::count(domain.begin(), domain.end(), 0)) return 0;
  int64_t total = 1;
  for (int64_t n : domain)
    if (__builtin_mul_overflow(total, n, &total)) return std::nullopt;
  return total;
}

}  // namespace

std::vector<int64_t> read_domain(py::handle domain) {
  std::vector<int64_t> out;
  auto extent = [&](py::handle v) {
    if (PyBool_Check(v.ptr()) || !PyIndex_Check(v.ptr()))
      throw py::type_error("a kernel's domain is an int or a tuple of 1 to 3 ints, got " +
                           py::repr(domain).cast<std::string>());
    Py_ssize_t n = PyNumber_AsSsize_t(v.ptr(), PyExc_OverflowError);
    if (n == -1 && PyErr_ExceptionMatches(PyExc_OverflowError)) {
      PyErr_Clear();
      throw_overflow("a kernel's domain " + py::repr(domain).cast<std::string>() +
                     " has an extent beyond 2**63 - 1");
    }
    if (n == -1 && PyErr_Occurred()) throw py::error_already_set();
    if (n < 0)
      throw py::value_error("a kernel's domain cannot have a negative extent, got " +
                            py::repr(domain).cast<std::string>());
    out.push_back(n);
  };
  if (PyTuple_Check(domain.ptr()) || PyList_Check(domain.ptr())) {
    for (py::handle v : py::reinterpret_borrow<py::sequence>(domain)) extent(v);
    if (out.empty() || out.size() > 3)
      throw py::value_error("a kernel's domain has 1 to 3 dimensions, got " +
                            std::to_string(out.size()));
  } else {
    extent(domain);
  }
  if (!index_count(out))
    throw_overflow("a kernel's domain " + py::repr(domain).cast<std::string>() +
                   " has more than 2**63 - 1 indices");
  return out;
}

namespace {

// A Python number (weak) or a NumPy scalar / 0-d array (strong) into its box.
void read_scalar(py::handle obj, int i, LaunchArgs& a) {
  int64_t& box = a.boxes[i];
  if (std::optional<ir::Scalar> dtype = read_python_number(obj.ptr(), i, &box)) {
    a.dtypes[i] = *dtype;
    a.weak[i] = true;
    return;
  }
  py::array value = py::array::ensure(obj);
  if (!value || value.ndim() != 0)
    throw py::type_error("argument " + std::to_string(i + 1) + " of type '" +
                         std::string(Py_TYPE(obj.ptr())->tp_name) +
                         "' is not a NumPy array or a number");
  a.dtypes[i] = require_scalar(value.dtype(), "argument " + std::to_string(i + 1));
  if (!is_native(value.dtype())) value = value.attr("astype")(value.dtype().attr("newbyteorder")("="));
  std::memcpy(&box, value.data(), value.itemsize());
}

LaunchArgs read_args(const std::string& name, int nargs, py::handle domain, const py::tuple& args) {
  if (static_cast<int>(args.size()) != nargs) wrong_arg_count(name, nargs, args.size());
  LaunchArgs a;
  a.domain = read_domain(domain);
  a.dtypes.resize(nargs);
  a.weak.resize(nargs);
  a.arrays.resize(nargs);
  a.ndims.resize(nargs);
  a.unit.resize(nargs);
  a.views.resize(nargs);
  a.boxes.resize(nargs);
  a.key.push_back(static_cast<char>(a.domain.size()));
  for (int i = 0; i < nargs; ++i) {
    py::handle obj = args[i];
    auto what = [i] { return "argument " + std::to_string(i + 1); };  // for errors only
    if (py::isinstance<py::array>(obj) && py::reinterpret_borrow<py::array>(obj).ndim() > 0) {
      py::array array = py::reinterpret_borrow<py::array>(obj);
      std::optional<ir::Scalar> dtype = scalar_of(array.dtype());
      a.dtypes[i] = dtype ? *dtype : require_scalar(array.dtype(), what());
      if (!is_native(array.dtype()))
        throw py::type_error(what() + ": arrays in a non-native byte order cannot be passed to a "
                             "kernel (it works in place); convert with .astype('=" +
                             py::str(array.dtype().attr("char")).cast<std::string>() + "')");
      if (array.ndim() > codegen::kMaxArrayDims)
        throw py::value_error(what() + ": kernels take arrays of 1 to 4 dimensions, got " +
                              std::to_string(array.ndim()));
      codegen::ArrayArg& view = a.views[i];
      view.data = const_cast<void*>(array.data());
      for (int k = 0; k < array.ndim(); ++k) {
        if (array.strides(k) % array.itemsize() != 0)
          throw py::value_error(what() + ": strides that are not a multiple of the item size are "
                                "not supported in kernels");
        view.shape[k] = array.shape(k);
        view.strides[k] = array.strides(k) / array.itemsize();
      }
      a.ndims[i] = static_cast<int>(array.ndim());
      int last = a.ndims[i] - 1;
      a.unit[i] = view.shape[last] <= 1 || view.strides[last] == 1;
      if (a.unit[i]) view.strides[last] = 1;  // any stride reaches index 0 alone
      a.arrays[i] = array;
      a.ptrs.push_back(&view);
    } else {
      read_scalar(obj, i, a);
      a.ptrs.push_back(&a.boxes[i]);
    }
    a.key.push_back(static_cast<char>(static_cast<int>(a.dtypes[i]) | (a.weak[i] ? 16 : 0)));
    a.key.push_back(static_cast<char>(a.ndims[i] | (a.unit[i] ? 16 : 0)));
  }
  return a;
}

// A ValueError when a kernel stores into an array argument that is read-only
// (a launch and the interpreter alike).
void check_writable(const std::string& name, const ir::Function& fn,
                    const std::vector<bool>& written, const LaunchArgs& a) {
  for (size_t i = 0; i < written.size(); ++i)
    if (written[i] && a.arrays[i] && !py::reinterpret_borrow<py::array>(a.arrays[i]).writeable())
      throw py::value_error("kernel '" + name + "' writes to argument " + std::to_string(i + 1) +
                            " ('" + fn.params[i].name + "'), which is read-only");
}

}  // namespace

Launcher::Launcher(std::string name, int nargs, py::function compile)
    : name_(std::move(name)), nargs_(nargs), compile_(std::move(compile)) {}

size_t Launcher::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return kernels_.size();
}

// Compiled outside the lock (it calls Python, which may switch threads); if
// two threads race, the first kernel stored wins.
const runtime::Kernel& Launcher::lookup(const LaunchArgs& a) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = kernels_.find(a.key); it != kernels_.end()) return *it->second;
  }
  auto kernel = compiled_kernel(compile_(a.types(), static_cast<int>(a.domain.size())));
  std::lock_guard<std::mutex> lock(mu_);
  return *kernels_.emplace(a.key, std::move(kernel)).first->second;
}

py::tuple Launcher::arg_types(py::handle domain, const py::tuple& args) const {
  LaunchArgs a = read_args(name_, nargs_, domain, args);
  return py::make_tuple(a.types(), a.domain.size());
}

void Launcher::launch(py::handle domain, const py::tuple& args) {
  LaunchArgs a = read_args(name_, nargs_, domain, args);
  const runtime::Kernel& kernel = lookup(a);
  for (const runtime::WeakIntUse& use : kernel.weak_int_uses)
    check_weak_int(use, a.boxes[use.param], a.dtypes[use.param] == ir::Scalar::U64,
                   args[use.param].ptr());
  check_writable(name_, kernel.source, kernel.written, a);
  CtrlC ctrl_c(kernel.loops || *index_count(a.domain) >= kLongCall);  // read_domain checked it
  ReleaseGil release;
  runtime::run_kernel(kernel, a.ptrs.data(), a.domain);
}

void interpret_kernel(const ir::Function& source, py::handle domain, const py::tuple& args) {
  ir::Function fn = compiler::promote(source);
  LaunchArgs a = read_args(fn.name, static_cast<int>(fn.params.size()), domain, args);
  if (static_cast<int>(a.domain.size()) != fn.domain)
    throw py::value_error("this kernel was built for a " + std::to_string(fn.domain) +
                          "-d domain");
  check_writable(fn.name, fn, runtime::written_params(fn), a);
  std::vector<ir::KernelArg> values(a.ptrs.size());
  for (size_t i = 0; i < values.size(); ++i) {
    if (!a.arrays[i]) {
      values[i].scalar = ir::load_literal(&a.boxes[i], a.dtypes[i]);
      continue;
    }
    auto array = py::reinterpret_borrow<py::array>(a.arrays[i]);
    values[i].array.data = const_cast<void*>(array.data());
    for (int k = 0; k < array.ndim(); ++k) {
      values[i].array.shape.push_back(array.shape(k));
      values[i].array.strides.push_back(array.strides(k));
    }
  }
  ReleaseGil release;
  ir::interpret_kernel(fn, values, a.domain);
}

}  // namespace ember
