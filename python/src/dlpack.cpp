// DLPack in and out (the capsule protocol of dlpack.h, version 0.8, "dltensor"):
// structs declared here from the specification, no dlpack header needed.
// Bindings only: reading and writing the C structs.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace py = pybind11;

namespace {

struct DLDevice {
  int32_t device_type, device_id;
};
struct DLDataType {
  uint8_t code, bits;
  uint16_t lanes;
};
struct DLTensor {
  void* data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;
  int64_t* strides;  // in elements; null: C-contiguous
  uint64_t byte_offset;
};
struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(DLManagedTensor* self);
};

// What ember exports: the tensor, its shape and strides, and a reference to
// the Python object that owns the memory.
struct Export {
  DLManagedTensor managed;
  std::vector<int64_t> shape, strides;
  PyObject* owner;
};

void delete_export(DLManagedTensor* m) {
  auto* e = static_cast<Export*>(m->manager_ctx);
  py::gil_scoped_acquire gil;  // consumers may call this from any thread
  Py_DECREF(e->owner);
  delete e;
}

}  // namespace

void bind_dlpack(py::module_& m) {
  // A consumed "dltensor" capsule: (owner whose release calls the producer's
  // deleter, data address, shape, strides or None, dtype code, bits, device).
  m.def("dlpack_import", [](py::capsule capsule) {
    auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule.ptr(), "dltensor"));
    if (!managed) throw py::error_already_set();  // used already, or not DLPack
    PyCapsule_SetName(capsule.ptr(), "used_dltensor");
    py::capsule owner(managed, [](void* p) {
      auto* t = static_cast<DLManagedTensor*>(p);
      if (t->deleter) t->deleter(t);
    });
    const DLTensor& t = managed->dl_tensor;
    if (t.dtype.lanes != 1) throw py::type_error("vector DLPack dtypes are not supported");
    std::vector<int64_t> shape(t.shape, t.shape + t.ndim);
    std::optional<std::vector<int64_t>> strides;
    if (t.strides) strides.emplace(t.strides, t.strides + t.ndim);
    auto address = reinterpret_cast<uintptr_t>(t.data) + t.byte_offset;
    return py::make_tuple(owner, address, shape, strides, t.dtype.code, t.dtype.bits,
                          t.device.device_id);
  });
  // A "dltensor" capsule for CUDA memory owned by `owner` (kept alive until
  // the consumer calls the deleter). Strides in elements.
  m.def("dlpack_export", [](py::object owner, uintptr_t address, std::vector<int64_t> shape,
                            std::vector<int64_t> strides, uint8_t code, uint8_t bits, int device) {
    auto* e = new Export{{}, std::move(shape), std::move(strides), owner.release().ptr()};
    DLTensor& t = e->managed.dl_tensor;
    t.data = reinterpret_cast<void*>(address);
    t.device = {2, device};  // kDLCUDA
    t.ndim = static_cast<int32_t>(e->shape.size());
    t.dtype = {code, bits, 1};
    t.shape = e->shape.data();
    t.strides = e->strides.data();
    e->managed.manager_ctx = e;
    e->managed.deleter = delete_export;
    // Never consumed: the capsule's destructor releases it.
    PyObject* capsule = PyCapsule_New(&e->managed, "dltensor", [](PyObject* c) {
      if (!PyCapsule_IsValid(c, "dltensor")) return;  // a consumer took it
      auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(c, "dltensor"));
      m->deleter(m);
    });
    if (!capsule) {
      delete_export(&e->managed);
      throw py::error_already_set();
    }
    return py::reinterpret_steal<py::object>(capsule);
  });
}
