// Argument conversion, specialization cache and launch of @vectorize calls
// (and the common part of @reduce calls).
// This is the hot path of a call: nothing here allocates for arrays of up to
// runtime::kMaxDims dimensions except the output array itself.
#include "python/src/dispatcher.h"

#include <cxxabi.h>

#include <algorithm>

#include "python/src/convert.h"
#include "python/src/output_memory.h"
#include "runtime/launch.h"
#include "python/src/gil.h"

namespace py = pybind11;

namespace ember {
namespace {

// Python numbers are boxed here for the duration of a call.
union Box {
  int64_t i;
  double f;
  bool b;
};

// Converts argument `index`; returns true for a weak (Python number) value.
// `keep` receives a reference to an array made from a non-array argument.
bool convert(const py::handle& obj, int index, runtime::Operand& op, Box& box, PyObject*& keep) {
  op.shape.ndim = 0;
  op.data = reinterpret_cast<char*>(&box);
  if (std::optional<ir::Scalar> dtype = read_python_number(obj.ptr(), index, &box)) {
    op.dtype = *dtype;
    return true;
  }
  // (py::array's default constructor would allocate an array: start from an object.)
  py::object a = py::reinterpret_borrow<py::object>(obj);
  if (!py::isinstance<py::array>(obj)) {
    a = py::array::ensure(obj);
    // An object whose own __array__ fails raises its own exception.
    if (!a && PyObject_HasAttrString(obj.ptr(), "__array__"))
      a = py::module_::import("numpy").attr("asarray")(obj);
    if (!a)
      throw py::type_error("argument " + std::to_string(index + 1) + " of type '" +
                           std::string(Py_TYPE(obj.ptr())->tp_name) +
                           "' is not an array or a number");
  }
  py::array array = py::reinterpret_borrow<py::array>(a);
  if (!is_native(array.dtype()))
    array = py::module_::import("numpy").attr("ascontiguousarray")(
        array, array.dtype().attr("newbyteorder")("="));
  fill_operand(array, op, index);
  if (array.ptr() != obj.ptr()) keep = array.release().ptr();
  return false;
}

// One byte of a specialization key per argument: dtype, weak, scalar layout.
char key_byte(ir::Scalar dtype, bool weak, bool scalar) {
  return static_cast<char>(static_cast<int>(dtype) | (weak ? 16 : 0) | (scalar ? 32 : 0));
}

// [lo, hi) bytes an operand may touch.
std::pair<const char*, const char*> extent(const runtime::Operand& op) {
  const char* lo = op.data;
  const char* hi = op.data + ir::bits_of(op.dtype) / 8;
  for (int d = 0; d < op.shape.ndim; ++d) {
    if (op.shape.dims[d] == 0) return {op.data, op.data};
    int64_t span = (op.shape.dims[d] - 1) * op.strides[d];
    (span < 0 ? lo : hi) += span;
  }
  return {lo, hi};
}

bool overlaps(const runtime::Operand& a, const runtime::Operand& b) {
  auto [alo, ahi] = extent(a);
  auto [blo, bhi] = extent(b);
  return alo < bhi && blo < ahi;
}

// Writing element k of `out` while reading element k of `in` is safe; any
// other overlap needs a temporary.
bool same_view(const runtime::Operand& in, const runtime::Operand& out) {
  return in.data == out.data && in.shape == out.shape && in.dtype == out.dtype &&
         std::equal(in.strides, in.strides + in.shape.ndim, out.strides);
}

}  // namespace

namespace {
// Set at the first Dispatcher: needs_protocol, on the hot path, reads plain pointers.
PyTypeObject* ndarray_type = nullptr;
PyObject* array_ufunc_name = nullptr;
}  // namespace

Dispatcher::Dispatcher(std::string name, int nargs, py::function compile, bool reduce)
    : name_(std::move(name)), nargs_(nargs), reduce_(reduce), compile_(std::move(compile)) {
  if (!ndarray_type) {
    ndarray_type = py::detail::npy_api::get().PyArray_Type_;
    array_ufunc_name = PyUnicode_InternFromString("__array_ufunc__");
  }
  if (nargs + 1 > runtime::kMaxArgs)
    throw py::type_error(name_ + "() takes " + std::to_string(nargs) +
                         " arguments; ember kernels take at most " +
                         std::to_string(runtime::kMaxArgs - 1));
}

size_t Dispatcher::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return kernels_.size();
}

