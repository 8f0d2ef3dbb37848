// The ABI between an ahead-of-time library's generated glue (codegen/aot.cpp
// emits it) and ember's runtime linked into the library (aot_library.cpp).
// The C functions a library exports (pricing.h) are glue: each stores its
// arguments in slots and calls ember_aot_invoke with the export's index.
#pragma once

#include <cstdint>
#include <vector>

#include "codegen/codegen.h"
#include "ir/ir.h"

namespace ember::runtime {

// Entry points per export per ISA in ember_aot_library::entries: codegen's
// entry_symbols() order (contig or kernel, then init, reduce, merge, finish).
inline constexpr int kAotEntrySlots = 5;

// The C forms of an export: a map's or reduce's contiguous arrays of n
// elements (a kernel has only this form), or ember_aot_array views of any
// strides that broadcast. A GPU export's one form takes device pointers and
// a stream (aot_cuda.h).
inline constexpr int32_t kAotContiguous = 0, kAotStrided = 1, kAotGpu = 2;

// Return codes of every export (pricing.h documents them).
enum AotStatus : int32_t {
  kAotOk = 0,
  kAotInvalid = 1,   // a bad argument: negative size, null pointer, wrong rank or stride
  kAotIndex = 2,     // an index out of range (a kernel built with boundscheck=True)
  kAotMemory = 3,    // out of memory
  kAotIsa = 4,       // no ISA of the library runs here, or EMBER_ISA names one that cannot
  kAotInternal = 5,  // a bug in ember: please report it
  kAotCuda = 6,      // the CUDA driver failed (no driver or device, a launch error)
};

}  // namespace ember::runtime

extern "C" {

// One per library, written by the glue. `table`: write_artifact() fields
// describing the library (aot_library.cpp lists them); `entries`: for ISA
// i, export e, slot s: entries[(i * exports + e) * kAotEntrySlots + s], null
// where an export has no such entry; `state`: the runtime's, null at first.
struct ember_aot_library {
  const char* table;
  int64_t table_size;
  void* const* entries;
  void* state;
  // The index (in the table's "isas") of the ISA the library runs, chosen
  // once: the one with most features this CPU has, or EMBER_ISA's; -1 when
  // none can run (ember_aot_last_error says why). For ember.load.
  int32_t (*select)(ember_aot_library* lib);
};

// A @kernel's array argument (pricing.h declares it as ember_array).
struct ember_aot_array {
  void* data;
  int64_t ndim;
  int64_t shape[4];
  int64_t strides[4];  // in bytes
};

// Runs export `exp` with the ISA of index `isa` (-1: the selected one) in
// C form `form` (kAotContiguous or kAotStrided; aot_library.cpp). argv[k]
// points to the k-th argument of the C function.
int32_t ember_aot_invoke(ember_aot_library* lib, int32_t exp, int32_t isa, int32_t form,
                         void* const* argv);
int32_t ember_aot_set_num_threads(ember_aot_library* lib, int32_t n);
const char* ember_aot_info(ember_aot_library* lib);
// The message of the calling thread's last failed call ("" after none).
const char* ember_aot_last_error(ember_aot_library* lib);
// ember_aot_library::select.
int32_t ember_aot_select(ember_aot_library* lib);
}

namespace ember::runtime {

// Argument k of a C function's slots (ember_aot_invoke's argv).
template <typename T>
T aot_arg(void* const* argv, size_t k) {
  return *static_cast<const T*>(argv[k]);
}

// The entry points of export `e` (of `exports`) for ISA `isa`.
inline void* const* aot_entries(const ember_aot_library* lib, int isa, int exports, int e) {
  return lib->entries + (static_cast<size_t>(isa) * exports + e) * kAotEntrySlots;
}

// A @kernel's domain: argv's first `rank` arguments; std::invalid_argument
// for a negative extent (aot_library.cpp).
std::vector<int64_t> aot_domain(void* const* argv, int rank);
// A @kernel's array argument `a` for parameter `param`, as the kernel takes
// it (strides in elements); std::invalid_argument for a null pointer, another
// rank, a negative extent, a stride that is not a multiple of the itemsize,
// or null data with elements (aot_library.cpp).
codegen::ArrayArg aot_array(const ember_aot_array* a, const ir::Variable& param);

}  // namespace ember::runtime
