// Conversions between Python values and C++ ones.
#include "python/src/convert.h"

#include <cstring>

#include <bit>

#include "ir/builder.h"

namespace py = pybind11;

namespace ember {

std::string py_dtype_name(ir::Type t) { return std::string(ir::numpy_name(t.scalar)); }

ir::Type to_type(const std::string& dtype, bool weak) {
  auto s = ir::scalar_from_numpy_name(dtype);
  if (!s) throw py::value_error("unsupported dtype '" + dtype + "'");
  return ir::Type{*s, weak, 0};
}

ir::Op to_op(const std::string& name) {
  ir::Op op;
  if (!ir::op_from_name(name, &op)) throw py::value_error("unknown IR operator '" + name + "'");
  return op;
}

bool read_python_int(PyObject* v, int64_t* bits, bool* is_unsigned) {
  int overflow = 0;
  *bits = PyLong_AsLongLongAndOverflow(v, &overflow);
  *is_unsigned = overflow > 0;
  if (overflow == 0) return true;
  if (overflow < 0) return false;
  *bits = static_cast<int64_t>(PyLong_AsUnsignedLongLong(v));
  if (!PyErr_Occurred()) return true;
  PyErr_Clear();
  return false;
}

std::optional<ir::Scalar> read_python_number(PyObject* obj, int index, void* box) {
  int64_t bits;
  ir::Scalar dtype;
  if (PyBool_Check(obj)) {
    bits = obj == Py_True;
    dtype = ir::Scalar::Bool;
  } else if (PyLong_CheckExact(obj)) {
    bool is_unsigned;
    if (!read_python_int(obj, &bits, &is_unsigned)) {
      throw_overflow("argument " + std::to_string(index + 1) + ": Python int " +
                     py::str(obj).cast<std::string>() + " is out of bounds for int64 and uint64");
    }
    dtype = is_unsigned ? ir::Scalar::U64 : ir::Scalar::I64;
  } else if (PyFloat_CheckExact(obj)) {
    double f = PyFloat_AS_DOUBLE(obj);
    std::memcpy(&bits, &f, sizeof f);
    dtype = ir::Scalar::F64;
  } else {
    return std::nullopt;
  }
  std::memcpy(box, &bits, sizeof bits);  // little-endian: a bool's byte comes first
  return dtype;
}

ir::Literal int_literal(const py::int_& v) {
  ir::Literal l;
  bool is_unsigned;
  if (!read_python_int(v.ptr(), &l.i, &is_unsigned))
    throw py::value_error("integer " + py::str(v).cast<std::string>() + " does not fit in 64 bits");
  l.f = static_cast<double>(l.i);
  return l;
}

std::optional<ir::Scalar> scalar_of(const py::dtype& dtype) {
  using S = ir::Scalar;
  int size = static_cast<int>(dtype.itemsize());
  int log2 = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : size == 8 ? 3 : -1;
  if (log2 < 0) return std::nullopt;
  switch (dtype.kind()) {
    case 'b': return S::Bool;
    case 'i': return static_cast<S>(static_cast<int>(S::I8) + log2);
    case 'u': return static_cast<S>(static_cast<int>(S::U8) + log2);
    case 'f':
      if (size == 4) return S::F32;
      if (size == 8) return S::F64;
      return std::nullopt;
    default: return std::nullopt;
  }
}

ir::Scalar require_scalar(const py::dtype& dtype, const std::string& what) {
  if (auto s = scalar_of(dtype)) return *s;
  throw py::type_error(what + " has dtype " + py::str(dtype).cast<std::string>() +
                       ", which ember does not support (supported: bool, int8..int64, "
                       "uint8..uint64, float32, float64)");
}

bool is_native(const py::dtype& dtype) {
  char order = dtype.byteorder();
  return order == '=' || order == '|' || order == (std::endian::native == std::endian::little ? '<' : '>');
}

py::dtype dtype_of(ir::Scalar s) {
  // NumPy's type numbers (NPY_BOOL ... NPY_DOUBLE) on an LP64 platform.
  static constexpr int kTypeNum[] = {0, 1, 3, 5, 7, 2, 4, 6, 8, 11, 12};
  return py::dtype(kTypeNum[static_cast<int>(s)]);
}

void fill_operand(const py::array& a, runtime::Operand& op, int arg_index) {
  int ndim = static_cast<int>(a.ndim());
  if (ndim > runtime::kMaxDims)
    throw py::value_error("ember supports arrays of at most " +
                          std::to_string(runtime::kMaxDims) + " dimensions, got " +
                          std::to_string(ndim));
  op.data = static_cast<char*>(const_cast<void*>(a.data()));
  std::optional<ir::Scalar> dtype = scalar_of(a.dtype());
  if (!dtype)  // the message is built only on this path: fill_operand is on every call
    require_scalar(a.dtype(),
                   arg_index < 0 ? "an array" : "argument " + std::to_string(arg_index + 1));
  op.dtype = *dtype;
  op.shape.ndim = ndim;
  for (int d = 0; d < ndim; ++d) {
    op.shape.dims[d] = a.shape(d);
    op.strides[d] = a.strides(d);
  }
}

void throw_overflow(const std::string& message) {
  PyErr_SetString(PyExc_OverflowError, message.c_str());
  throw py::error_already_set();
}

void wrong_arg_count(const std::string& name, int nargs, size_t given) {
  throw py::type_error(name + "() takes " + std::to_string(nargs) + " argument" +
                       (nargs == 1 ? "" : "s") + " but " + std::to_string(given) +
                       (given == 1 ? " was" : " were") + " given");
}

void check_weak_int(const runtime::WeakIntUse& use, int64_t value, bool is_unsigned, PyObject* arg) {
  if (runtime::int_fits(value, is_unsigned, use.type)) return;
  throw_overflow("argument " + std::to_string(use.param + 1) + ": Python int " +
                 py::str(arg).cast<std::string>() + " is out of bounds for " +
                 std::string(ir::numpy_name(use.type)));
}

ir::Literal to_literal(const py::handle& value, ir::Type t) {
  ir::Literal l;
  if (ir::is_float(t.scalar)) {
    l.f = py::float_(py::reinterpret_borrow<py::object>(value)).cast<double>();
  } else if (t.scalar == ir::Scalar::Bool) {
    l.i = py::bool_(py::reinterpret_borrow<py::object>(value)).cast<bool>();
  } else {
    l = int_literal(py::int_(py::reinterpret_borrow<py::object>(value)));
  }
  return ir::normalize(l, t);
}

py::object from_literal(ir::Literal v, ir::Type t) {
  py::module_ np = py::module_::import("numpy");
  py::object type = np.attr(ir::numpy_name(t.scalar).data());
  if (ir::is_float(t.scalar)) return type(v.f);
  if (t.scalar == ir::Scalar::U64) return type(py::int_(static_cast<uint64_t>(v.i)));
  return type(py::int_(v.i));
}

}  // namespace ember