const Dispatcher::Entry* Dispatcher::find(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = kernels_.find(key);
  return it == kernels_.end() ? nullptr : &it->second;
}

const Dispatcher::Entry& Dispatcher::lookup(const std::string& key, const py::list& arg_types) {
  if (const Entry* e = find(key)) return *e;
  auto kernel = compiled_kernel(compile_(arg_types));
  py::dtype result = dtype_of(kernel->result_scalar());
  std::lock_guard<std::mutex> lock(mu_);
  return kernels_.emplace(key, Entry{std::move(kernel), std::move(result)}).first->second;
}

std::shared_ptr<const runtime::Kernel> Dispatcher::specialize(const py::list& arg_types) {
  std::string key;
  for (const py::handle& t : arg_types) {
    auto [dtype, weak, scalar] = t.cast<std::tuple<std::string, bool, bool>>();
    key += key_byte(to_type(dtype, weak).scalar, weak, scalar);
  }
  return lookup(key, arg_types).kernel;
}

py::object Dispatcher::call(PyObject* args, PyObject* kwargs) {
  // out= for a map, axis= for a reduction.
  py::object option = py::none();
  if (kwargs) {
    for (auto [k, v] : py::reinterpret_borrow<py::dict>(kwargs)) {
      std::string key = py::str(k);
      if (key != (reduce_ ? "axis" : "out"))
        throw py::type_error(name_ + "() got an unexpected keyword argument '" + key + "'");
      option = py::reinterpret_borrow<py::object>(v);
    }
  }
  int n = static_cast<int>(PyTuple_GET_SIZE(args));
  if (n != nargs_) wrong_arg_count(name_, nargs_, n);

  // Uninitialized on purpose: only the first n entries are filled and read.
  runtime::Operand inputs[runtime::kMaxArgs];
  Box boxes[runtime::kMaxArgs];
  bool weak[runtime::kMaxArgs];
  PyObject* keep[runtime::kMaxArgs];
  std::fill(keep, keep + n, nullptr);
  struct Release {
    PyObject** refs;
    int n;
    ~Release() {
      for (int i = 0; i < n; ++i) Py_XDECREF(refs[i]);
    }
  } release_keep{keep, n};
  for (int i = 0; i < n; ++i)
    weak[i] = convert(PyTuple_GET_ITEM(args, i), i, inputs[i], boxes[i], keep[i]);
  // Scalar layout (the entry point reads the value once per row): numbers,
  // 0-d arrays, and arrays that broadcast along the last axis (a column such
  // as m[:, None]) where the launcher's rows are the last axis: a map's
  // result, or a reduction that reduces the last axis (its rows are the
  // innermost reduced axis).
  int64_t last = 1;  // the result's last extent, when broadcasting succeeds
  int ndim = 0;
  for (int i = 0; i < n; ++i) {
    const runtime::Shape& s = inputs[i].shape;
    ndim = std::max(ndim, s.ndim);
    if (s.ndim > 0) last = std::max(last, s.dims[s.ndim - 1]);
  }
  bool along_rows = last > 1 && (!reduce_ || reduces_last_axis(option, ndim));
  bool scalar[runtime::kMaxArgs];
  std::string key(n, '\0');
  for (int i = 0; i < n; ++i) {
    const runtime::Shape& s = inputs[i].shape;
    scalar[i] = s.ndim == 0 || (along_rows && s.dims[s.ndim - 1] == 1);
    key[i] = key_byte(inputs[i].dtype, weak[i], scalar[i]);
  }
  const Entry* entry = find(key);
  if (!entry) {
    py::list types;
    for (int i = 0; i < n; ++i)
      types.append(py::make_tuple(std::string(ir::numpy_name(inputs[i].dtype)), weak[i], scalar[i]));
    entry = &lookup(key, types);
  }
  const runtime::Kernel& kernel = *entry->kernel;
  for (const runtime::WeakIntUse& use : kernel.weak_int_uses)
    check_weak_int(use, boxes[use.param].i, inputs[use.param].dtype == ir::Scalar::U64,
                   PyTuple_GET_ITEM(args, use.param));

  std::span<const runtime::Operand> in(inputs, n);
  runtime::Shape shape;
  try {
    shape = runtime::broadcast_shape(in);
  } catch (const std::invalid_argument& e) {
    throw py::value_error(e.what());
  }

  return reduce_ ? reduce(*entry, in, shape, option) : map(*entry, in, shape, option);
}

