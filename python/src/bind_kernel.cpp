// Bindings of compiled kernels, the @vectorize dispatcher and the
// interpreter (no logic here).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "compiler/log.h"
#include "compiler/passes.h"
#include "ir/interpreter.h"
#include "ir/printer.h"
#include "python/src/convert.h"
#include "python/src/dispatcher.h"
#include "python/src/launcher.h"
#include "runtime/buffer_pool.h"
#include "runtime/fold.h"
#include "python/src/gil.h"
#include "runtime/kernel.h"
#include "runtime/object_loader.h"
#include "runtime/run_kernel.h"
#include "runtime/thread_pool.h"

namespace py = pybind11;
using namespace ember;

void bind_kernel(py::module_& m) {
  py::class_<runtime::Kernel, std::shared_ptr<runtime::Kernel>>(m, "Kernel")
      .def_property_readonly("result_dtype",
                             [](const runtime::Kernel& k) { return py_dtype_name(k.optimized.result); })
      .def_property_readonly("output_dtype",
                             [](const runtime::Kernel& k) {
                               return std::string(ir::numpy_name(k.result_scalar()));
                             })
      .def("ir", &runtime::Kernel::ir_text)
      .def("source_ir", &runtime::Kernel::source_ir_text)
      .def_property_readonly("source", &runtime::Kernel::source_function)
      // What the GPU call path (python/ember/gpu.py) checks and reports with
      // the CPU path's code.
      .def_property_readonly("has_weak_ints",
                             [](const runtime::Kernel& k) { return !k.weak_int_uses.empty(); })
      .def("check_weak_ints",
           [](const runtime::Kernel& k, const py::tuple& args) {
             for (const runtime::WeakIntUse& use : k.weak_int_uses) {
               PyObject* arg = PyTuple_GET_ITEM(args.ptr(), use.param);
               int64_t bits = 0;
               bool is_unsigned = false;
               read_python_int(arg, &bits, &is_unsigned);  // in range: the caller read it
               check_weak_int(use, bits, is_unsigned, arg);
             }
           })
      .def_readonly("written", &runtime::Kernel::written)
      .def_readonly("key", &runtime::Kernel::key)
      .def_property_readonly("specialization", &runtime::specialization_of)
      .def_property_readonly("texts", &runtime::kernel_texts)
      .def_readonly("origin", &runtime::Kernel::origin)
      .def_readonly("passes_ms", &runtime::Kernel::passes_ms)
      .def_readonly("codegen_ms", &runtime::Kernel::codegen_ms)
      .def_readonly("vector_bits", &runtime::Kernel::vector_bits)
      .def_property_readonly("artifact",
                             [](const runtime::Kernel& k) { return py::bytes(k.artifact); })
      .def("index_error",
           [](const runtime::Kernel& k, int64_t param, int64_t axis, int64_t index,
              const std::vector<int64_t>& shape, int64_t line) {
             return std::string(
                 runtime::kernel_index_error(k, {param, axis, index, line}, shape).what());
           });

  m.def("interpret",
        [](const ir::Function& fn, const py::sequence& args) {
          ir::Function strict = compiler::promote(fn);
          if (args.size() != strict.params.size())
            throw py::type_error("interpret: wrong number of arguments");
          std::vector<ir::Literal> values;
          for (size_t i = 0; i < args.size(); ++i)
            values.push_back(to_literal(args[i], strict.params[i].type));
          return from_literal(ir::interpret(strict, values), strict.result);
        });

  // numpy.ufunc.reduce/accumulate (protocol.py checks the arrays: C-contiguous,
  // the kernel's dtypes, `in` of n x m items, `out` of m or n x m).
  m.def("fold", [](const runtime::Kernel& kernel, const py::array& in, py::array& out, int64_t n,
                   int64_t m, int64_t first, bool accumulate) {
    const char* items = static_cast<const char*>(in.data());
    char* acc = static_cast<char*>(out.mutable_data());
    ember::CtrlC ctrl_c(n * m >= ember::kLongCall);
    ember::ReleaseGil release;
    runtime::fold(kernel, items, n, m, acc, first, accumulate);
  });

  // The C++ loggers, for ember/logs.py (compiler/log.h).
  m.def("capture_logs", &capture_logs);
  m.def("drain_logs", &drain_logs);
  m.def("set_log_level", &set_log_level, py::arg("level"));
  // A Python subclass of Dispatcher reaches __call__ through a bound method
  // and pybind11's argument parsing; pointing its tp_call slot straight at
  // the dispatcher removes that overhead from every call.
  m.def("install_fast_call", [](py::type cls) {
    if (!PyType_IsSubtype(reinterpret_cast<PyTypeObject*>(cls.ptr()),
                          reinterpret_cast<PyTypeObject*>(py::type::of<Dispatcher>().ptr())))
      throw py::type_error("install_fast_call needs a Dispatcher subclass");
    reinterpret_cast<PyTypeObject*>(cls.ptr())->tp_call = &Dispatcher::tp_call;
    PyType_Modified(reinterpret_cast<PyTypeObject*>(cls.ptr()));
  });
  m.def("pool_cached_bytes", &runtime::pool_cached_bytes);
  m.def("keep_code_mapped", &runtime::keep_code_mapped);
  m.def("interrupt_flag_address",
        [] { return reinterpret_cast<uintptr_t>(runtime::interrupt_flag()); });
  m.def("set_num_threads", &runtime::set_num_threads);
  m.def("get_num_threads", &runtime::num_threads);

  py::class_<Dispatcher>(m, "Dispatcher")
      .def(py::init<std::string, int, py::function, bool>(), py::arg("name"), py::arg("nargs"),
           py::arg("compile"), py::arg("reduce") = false)
      .def("__call__",
           [](Dispatcher& d, const py::args& args, const py::kwargs& kwargs) {
             return d.call(args.ptr(), kwargs.ptr());
           })
      .def("specialize",
           [](py::handle self, const py::list& types) {
             require_initialized(self.ptr());
             return self.cast<Dispatcher&>().specialize(types);
           })
      .def_static("reduced_axes", &Dispatcher::reduced_axes, py::arg("axis"), py::arg("ndim"))
      .def("__len__", [](py::handle self) {
        require_initialized(self.ptr());
        return self.cast<Dispatcher&>().size();
      });

  py::class_<Launcher>(m, "Launcher")
      .def(py::init<std::string, int, py::function>(), py::arg("name"), py::arg("nargs"),
           py::arg("compile"))
      .def("launch",
           [](py::handle self, py::handle domain, const py::tuple& args) {
             require_initialized(self.ptr());
             self.cast<Launcher&>().launch(domain, args);
           },
           py::arg("domain"), py::arg("args"))
      .def("arg_types",
           [](py::handle self, py::handle domain, const py::tuple& args) {
             require_initialized(self.ptr());
             return self.cast<Launcher&>().arg_types(domain, args);
           },
           py::arg("domain"), py::arg("args"))
      .def("__len__", [](py::handle self) {
        require_initialized(self.ptr());
        return self.cast<Launcher&>().size();
      });
  m.def("read_domain", &read_domain, py::arg("domain"));
  m.def("interpret_kernel", &interpret_kernel, py::arg("fn"), py::arg("domain"), py::arg("args"));
}
