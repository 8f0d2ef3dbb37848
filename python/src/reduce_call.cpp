// The end of a @reduce call: the axis= argument, NumPy's errors for it and for
// empty min/max, the result array, and the launch with the GIL released.
#include <algorithm>

#include "ir/ir.h"
#include "python/src/convert.h"
#include "python/src/dispatcher.h"
#include "python/src/output_memory.h"
#include "runtime/reduce.h"
#include "python/src/gil.h"

namespace py = pybind11;

namespace ember {
namespace {

[[noreturn]] void axis_error(int64_t axis, int ndim) {
  py::object error = py::module_::import("numpy").attr("exceptions").attr("AxisError");
  PyErr_SetObject(error.ptr(), error(axis, ndim).ptr());
  throw py::error_already_set();
}

// Marks the dimensions `axis` names (None: all; an int or a tuple of ints,
// negative ones counting from the end, as NumPy reads them; NumPy also takes
// a lone 0 or -1 for a 0-d input, and no bools).
void read_axis(py::handle axis, int ndim, bool* reduced) {
  std::fill(reduced, reduced + ndim, axis.is_none());
  if (axis.is_none()) return;
  bool lone = !py::isinstance<py::tuple>(axis);
  py::tuple axes = lone ? py::make_tuple(axis) : py::reinterpret_borrow<py::tuple>(axis);
  for (py::handle a : axes) {
    if (PyBool_Check(a.ptr())) throw py::type_error("axis must be an integer, not bool");
    PyObject* index = PyNumber_Index(a.ptr());
    if (!index) throw py::error_already_set();
    int64_t k = PyLong_AsLongLong(index);
    Py_DECREF(index);
    if (k == -1 && PyErr_Occurred()) throw py::error_already_set();
    if (lone && ndim == 0 && (k == 0 || k == -1)) return;
    int64_t d = k < 0 ? k + ndim : k;
    if (d < 0 || d >= ndim) axis_error(k, ndim);
    if (reduced[d]) throw py::value_error("duplicate value in 'axis'");
    reduced[d] = true;
  }
}

}  // namespace

bool Dispatcher::reduces_last_axis(py::handle axis, int ndim) {
  if (axis.is_none()) return true;
  py::tuple axes = py::isinstance<py::tuple>(axis) ? py::reinterpret_borrow<py::tuple>(axis)
                                                   : py::make_tuple(axis);
  for (py::handle a : axes) {
    if (PyBool_Check(a.ptr()) || !PyIndex_Check(a.ptr())) return false;
    Py_ssize_t k = PyNumber_AsSsize_t(a.ptr(), nullptr);  // clipped, never an error
    if (k == ndim - 1 || k == -1) return true;
  }
  return false;
}

std::vector<int> Dispatcher::reduced_axes(py::handle axis, int ndim) {
  if (ndim > runtime::kMaxDims) throw py::value_error("too many dimensions");
  bool reduced[runtime::kMaxDims];
  read_axis(axis, ndim, reduced);
  std::vector<int> axes;
  for (int d = 0; d < ndim; ++d)
    if (reduced[d]) axes.push_back(d);
  return axes;
}

py::object Dispatcher::reduce(const Entry& entry, std::span<const runtime::Operand> in,
                              const runtime::Shape& shape, py::handle axis) {
  bool reduced[runtime::kMaxDims];
  read_axis(axis, shape.ndim, reduced);
  runtime::Shape kept;
  kept.ndim = 0;
  int64_t length = 1;
  for (int d = 0; d < shape.ndim; ++d) {
    if (reduced[d]) length *= shape.dims[d];
    else kept.dims[kept.ndim++] = shape.dims[d];
  }
  const codegen::Reduction& reduction = *entry.kernel->options.reduction;
  bool has_identity = reduction.op == ir::Op::Add || reduction.op == ir::Op::Mul;
  // NumPy's words for min and max are the IR's names: minimum, maximum.
  if (length == 0 && !has_identity)
    throw py::value_error(std::string("zero-size array to reduction operation ") +
                          ir::op_name(reduction.op) + " which has no identity");
  py::array target = new_output(entry.result, kept);
  runtime::Operand target_op;
  fill_operand(target, target_op);
  {
    CtrlC ctrl_c(shape.size() >= kLongCall);
    ReleaseGil release;
    runtime::launch_reduce(*entry.kernel, in, shape, reduced, target_op);
  }
  if (kept.ndim == 0) return target[py::tuple()];  // a NumPy scalar, as np.sum returns
  return std::move(target);
}

}  // namespace ember