namespace {

// Whether the inputs are Fortran-ordered arrays of the result's shape (and
// numbers): then, as NumPy's default order='K' does, the result is
// Fortran-ordered too, and the call runs on the reversed axes, where every
// operand is C-contiguous (the fast loop; elementwise, any order is right).
bool fortran_order(std::span<const runtime::Operand> in, const runtime::Shape& shape) {
  if (shape.ndim < 2) return false;
  bool any = false;
  for (const runtime::Operand& op : in) {
    if (op.shape.ndim == 0) continue;
    if (!(op.shape == shape)) return false;
    int64_t item = ir::bits_of(op.dtype) / 8, f = item, c = item;
    bool is_f = true, is_c = true;
    for (int d = 0; d < shape.ndim; ++d) {
      int e = shape.ndim - 1 - d;
      if (shape.dims[d] > 1 && op.strides[d] != f) is_f = false;
      if (shape.dims[e] > 1 && op.strides[e] != c) is_c = false;
      f *= shape.dims[d];
      c *= shape.dims[e];
    }
    if (!is_f || is_c) return false;
    any = true;
  }
  return any;
}

runtime::Operand reversed(runtime::Operand op) {
  std::reverse(op.shape.dims, op.shape.dims + op.shape.ndim);
  std::reverse(op.strides, op.strides + op.shape.ndim);
  return op;
}

}  // namespace

py::object Dispatcher::map(const Entry& entry, std::span<const runtime::Operand> in,
                           const runtime::Shape& shape, py::handle out_obj) {
  bool direct = false;
  if (!out_obj.is_none()) {
    if (!py::isinstance<py::array>(out_obj))
      throw py::type_error("out= must be a NumPy array, got '" +
                           std::string(Py_TYPE(out_obj.ptr())->tp_name) + "'");
    py::array out = py::reinterpret_borrow<py::array>(out_obj);
    if (!out.writeable()) throw py::value_error("out= array is read-only");
    runtime::Operand o;
    o.shape.ndim = std::min(static_cast<int>(out.ndim()), runtime::kMaxDims);
    for (int d = 0; d < o.shape.ndim; ++d) o.shape.dims[d] = out.shape(d);
    if (out.ndim() != shape.ndim || !(o.shape == shape))
      throw py::value_error("out= has shape " + py::str(out.attr("shape")).cast<std::string>() +
                            " but the broadcast shape of the arguments is " + shape.text());
    // Written in place only when it has the result's dtype and no input
    // overlaps it but as the very same view; otherwise through a temporary
    // that np.copyto casts (same_kind) into it, whatever its dtype.
    direct = out.dtype().equal(entry.result) && is_native(out.dtype());
    if (direct) {
      fill_operand(out, o);
      for (const runtime::Operand& i : in)
        if (overlaps(i, o) && !same_view(i, o)) direct = false;
    }
  }
  bool fortran = out_obj.is_none() && fortran_order(in, shape);
  py::array target = direct ? py::reinterpret_borrow<py::array>(out_obj)
                            : new_output(entry.result, shape, fortran);
  runtime::Operand target_op;
  fill_operand(target, target_op);
  runtime::Operand flipped[runtime::kMaxArgs];
  if (fortran) {
    for (size_t i = 0; i < in.size(); ++i) flipped[i] = reversed(in[i]);
    target_op = reversed(target_op);
    in = std::span<const runtime::Operand>(flipped, in.size());
  }
  {
    CtrlC ctrl_c(target_op.shape.size() >= kLongCall);
    ReleaseGil release;
    runtime::launch_elementwise(*entry.kernel, in, target_op);
  }
  if (!out_obj.is_none()) {
    if (!direct)
      py::module_::import("numpy").attr("copyto")(out_obj, target, py::arg("casting") = "same_kind");
    return py::reinterpret_borrow<py::object>(out_obj);
  }
  bool all_scalar = std::all_of(in.begin(), in.end(),
                                [](const runtime::Operand& o) { return o.shape.ndim == 0; });
  if (all_scalar) return target[py::tuple()];  // a NumPy scalar, as ufuncs return
  return std::move(target);
}

