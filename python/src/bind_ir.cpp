// Bindings of the IR builder, Function and text form (no logic here).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "ir/builder.h"
#include "ir/printer.h"
#include "python/src/convert.h"

namespace py = pybind11;
using namespace ember;

namespace {
// pybind11 holders cannot be shared_ptr<const T>; IR nodes stay immutable
// because no binding exposes a mutator.
using PyExpr = std::shared_ptr<ir::Expr>;
PyExpr py_expr(ir::ExprPtr e) { return std::const_pointer_cast<ir::Expr>(std::move(e)); }
}  // namespace

void bind_ir(py::module_& m) {
  py::class_<ir::Expr, PyExpr>(m, "Expr")
      .def_property_readonly("dtype", [](const ir::Expr& e) { return py_dtype_name(e.type); })
      .def_property_readonly("weak", [](const ir::Expr& e) { return e.type.weak; })
      .def_property_readonly("ndim", [](const ir::Expr& e) { return e.type.ndim; });

  py::class_<ir::Function>(m, "Function")
      .def_readonly("name", &ir::Function::name)
      .def_readonly("domain", &ir::Function::domain)
      .def_property_readonly("param_types",
                             [](const ir::Function& f) {
                               std::vector<std::pair<std::string, int>> types;
                               for (const ir::Variable& p : f.params)
                                 types.push_back({py_dtype_name(p.type), p.type.ndim});
                               return types;
                             })
      .def_property_readonly("result_dtype",
                             [](const ir::Function& f) { return py_dtype_name(f.result); })
      .def("text", [](const ir::Function& f, bool loc) { return ir::print(f, loc); },
           py::arg("locations") = false)
      .def("__str__", [](const ir::Function& f) { return ir::print(f); });

  py::class_<ir::FunctionBuilder>(m, "FunctionBuilder")
      .def(py::init([](std::string name, std::string file, int line, int col, int domain) {
             return new ir::FunctionBuilder(std::move(name), std::move(file), {line, col}, domain);
           }),
           py::arg("name"), py::arg("file"), py::arg("line"), py::arg("col"), py::arg("domain") = 0)
      .def("param",
           [](ir::FunctionBuilder& b, const std::string& name, const std::string& dtype, bool weak,
              int line, int col, int ndim) {
             ir::Type t = to_type(dtype, weak);
             t.ndim = static_cast<uint8_t>(ndim);
             return py_expr(b.add_param(name, t, {line, col}));
           },
           py::arg("name"), py::arg("dtype"), py::arg("weak"), py::arg("line"), py::arg("col"),
           py::arg("ndim") = 0)
      .def("load", [](ir::FunctionBuilder&, PyExpr a, std::vector<PyExpr> indices, int line,
                      int col) {
        return py_expr(ir::make_load(a, {indices.begin(), indices.end()}, {line, col}));
      })
      .def("shape", [](ir::FunctionBuilder&, PyExpr a, int dim, int line, int col) {
        return py_expr(ir::make_shape(a, dim, {line, col}));
      })
      .def("tid", [](ir::FunctionBuilder& b, int dim, int line, int col) {
        return py_expr(b.tid(dim, {line, col}));
      })
      .def("store", [](ir::FunctionBuilder& b, PyExpr a, std::vector<PyExpr> indices, PyExpr v,
                       int line, int col) {
        b.store(a, {indices.begin(), indices.end()}, v, {line, col});
      })
      .def("atomic", [](ir::FunctionBuilder& b, const std::string& op, PyExpr a,
                        std::vector<PyExpr> indices, PyExpr v, int line, int col) {
        b.atomic(to_op(op), a, {indices.begin(), indices.end()}, v, {line, col});
      })
      .def("begin_for", [](ir::FunctionBuilder& b, const std::string& name, PyExpr start,
                           PyExpr stop, PyExpr step, int line, int col) {
        b.begin_for(name, start, stop, step, {line, col});
      })
      .def("end_for", &ir::FunctionBuilder::end_for)
      .def("begin_while", [](ir::FunctionBuilder& b, PyExpr c, int line, int col) {
        b.begin_while(c, {line, col});
      })
      .def("end_while", &ir::FunctionBuilder::end_while)
      .def("jump", [](ir::FunctionBuilder& b, bool is_break, int line, int col) {
        b.jump(is_break ? ir::StmtKind::Break : ir::StmtKind::Continue, {line, col});
      })
      .def("ret_void", [](ir::FunctionBuilder& b, int line, int col) { b.ret(nullptr, {line, col}); })
      .def("const_int", [](ir::FunctionBuilder&, py::int_ v, const std::string& dtype, bool weak,
                           int line, int col) {
        return py_expr(ir::make_const(to_type(dtype, weak), int_literal(v), {line, col}));
      })
      .def("const_float", [](ir::FunctionBuilder&, double v, const std::string& dtype, bool weak,
                             int line, int col) {
        return py_expr(ir::make_float(v, to_type(dtype, weak), {line, col}));
      })
      .def("const_bool",
           [](ir::FunctionBuilder&, bool v, int line, int col, bool weak) {
             return py_expr(ir::make_int(v, {ir::Scalar::Bool, weak, 0}, {line, col}));
           },
           py::arg("value"), py::arg("line"), py::arg("col"), py::arg("weak") = false)
      .def("unary", [](ir::FunctionBuilder&, const std::string& op, PyExpr x, int line,
                       int col) { return py_expr(ir::make_unary(to_op(op), x, {line, col})); })
      .def("binary", [](ir::FunctionBuilder&, const std::string& op, PyExpr a,
                        PyExpr b, int line, int col) {
        return py_expr(ir::make_binary(to_op(op), a, b, {line, col}));
      })
      .def("cast",
           [](ir::FunctionBuilder&, PyExpr x, const std::string& dtype, int line, int col,
              bool weak) { return py_expr(ir::make_cast(x, to_type(dtype, weak), {line, col})); },
           py::arg("x"), py::arg("dtype"), py::arg("line"), py::arg("col"), py::arg("weak") = false)
      .def("truth", [](ir::FunctionBuilder&, PyExpr x, int line, int col) {
        return py_expr(ir::make_truth(x, {line, col}));
      })
      .def("select", [](ir::FunctionBuilder&, PyExpr c, PyExpr a, PyExpr b,
                        int line, int col) { return py_expr(ir::make_select(c, a, b, {line, col})); })
      .def("has_var", &ir::FunctionBuilder::has_var)
      .def("read_var", [](ir::FunctionBuilder& b, const std::string& name, int line, int col) {
        return py_expr(b.read_var(name, {line, col}));
      })
      .def("assign", [](ir::FunctionBuilder& b, const std::string& name, PyExpr x, int line,
                        int col) { b.assign(name, x, {line, col}); })
      .def("begin_if", [](ir::FunctionBuilder& b, PyExpr c, int line, int col) {
        b.begin_if(c, {line, col});
      })
      .def("begin_else", &ir::FunctionBuilder::begin_else)
      .def("end_if", &ir::FunctionBuilder::end_if)
      .def("ret", [](ir::FunctionBuilder& b, PyExpr x, int line, int col) {
        b.ret(x, {line, col});
      })
      .def("finish", &ir::FunctionBuilder::finish);
}
