// The ember._core extension module: registers every binding file and maps
// C++ exceptions to Python ones.
#include <pybind11/pybind11.h>

#include "ir/ir.h"
#include "ir/parser.h"
#include "runtime/artifact.h"
#include "runtime/interrupt.h"
#include "python/src/output_memory.h"

namespace py = pybind11;

void bind_ir(py::module_& m);
void bind_kernel(py::module_& m);
void bind_cuda(py::module_& m);
void bind_dlpack(py::module_& m);
void bind_artifact(py::module_& m);

PYBIND11_MODULE(_core, m) {
  m.doc() = "ember's C++ core: IR builder, compiler and JIT";
  static py::exception<ember::ir::CompileError> build_error(m, "BuildError");
  // An artifact that cannot be used (damaged, foreign): the cache's miss.
  // IncompatibleArtifact: sound, but compiled for another CPU.
  static py::exception<ember::runtime::ArtifactError> artifact_error(m, "ArtifactError",
                                                                     PyExc_ValueError);
  static PyObject* incompatible =  // leaked on purpose, as build_error
      PyErr_NewException("ember._core.IncompatibleArtifact", artifact_error.ptr(), nullptr);
  m.attr("IncompatibleArtifact") = py::handle(incompatible);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ember::ir::CompileError& e) {
      py::object args = py::make_tuple(e.what(), e.loc.line, e.loc.col);
      PyErr_SetObject(build_error.ptr(), args.ptr());
    } catch (const ember::runtime::ArtifactError& e) {
      PyErr_SetString(e.incompatible ? incompatible : artifact_error.ptr(), e.what());
    } catch (const ember::ir::ParseError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const ember::runtime::Interrupted&) {
      // The exception the SIGINT handler raises (KeyboardInterrupt), or
      // KeyboardInterrupt when it raised none: the stopped work has no result.
      if (PyErr_CheckSignals() == 0) PyErr_SetNone(PyExc_KeyboardInterrupt);
    }
  });
  ember::init_output_memory();
  bind_ir(m);
  bind_kernel(m);
  bind_cuda(m);
  bind_dlpack(m);
  bind_artifact(m);
}