std::shared_ptr<runtime::Kernel> compiled_kernel(const py::object& result) {
  if (!py::isinstance<runtime::Kernel>(result))
    throw py::type_error("the compile callback returned " +
                         std::string(Py_TYPE(result.ptr())->tp_name) + ", not a compiled kernel");
  return result.cast<std::shared_ptr<runtime::Kernel>>();
}

void require_initialized(PyObject* self) {
  auto v_h = reinterpret_cast<py::detail::instance*>(self)->get_value_and_holder();
  if (!v_h.holder_constructed())
    throw py::type_error("this kernel object was not initialized (its __init__ never ran)");
}

bool Dispatcher::needs_protocol(PyObject* args, PyObject* kwargs) const {
  for (Py_ssize_t i = 0, n = PyTuple_GET_SIZE(args); i < n; ++i) {
    PyObject* a = PyTuple_GET_ITEM(args, i);
    PyTypeObject* t = Py_TYPE(a);
    if (t == ndarray_type || t == &PyFloat_Type || t == &PyLong_Type || t == &PyBool_Type)
      continue;
    // An ndarray subclass (its __array_wrap__ makes the result), or an
    // object that overrides ufuncs (dask, pandas, xarray).
    if (PyType_IsSubtype(t, ndarray_type) || _PyType_Lookup(t, array_ufunc_name)) return true;
  }
  if (!kwargs) return false;
  const char* option = reduce_ ? "axis" : "out";
  PyObject *key, *value;
  Py_ssize_t at = 0;
  while (PyDict_Next(kwargs, &at, &key, &value))
    if (!PyUnicode_Check(key) || PyUnicode_CompareWithASCIIString(key, option) != 0) return true;
  return false;
}

PyObject* Dispatcher::tp_call(PyObject* self, PyObject* args, PyObject* kwargs) {
  try {
    // pybind11's own __call__ would check that __init__ ran; so must this slot.
    auto v_h = reinterpret_cast<py::detail::instance*>(self)->get_value_and_holder();
    if (!v_h.holder_constructed()) require_initialized(self);  // raises
    Dispatcher* d = v_h.value_ptr<Dispatcher>();
    if (d->needs_protocol(args, kwargs)) {  // NumPy's protocols: python/ember/protocol.py
      py::object method = py::reinterpret_borrow<py::object>(self).attr("_protocol_call");
      return PyObject_Call(method.ptr(), args, kwargs);
    }
    return d->call(args, kwargs).release().ptr();
  } catch (py::error_already_set& e) {
    e.restore();
  } catch (abi::__forced_unwind&) {
    throw;  // a thread ended while Python exits (gil.h): let it unwind
  } catch (...) {
    py::detail::try_translate_exceptions();  // the registered translators too (module.cpp)
  }
  return nullptr;
}

}  // namespace ember
