// The ember._jit extension: everything that needs LLVM (compiling kernels,
// their LLVM IR and assembly, the host CPU). Kept apart from ember._core so
// that `import ember` does not load LLVM; Python imports it at the first
// compile. Bindings only.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "codegen/codegen.h"
#include "ir/ir.h"
#include "runtime/compile.h"

namespace py = pybind11;
using namespace ember;

PYBIND11_MODULE(_jit, m) {
  m.doc() = "ember's LLVM JIT";
  // Types and the BuildError exception are ember._core's.
  // Leaked on purpose: a static py::object would be released after Python finalizes.
  static PyObject* build_error =
      py::object(py::module_::import("ember._core").attr("BuildError")).release().ptr();
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ir::CompileError& e) {
      py::object args = py::make_tuple(e.what(), e.loc.line, e.loc.col);
      PyErr_SetObject(build_error, args.ptr());
    }
  });
  m.def("compile_elementwise",
        [](const ir::Function& fn, std::vector<bool> scalar, bool fastmath,
           const std::string& combine, bool native) {
          ir::Op op;
          bool reduce = !combine.empty() && ir::op_from_name(combine, &op);
          return std::const_pointer_cast<runtime::Kernel>(
              runtime::compile(fn, {std::move(scalar)}, {fastmath},
                               reduce ? std::optional(op) : std::nullopt, native));
        },
        py::arg("fn"), py::arg("scalar_layout"), py::arg("fastmath") = false,
        py::arg("combine") = "", py::arg("native") = true,
        py::call_guard<py::gil_scoped_release>());
  m.def("compile_kernel",
        [](const ir::Function& fn, bool boundscheck, bool fastmath, std::vector<bool> unit_stride,
           bool native) {
          codegen::Options options{fastmath, std::nullopt, boundscheck};
          codegen::Layout layout{{}, std::move(unit_stride)};
          return std::const_pointer_cast<runtime::Kernel>(
              runtime::compile(fn, layout, options, std::nullopt, native));
        },
        py::arg("fn"), py::arg("boundscheck") = false, py::arg("fastmath") = false,
        py::arg("unit_stride") = std::vector<bool>{}, py::arg("native") = true,
        py::call_guard<py::gil_scoped_release>());
  m.def("llvm_ir", &runtime::llvm_ir, py::arg("kernel"), py::arg("cpu") = "",
        py::call_guard<py::gil_scoped_release>());
  m.def("asm", &runtime::assembly, py::arg("kernel"), py::arg("cpu") = "",
        py::call_guard<py::gil_scoped_release>());
  m.def("host_cpu", &codegen::host_cpu);
  py::class_<codegen::PtxCode>(m, "PtxCode")
      .def_readonly("ptx", &codegen::PtxCode::ptx)
      .def_readonly("entry", &codegen::PtxCode::entry)
      .def_readonly("arch", &codegen::PtxCode::arch);
  m.def("ptx", &runtime::ptx, py::arg("kernel"), py::arg("arch") = "", py::arg("strided") = 0,
        py::call_guard<py::gil_scoped_release>());
  m.def("gpu_llvm_ir", &runtime::gpu_llvm_ir, py::arg("kernel"), py::arg("arch") = "",
        py::call_guard<py::gil_scoped_release>());
  m.def("gpu_archs", &codegen::gpu_archs);
  m.def("newest_gpu_arch", &codegen::newest_gpu_arch);
  m.def("libdevice_path", &codegen::libdevice_path);
}
