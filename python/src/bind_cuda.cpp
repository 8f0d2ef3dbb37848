// ember._core's CUDA driver bindings (runtime/cuda_driver.h). Bindings only:
// host buffers are NumPy arrays the Python side made C-contiguous.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <vector>

#include "python/src/cuda_call.h"
#include "runtime/cuda_driver.h"
#include "python/src/gil.h"

namespace py = pybind11;
namespace cuda = ember::runtime::cuda;

namespace {

// The bytes of a C-contiguous NumPy array (ValueError otherwise).
std::pair<void*, size_t> host_bytes(const py::array& a) {
  if (!(a.flags() & py::array::c_style)) throw py::value_error("host array must be C-contiguous");
  return {const_cast<void*>(a.data()), static_cast<size_t>(a.nbytes())};
}

}  // namespace

void bind_cuda(py::module_& m) {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const cuda::CudaError& e) {
      const char* type_name = e.code == cuda::kOutOfMemory ? "CudaOutOfMemoryError" : "CudaError";
      py::object type = py::module_::import("ember.errors").attr(type_name);
      PyErr_SetObject(type.ptr(), type(e.what(), e.name, e.code).ptr());
    }
  });
  // The first of these loads and initializes the driver: seconds, sometimes.
  using Release = py::call_guard<ember::ReleaseGil>;
  m.def("cuda_available", &cuda::available, Release());
  m.def("cuda_unavailable_reason", &cuda::unavailable_reason, Release());
  m.def("cuda_device_count", &cuda::device_count, Release());
  m.def("cuda_device_info", [](int device) {
    cuda::DeviceInfo i;
    {
      ember::ReleaseGil release;
      i = cuda::device_info(device);
    }
    py::dict d;
    d["name"] = i.name;
    d["compute_capability"] = py::make_tuple(i.major, i.minor);
    d["multiprocessors"] = i.multiprocessors;
    d["total_memory"] = i.total_memory;
    d["driver_version"] = py::make_tuple(i.driver_version / 1000, i.driver_version % 1000 / 10);
    return d;
  });

  py::class_<cuda::DeviceMemory, std::shared_ptr<cuda::DeviceMemory>>(m, "DeviceMemory")
      .def(py::init<int, size_t>(), py::arg("device"), py::arg("bytes"), Release())
      .def_property_readonly("ptr", &cuda::DeviceMemory::ptr)
      .def_property_readonly("bytes", &cuda::DeviceMemory::bytes)
      .def_property_readonly("device", &cuda::DeviceMemory::device);
  m.def("cuda_copy_to_device", [](int device, cuda::DevicePtr dst, const py::array& src) {
    auto [data, bytes] = host_bytes(src);
    ember::ReleaseGil release;
    cuda::copy_to_device(device, dst, data, bytes);
  });
  // Waits for the device: Ctrl-C ends them (runtime/interrupt.h).
  m.def("cuda_copy_to_host", [](int device, py::array& dst, cuda::DevicePtr src) {
    auto [data, bytes] = host_bytes(dst);
    if (!dst.writeable()) throw py::value_error("host array is read-only");
    ember::CtrlC ctrl_c(true);
    ember::ReleaseGil release;
    cuda::copy_to_host(device, data, src, bytes);
  });
  m.def("cuda_copy_on_device", &cuda::copy_on_device, Release());
  m.def("cuda_zero", &cuda::zero, Release());
  m.def("cuda_synchronize", [](int device) {
    ember::CtrlC ctrl_c(true);
    ember::ReleaseGil release;
    cuda::synchronize(device);
  });
  m.def("cuda_synchronize_stream", [](int device, cuda::Stream s) {
    ember::CtrlC ctrl_c(true);
    ember::ReleaseGil release;
    cuda::synchronize_stream(device, s);
  });
  m.def("cuda_device_of", &cuda::device_of, Release());

  py::class_<cuda::Module, std::shared_ptr<cuda::Module>>(m, "CudaModule")
      .def(py::init<int, const std::string&, const std::vector<std::string>&, int>(),
           py::arg("device"), py::arg("ptx"), py::arg("entries"), py::arg("block") = 0, Release())
      .def("launch",
           [](const cuda::Module& module, int64_t threads, const py::bytes& params,
              size_t entry, cuda::Stream stream) {
             std::string_view raw = params;
             if (raw.size() % 8) throw py::value_error("parameters must be 8-byte slots");
             std::vector<uint64_t> slots(raw.size() / 8);
             std::memcpy(slots.data(), raw.data(), raw.size());
             ember::ReleaseGil release;
             module.launch(entry, threads, slots, stream);
           },
           py::arg("threads"), py::arg("params"), py::arg("entry") = 0, py::arg("stream") = 0)
      .def_property_readonly("device", &cuda::Module::device)
      .def("block_size", &cuda::Module::block_size, py::arg("entry") = 0)
      .def("max_grid", &cuda::Module::max_grid, py::arg("entry") = 0);

  py::class_<ember::CudaCall>(m, "CudaCall")
      .def(py::init<int, py::type, py::function>(), py::arg("nargs"), py::arg("device_array"),
           py::arg("make_result"))
      .def("call", &ember::CudaCall::call, py::arg("args"), py::arg("out"))
      .def("add", &ember::CudaCall::add, py::arg("args"), py::arg("kernel"), py::arg("module"),
           py::arg("result"))
      .def("__len__", &ember::CudaCall::size);
}
