// Bindings of compiled artifacts: specializations, their keys, loading
// (runtime/artifact.h), the host's CPU features and ahead-of-time libraries
// (runtime/linked_library.h). No logic here.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "runtime/artifact.h"
#include "runtime/cpu_features.h"
#include "runtime/kernel.h"
#include "runtime/linked_library.h"
#include "python/src/gil.h"

namespace py = pybind11;
using namespace ember;

void bind_artifact(py::module_& m) {
  py::class_<runtime::Specialization>(m, "Specialization")
      .def_property_readonly("key", &runtime::Specialization::key)
      .def("spec_text", &runtime::Specialization::spec_text);
  m.def("elementwise_specialization", &runtime::elementwise_specialization, py::arg("fn"),
        py::arg("scalar_layout"), py::arg("fastmath") = false, py::arg("combine") = "");
  m.def("kernel_specialization", &runtime::kernel_specialization, py::arg("fn"),
        py::arg("boundscheck") = false, py::arg("fastmath") = false,
        py::arg("unit_stride") = std::vector<bool>{});
  m.def(
      "load_artifact",
      [](const runtime::Specialization& spec, const py::bytes& data) {
        std::string_view bytes = data;
        ReleaseGil release;
        return std::const_pointer_cast<runtime::Kernel>(runtime::load(spec, bytes));
      },
      py::arg("spec"), py::arg("data"));
  m.def(
      "load_artifact_by_key",
      [](const py::bytes& data, const std::string& key, const std::string& file) {
        std::string_view bytes = data;
        ReleaseGil release;
        return std::const_pointer_cast<runtime::Kernel>(runtime::load(bytes, key, file));
      },
      py::arg("data"), py::arg("key"), py::arg("file"));
  m.def(
      "read_artifact",
      [](const py::bytes& data, const std::string& key) {
        py::dict fields;
        for (const auto& [name, value] : runtime::read_artifact(std::string_view(data), key))
          fields[py::str(name)] = py::bytes(value);
        return fields;
      },
      py::arg("data"), py::arg("key") = "");
  m.def("write_artifact", [](const std::map<std::string, std::string>& fields) {
    return py::bytes(runtime::write_artifact(fields));
  });
  m.def("versions", &runtime::versions);
  m.def("open_library", [](const std::string& path) {
    runtime::LinkedLibrary lib = runtime::open_library(path);
    std::vector<std::shared_ptr<runtime::Kernel>> kernels;
    for (const auto& k : lib.kernels) kernels.push_back(std::const_pointer_cast<runtime::Kernel>(k));
    return py::make_tuple(lib.fields, lib.isa, kernels);
  }, py::arg("path"));
  m.def("host_features", &runtime::host_features);
  m.def("incompatibility", &runtime::incompatibility, py::arg("features"));
}
