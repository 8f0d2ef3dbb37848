// Argument conversion, specialization cache and launch of @vectorize calls.
#include "python/src/dispatcher.h"

#include <algorithm>

#include "python/src/convert.h"
#include "runtime/launch.h"

namespace py = pybind11;

namespace ember {
namespace {

// One converted argument. Python numbers are boxed into `box` (weak types).
struct Arg {
  runtime::Operand op;
  bool weak = false;
  py::object keep;  // keeps a converted array alive
  union {
    int64_t i;
    double f;
    bool b;
  } box;
};

void convert(const py::handle& obj, size_t index, Arg& arg) {
  if (PyBool_Check(obj.ptr())) {
    arg.box.b = obj.ptr() == Py_True;
    arg.op.dtype = ir::Scalar::Bool;
  } else if (PyLong_Check(obj.ptr())) {
    int overflow = 0;
    arg.box.i = PyLong_AsLongLongAndOverflow(obj.ptr(), &overflow);
    if (overflow)
      throw py::value_error("argument " + std::to_string(index + 1) + ": Python int " +
                            py::str(obj).cast<std::string>() + " is out of bounds for int64");
    arg.op.dtype = ir::Scalar::I64;
    arg.weak = true;
  } else if (PyFloat_Check(obj.ptr())) {
    arg.box.f = PyFloat_AS_DOUBLE(obj.ptr());
    arg.op.dtype = ir::Scalar::F64;
    arg.weak = true;
  } else {
    py::array a = py::isinstance<py::array>(obj) ? py::reinterpret_borrow<py::array>(obj)
                                                 : py::array::ensure(obj);
    if (!a) throw py::type_error("argument " + std::to_string(index + 1) + " of type '" +
                                 std::string(Py_TYPE(obj.ptr())->tp_name) +
                                 "' is not an array or a number");
    if (!scalar_of(a.dtype())) require_scalar(a.dtype(), "argument " + std::to_string(index + 1));
    if (!is_native(a.dtype()))
      a = py::reinterpret_steal<py::array>(
          py::module_::import("numpy")
              .attr("ascontiguousarray")(a, a.dtype().attr("newbyteorder")("="))
              .release());
    arg.op = operand_of(a);
    arg.keep = a;
    return;
  }
  arg.op.data = reinterpret_cast<char*>(&arg.box);
}

// One byte of a specialization key per argument: dtype, weak, scalar layout.
char key_byte(ir::Scalar dtype, bool weak, bool scalar) {
  return static_cast<char>(static_cast<int>(dtype) | (weak ? 16 : 0) | (scalar ? 32 : 0));
}

// [lo, hi) bytes an operand may touch.
std::pair<const char*, const char*> extent(const runtime::Operand& op) {
  const char* lo = op.data;
  const char* hi = op.data + ir::bits_of(op.dtype) / 8;
  for (size_t d = 0; d < op.shape.size(); ++d) {
    if (op.shape[d] == 0) return {op.data, op.data};
    int64_t span = (op.shape[d] - 1) * op.strides[d];
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
  return in.data == out.data && in.shape == out.shape && in.strides == out.strides &&
         in.dtype == out.dtype;
}

}  // namespace

Dispatcher::Dispatcher(std::string name, int nargs, py::function compile)
    : name_(std::move(name)), nargs_(nargs), compile_(std::move(compile)) {}

size_t Dispatcher::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return kernels_.size();
}

std::shared_ptr<const runtime::Kernel> Dispatcher::lookup(const std::string& key,
                                                          const py::list& arg_types) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = kernels_.find(key);
    if (it != kernels_.end()) return it->second;
  }
  auto kernel = compile_(arg_types).cast<std::shared_ptr<runtime::Kernel>>();
  std::lock_guard<std::mutex> lock(mu_);
  return kernels_.emplace(key, std::move(kernel)).first->second;
}

