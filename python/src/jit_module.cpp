// The ember._jit extension: everything that needs LLVM (compiling kernels,
// their LLVM IR and assembly, the host CPU). Kept apart from ember._core so
// that `import ember` does not load LLVM; Python imports it at the first
// compile. Bindings only.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "codegen/aot.h"
#include "codegen/codegen.h"
#include "compiler/log.h"
#include "ir/ir.h"
#include "runtime/compile.h"
#include "runtime/aot_abi.h"
#include "runtime/cpu_features.h"
#include "runtime/interrupt.h"
#include "runtime/object_loader.h"
#include "python/src/gil.h"

namespace py = pybind11;
using namespace ember;

PYBIND11_MODULE(_jit, m) {
  m.doc() = "ember's LLVM JIT";
  // Types and the BuildError exception are ember._core's.
  // Leaked on purpose: a static py::object would be released after Python finalizes.
  static PyObject* build_error =
      py::object(py::module_::import("ember._core").attr("BuildError")).release().ptr();
  // This extension links its own copy of the runtime: the code it loads
  // reads ember._core's Ctrl-C flag, and is kept mapped at exit with _core's.
  runtime::share_interrupt_flag(reinterpret_cast<int32_t*>(
      py::module_::import("ember._core").attr("interrupt_flag_address")().cast<uintptr_t>()));
  m.def("keep_code_mapped", &runtime::keep_code_mapped);
  // Its own copy of the C++ loggers too (compiler/log.h; ember/logs.py).
  capture_logs();
  m.def("drain_logs", &drain_logs);
  m.def("set_log_level", &set_log_level, py::arg("level"));
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
  py::class_<codegen::Remark>(m, "Remark")
      .def_readonly("pass_name", &codegen::Remark::pass)
      .def_readonly("kind", &codegen::Remark::kind)
      .def_readonly("function", &codegen::Remark::function)
      .def_readonly("message", &codegen::Remark::message)
      .def_readonly("line", &codegen::Remark::line)
      .def_readonly("col", &codegen::Remark::col);
  py::class_<codegen::Inspection>(m, "Inspection")
      .def_readonly("llvm_ir", &codegen::Inspection::llvm_ir)
      .def_readonly("assembly", &codegen::Inspection::assembly)
      .def_readonly("remarks", &codegen::Inspection::remarks)
      .def_readonly("cpu", &codegen::Inspection::cpu)
      .def_readonly("lower_ms", &codegen::Inspection::lower_ms)
      .def_readonly("optimize_ms", &codegen::Inspection::optimize_ms)
      .def_readonly("codegen_ms", &codegen::Inspection::codegen_ms);
  m.def("inspection", &runtime::inspection, py::arg("kernel"), py::arg("cpu") = "",
        py::arg("debug") = true, py::call_guard<ember::ReleaseGil>());
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

  // The ahead-of-time tool (ember/aot.py; codegen/aot.h).
  py::class_<codegen::ObjectCode>(m, "ObjectCode")
      .def_property_readonly("elf", [](const codegen::ObjectCode& c) { return py::bytes(c.elf); })
      .def_readonly("cpu", &codegen::ObjectCode::cpu)
      .def_property_readonly("features",
                             [](const codegen::ObjectCode& c) { return runtime::isa_feature_text(c.features); });
  m.def("entry_symbols", &codegen::entry_symbols, py::arg("prefix"), py::arg("kernel"),
        py::arg("reduction"));
  m.attr("aot_entry_slots") = runtime::kAotEntrySlots;
  m.def("object_for", &runtime::object_for, py::arg("kernel"), py::arg("cpu"), py::arg("prefix"),
        py::call_guard<ember::ReleaseGil>());
  py::class_<codegen::GlueFunction>(m, "GlueFunction")
      .def(py::init<std::string, int32_t, int32_t, int32_t, std::vector<std::string>>(),
           py::arg("name"), py::arg("exp"), py::arg("isa"), py::arg("form"), py::arg("params"));
  m.def("glue_object",
        [](std::string stem, py::bytes table, std::vector<std::string> entries,
           std::vector<codegen::GlueFunction> functions) {
          return py::bytes(codegen::glue_object({stem, table, entries, functions}));
        });
  m.def("shared_support_object",
        [](const std::string& stem) { return py::bytes(codegen::shared_support_object(stem)); });
  m.def("link_shared", &codegen::link_shared, py::arg("inputs"), py::arg("output"),
        py::arg("exported"), py::call_guard<ember::ReleaseGil>());
  m.def("archive", [](const std::vector<std::pair<std::string, py::bytes>>& members) {
    std::vector<std::pair<std::string, std::string>> list(members.begin(), members.end());
    return py::bytes(codegen::archive(list));
  });
}
