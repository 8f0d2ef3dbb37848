// Conversions between Python values and C++ ones.
#include "python/src/convert.h"

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

ir::Literal int_literal(const py::int_& v) {
  ir::Literal l;
  int overflow = 0;
  long long s = PyLong_AsLongLongAndOverflow(v.ptr(), &overflow);
  if (overflow == 0) {
    l.i = s;
  } else {
    unsigned long long u = PyLong_AsUnsignedLongLong(v.ptr());
    if (PyErr_Occurred()) {
      PyErr_Clear();
      throw py::value_error("integer " + py::str(v).cast<std::string>() +
                            " does not fit in 64 bits");
    }
    l.i = static_cast<int64_t>(u);
  }
  l.f = static_cast<double>(l.i);
  return l;
}

ir::Scalar scalar_of(const py::dtype& dtype, const std::string& what) {
  char kind = dtype.kind();
  int size = static_cast<int>(dtype.itemsize());
  std::string name;
  if (kind == 'b') name = "bool";
  if (kind == 'i') name = "int" + std::to_string(8 * size);
  if (kind == 'u') name = "uint" + std::to_string(8 * size);
  if (kind == 'f') name = "float" + std::to_string(8 * size);
  auto s = ir::scalar_from_numpy_name(name);
  if (!s)
    throw py::type_error(what + " has dtype " + py::str(dtype).cast<std::string>() +
                         ", which ember does not support (supported: bool, int8..int64, "
                         "uint8..uint64, float32, float64)");
  return *s;
}

runtime::Operand operand_of(const py::array& a) {
  runtime::Operand op;
  op.data = static_cast<char*>(const_cast<void*>(a.data()));
  op.dtype = scalar_of(a.dtype(), "an argument");
  op.shape.assign(a.shape(), a.shape() + a.ndim());
  op.strides.assign(a.strides(), a.strides() + a.ndim());
  return op;
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
