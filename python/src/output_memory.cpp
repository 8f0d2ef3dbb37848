// The NEP 49 memory handler that routes kernel outputs through the block cache.
#define PY_ARRAY_UNIQUE_SYMBOL ember_ARRAY_API
#define NPY_NO_DEPRECATED_API NPY_2_0_API_VERSION
#include "python/src/output_memory.h"

#include <numpy/arrayobject.h>

#include <cstdlib>
#include <optional>
#include <cstring>

#include "runtime/buffer_pool.h"

namespace py = pybind11;

namespace ember {
namespace {

void* pool_malloc(void*, size_t size) { return runtime::pool_acquire(size); }
void* pool_calloc(void*, size_t n, size_t size) { return std::calloc(n, size); }
void* pool_realloc(void*, void* p, size_t size) { return std::realloc(p, size); }
void pool_free(void*, void* p, size_t size) { runtime::pool_release(p, size); }

PyDataMem_Handler handler = {
    "ember_output_pool", 1, {nullptr, pool_malloc, pool_calloc, pool_realloc, pool_free}};

PyObject* handler_capsule = nullptr;

}  // namespace

void init_output_memory() {
  if (_import_array() < 0) throw py::error_already_set();
  handler_capsule = PyCapsule_New(&handler, "mem_handler", nullptr);
  if (!handler_capsule) throw py::error_already_set();
}

py::array new_output(const py::dtype& dtype, const runtime::Shape& shape, bool fortran) {
  npy_intp dims[runtime::kMaxDims];
  std::copy(shape.dims, shape.dims + shape.ndim, dims);
  auto make = [&] {
    PyObject* descr = py::dtype(dtype).release().ptr();  // stolen by the call
    return PyArray_NewFromDescr(&PyArray_Type, reinterpret_cast<PyArray_Descr*>(descr),
                                shape.ndim, dims, nullptr, nullptr,
                                fortran ? NPY_ARRAY_F_CONTIGUOUS : 0, nullptr);
  };
  if (static_cast<size_t>(shape.size()) * dtype.itemsize() < runtime::kPoolMinBytes) {
    // Small: NumPy's own allocator (and its small-block cache) is faster.
    PyObject* a = make();
    if (!a) throw py::error_already_set();
    return py::reinterpret_steal<py::array>(a);
  }
  // The handler is per context (a contextvar): set it around this allocation only.
  PyObject* previous = PyDataMem_SetHandler(handler_capsule);
  if (!previous) throw py::error_already_set();
  py::object a = py::reinterpret_steal<py::object>(make());
  std::optional<py::error_already_set> failure;  // fetched so that it survives the restore
  if (!a) failure.emplace();
  PyObject* restored = PyDataMem_SetHandler(previous);
  Py_DECREF(previous);
  if (!restored) throw py::error_already_set();
  Py_DECREF(restored);
  if (failure) throw *failure;
  return py::reinterpret_steal<py::array>(a.release());
}

}  // namespace ember
