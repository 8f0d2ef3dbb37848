// ember._core's CUDA driver bindings (runtime/cuda_driver.h). Bindings only.
#include <pybind11/pybind11.h>

#include "runtime/cuda_driver.h"

namespace py = pybind11;
namespace cuda = ember::runtime::cuda;

void bind_cuda(py::module_& m) {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const cuda::CudaError& e) {
      py::object type = py::module_::import("ember.errors").attr("CudaError");
      PyErr_SetObject(type.ptr(), type(e.what(), e.name, e.code).ptr());
    }
  });
  m.def("cuda_available", &cuda::available);
  m.def("cuda_unavailable_reason", &cuda::unavailable_reason);
  m.def("cuda_device_count", &cuda::device_count);
  m.def("cuda_device_info", [](int device) {
    cuda::DeviceInfo i = cuda::device_info(device);
    py::dict d;
    d["name"] = i.name;
    d["compute_capability"] = py::make_tuple(i.major, i.minor);
    d["multiprocessors"] = i.multiprocessors;
    d["total_memory"] = i.total_memory;
    d["driver_version"] = py::make_tuple(i.driver_version / 1000, i.driver_version % 1000 / 10);
    return d;
  });
}