std::shared_ptr<const runtime::Kernel> Dispatcher::specialize(const py::list& arg_types) {
  std::string key;
  for (const py::handle& t : arg_types) {
    auto [dtype, weak, scalar] = t.cast<std::tuple<std::string, bool, bool>>();
    key += key_byte(to_type(dtype, weak).scalar, weak, scalar);
  }
  return lookup(key, arg_types);
}

py::object Dispatcher::call(const py::args& args, const py::kwargs& kwargs) {
  py::object out_obj = py::none();
  for (auto [k, v] : kwargs) {
    std::string key = py::str(k);
    if (key != "out")
      throw py::type_error(name_ + "() got an unexpected keyword argument '" + key + "'");
    out_obj = py::reinterpret_borrow<py::object>(v);
  }
  if (static_cast<int>(args.size()) != nargs_)
    throw py::type_error(name_ + "() takes " + std::to_string(nargs_) + " argument" +
                         (nargs_ == 1 ? "" : "s") + " but " + std::to_string(args.size()) +
                         (args.size() == 1 ? " was" : " were") + " given");

  std::vector<Arg> converted(args.size());
  std::string key(args.size(), '\0');
  for (size_t i = 0; i < args.size(); ++i) {
    convert(args[i], i, converted[i]);
    key[i] = key_byte(converted[i].op.dtype, converted[i].weak, converted[i].op.shape.empty());
  }
  std::shared_ptr<const runtime::Kernel> kernel;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = kernels_.find(key);
    if (it != kernels_.end()) kernel = it->second;
  }
  if (!kernel) {
    py::list types;
    for (const Arg& a : converted)
      types.append(py::make_tuple(std::string(ir::numpy_name(a.op.dtype)), a.weak,
                                  a.op.shape.empty()));
    kernel = lookup(key, types);
  }

  std::vector<runtime::Operand> inputs;
  for (const Arg& a : converted) inputs.push_back(a.op);
  std::vector<int64_t> shape;
  try {
    shape = runtime::broadcast_shape(inputs);
  } catch (const std::invalid_argument& e) {
    throw py::value_error(e.what());
  }
  ir::Scalar result = kernel->optimized.result.scalar;
  py::dtype result_dtype = dtype_of(result);

  py::array out;
  bool direct = false;
  if (!out_obj.is_none()) {
    if (!py::isinstance<py::array>(out_obj))
      throw py::type_error("out= must be a NumPy array, got '" +
                           std::string(Py_TYPE(out_obj.ptr())->tp_name) + "'");
    out = py::reinterpret_borrow<py::array>(out_obj);
    if (!out.writeable()) throw py::value_error("out= array is read-only");
    runtime::Operand o{static_cast<char*>(out.mutable_data()), result,
                       std::vector<int64_t>(out.shape(), out.shape() + out.ndim()),
                       std::vector<int64_t>(out.strides(), out.strides() + out.ndim())};
    if (o.shape != shape)
      throw py::value_error("out= has shape " + py::str(out.attr("shape")).cast<std::string>() +
                            " but the broadcast shape of the arguments is " +
                            py::str(py::tuple(py::cast(shape))).cast<std::string>());
    direct = out.dtype().equal(result_dtype) && is_native(out.dtype());
    for (const runtime::Operand& in : inputs)
      if (overlaps(in, o) && !same_view(in, o)) direct = false;
  }
  py::array target = direct ? out : py::array(result_dtype, shape);
  runtime::Operand target_op = operand_of(target);
  {
    py::gil_scoped_release release;
    runtime::launch_elementwise(*kernel, inputs, target_op);
  }
  if (!out_obj.is_none()) {
    if (!direct)
      py::module_::import("numpy").attr("copyto")(out, target, py::arg("casting") = "same_kind");
    return out;
  }
  bool all_scalar = std::all_of(inputs.begin(), inputs.end(),
                                [](const runtime::Operand& o) { return o.shape.empty(); });
  if (all_scalar) return target[py::tuple()];  // a NumPy scalar, as ufuncs return
  return std::move(target);
}

}  // namespace ember
