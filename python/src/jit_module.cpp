// The ember._jit extension: everything that needs LLVM (compiling kernels,
// their LLVM IR and assembly, the host CPU). Kept apart from ember._core so
// that `import ember` does not load LLVM; Python imports it at the first
// compile. Bindings only.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "codegen/codegen.h"
#include "ir/ir.h"
#include "runtime/compile.h"
#include "python/src/gil.h"

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
  m.def("compile",
        [](const runtime::Specialization& spec, bool native) {
          return std::const_pointer_cast<runtime::Kernel>(runtime::compile(spec, native));
        },
        py::arg("spec"), py::arg("native") = true, py::call_guard<ember::ReleaseGil>());
  m.def("codegen_runs", &codegen::codegen_runs);
  m.def("llvm_ir", &runtime::llvm_ir, py::arg("kernel"), py::arg("cpu") = "",
        py::call_guard<ember::ReleaseGil>());
  m.def("asm", &runtime::assembly, py::arg("kernel"), py::arg("cpu") = "",
        py::call_guard<ember::ReleaseGil>());
  m.def("host_cpu", &codegen::host_cpu);
  py::class_<codegen::PtxCode>(m, "PtxCode")
      .def_readonly("ptx", &codegen::PtxCode::ptx)
      .def_readonly("entry", &codegen::PtxCode::entry)
      .def_readonly("arch", &codegen::PtxCode::arch);
  m.def("ptx", &runtime::ptx, py::arg("kernel"), py::arg("arch") = "", py::arg("strided") = 0,
        py::call_guard<ember::ReleaseGil>());
  m.def("gpu_llvm_ir", &runtime::gpu_llvm_ir, py::arg("kernel"), py::arg("arch") = "",
        py::call_guard<ember::ReleaseGil>());
  m.def("gpu_archs", &codegen::gpu_archs);
  m.def("newest_gpu_arch", &codegen::newest_gpu_arch);
  m.def("libdevice_path", &codegen::libdevice_path);
}
