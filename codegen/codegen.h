// Public face of codegen: Strict IR in, a native entry point (or text) out.
// No LLVM type appears here, so only codegen/*.cpp pay for LLVM's headers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ir/ir.h"

namespace ember::codegen {

// How each parameter of an elementwise kernel is passed: a single value read
// once (`scalar`, a 0-d array or a Python number) or an array walked by the
// loop. For a @kernel: which array parameters have unit stride in their last
// dimension (compiled as a constant, so that the inner loop vectorizes
// without versioning). `strided`: the GPU entry of an elementwise or reduce
// kernel takes byte strides for that many axes (codegen.h, CUDA); 0 for
// contiguous arrays. Part of a specialization's key.
struct Layout {
  std::vector<bool> scalar;       // one per parameter (elementwise)
  std::vector<bool> unit_stride;  // one per parameter, or empty (@kernel)
  int strided = 0;                // GPU elementwise and reduce
  bool operator==(const Layout&) const = default;
};

// A @reduce kernel: the elementwise map's results are combined with `op`
// (Add, Mul, Minimum or Maximum) into a value of type `acc`.
struct Reduction {
  ir::Op op;
  ir::Scalar acc;
  bool operator==(const Reduction&) const = default;
};

struct Options {
  bool fastmath = false;
  std::optional<Reduction> reduction;  // a reduce kernel when set
  bool boundscheck = false;            // a @kernel: check every index
};

// The entry point of one elementwise kernel. `ptrs` holds one data pointer
// per parameter, then the output's; for k = 0 .. n-1 it computes element k of
// every array (at ptr + k * itemsize), reading scalar-layout parameters once
// from their pointer. Strided operands are the runtime's business (it
// gathers them into contiguous blocks), so only one loop is compiled.
using ContigFn = void (*)(void* const* ptrs, int64_t n);

// A reduction folds values into a state of kReduceLanes accumulators (plus
// as many compensation terms for float sums). A call over n elements takes
// its first f = n - n % kReduceLanes in groups of kReduceLanes. When f / S
// elements of the mapped type fill kReduceStreamBytes, group t reads S =
// kReduceLanes / G streams side by side, combining element s * f / S + t * G
// + j into lane s * G + j (G: the lanes of a 64-byte cache line of the
// mapped type, between 4 and kReduceLanes); otherwise group t is elements
// t * kReduceLanes + l, into lane l. The last n % kReduceLanes go to lanes
// 0, 1, ... Several streams keep more memory reads in flight per core than
// one: norms of 80 KB rows, 15% faster; a dot of 10^7 float64, 5% faster
// with two streams of a cache line than with four of half a line (Intel
// AVX-512 host, one and two threads); shorter ones read best as one stream
// (the next row continues it). The order of every operation is fixed, so a
// result depends only on how the runtime cuts the input into calls (and, for
// math functions, on the ISA of their SIMD variants), never on the thread
// count. Float sums are compensated (each lane keeps the exact rounding error
// of its additions, Knuth's TwoSum, and float32 sums add in float64), so they
// are more accurate than NumPy's pairwise sums. With Options::fastmath they are plain lane sums (still in a
// fixed order).
inline constexpr int kReduceLanes = 16;
inline constexpr int kReduceStateBytes = 2 * kReduceLanes * 8;
inline constexpr int kReduceStreamBytes = 16384;

struct ReduceFns {
  void (*init)(void* state);  // the identity
  // Maps n elements (`ptrs` as for ContigFn, without the output) and combines
  // the results into `state`.
  void (*reduce)(void* const* ptrs, int64_t n, void* state);
  void (*merge)(void* state, const void* other);  // state = state (op) other
  void (*finish)(const void* state, void* out);   // one value of type acc
};

// How a @kernel receives an array parameter: strides in elements (the
// runtime refuses arrays whose strides are not multiples of the itemsize).
inline constexpr int kMaxArrayDims = 4;
struct ArrayArg {
  void* data;
  int64_t shape[kMaxArrayDims];
  int64_t strides[kMaxArrayDims];
};

// Where a kernel run with bounds checks stopped: the array parameter, the
// axis, the index as written and the source line. An index that was a uint64
// value (to be shown unsigned: 2**64 - 1, not -1) has kUnsignedIndex set in
// `axis`.
struct KernelError {
  int64_t param, axis, index, line;
};
inline constexpr int64_t kUnsignedIndex = int64_t{1} << 32;

// Whether index expression `e` (int64, as the builder makes indices) is a
// uint64 value: it does not count from the end, and 2**63 and up are out of
// range.
inline bool unsigned_index(const ir::Expr& e) {
  return e.op == ir::Op::Cast && e.args[0]->type.scalar == ir::Scalar::U64;
}

// A @kernel over the box lo <= index < hi of its domain (one bound per
// domain dimension, the last one innermost). args[i] points to parameter i:
// its value for a scalar, an ArrayArg for an array. Returns 0, or 1 after an
// out-of-range index with bounds checks on (`error` says which; nothing was
// written through it).
using KernelFn = int32_t (*)(void* const* args, const int64_t* lo, const int64_t* hi,
                             KernelError* error);

struct Entry {
  ContigFn contig = nullptr;  // an elementwise or reduce function
  ReduceFns reduce{};         // set for a reduce kernel
  KernelFn kernel = nullptr;  // set for a @kernel
};

// The entry point symbols of a module lowered with `prefix`: "_kernel" for a
// @kernel, else "_contig", then a reduction's "_init", "_reduce", "_merge",
// "_finish" (Entry's order).
inline std::vector<std::string> entry_symbols(const std::string& prefix, bool kernel,
                                              bool reduction) {
  if (kernel) return {prefix + "_kernel"};
  std::vector<std::string> names = {prefix + "_contig"};
  if (reduction)
    for (const char* suffix : {"_init", "_reduce", "_merge", "_finish"}) names.push_back(prefix + suffix);
  return names;
}

// Relocatable object code of one specialization for the host CPU: ELF,
// position-independent, small code model (runtime/object_loader.h maps it;
// the ahead-of-time tool links it).
struct ObjectCode {
  std::string elf;
  std::string triple;                 // e.g. "x86_64-pc-linux-gnu"
  std::string cpu;                    // LLVM's name of the CPU it is tuned for
  std::vector<std::string> features;  // every target feature enabled (LLVM's names)
  int vector_bits = 0;                // the widest vector registers it uses (0: scalar code)
};

// Compiles `fn` (Strict level) for the host CPU: a @kernel (fn.is_kernel();
// `layout` unused) or an elementwise function, with entry points named
// entry_symbols(prefix, ...). Thread-safe. Throws std::runtime_error on an
// internal LLVM failure. EMBER_TEST_HIDE_FEATURES=avx512f,... compiles as
// for a CPU without those features (runtime/cpu_features.h hides them too).
// With `cpu` (LLVM's -mcpu names: x86-64-v3, znver4), for that CPU of the
// host's architecture instead (the ahead-of-time tool); an unknown or 32-bit
// one throws std::invalid_argument.
ObjectCode compile_object(const ir::Function& fn, const Layout& layout, const Options& options,
                          const std::string& prefix, const std::string& cpu = "");

// How many modules this process has optimized and turned into machine code
// (compile_object and the inspection texts): a cache hit adds none.
int64_t codegen_runs();

// Texts for inspection (each compiles afresh; not on any hot path), for the
// host CPU or, when `cpu` names one (LLVM's -mcpu names: znver4,
// skylake-avx512), for that CPU of the host's architecture; an unknown name
// throws std::invalid_argument.
std::string llvm_ir(const ir::Function& fn, const Layout& layout, const Options& options,
                    const std::string& cpu = "");
std::string assembly(const ir::Function& fn, const Layout& layout, const Options& options,
                     const std::string& cpu = "");

// One of LLVM's optimization remarks (loop-vectorize, slp-vectorizer,
// loop-unroll, inline, licm, gvn, ...) about the code of a Python line
// (0 when LLVM knows none).
struct Remark {
  std::string pass;
  std::string kind;  // "passed", "missed" or "analysis"
  std::string function;
  std::string message;
  int line = 0, col = 0;
};

// What a report shows of one specialization's host code (ember/report.py):
// the module compiled as inspection texts are, with debug locations (the
// Python line and column of every instruction: the assembly has .loc
// lines), LLVM's remarks, and the time of each stage.
struct Inspection {
  std::string llvm_ir, assembly;
  std::vector<Remark> remarks;
  std::string cpu;  // LLVM's name of the CPU compiled for
  double lower_ms = 0, optimize_ms = 0, codegen_ms = 0;
};
// `debug` false: the same without debug locations (what they cost).
Inspection inspection(const ir::Function& fn, const Layout& layout, const Options& options,
                      const std::string& cpu = "", bool debug = true);

// The host CPU as LLVM sees it, e.g. "znver4 (+avx2,+avx512f,...)".
std::string host_cpu();

// --- CUDA (codegen/ptx.cpp) ----------------------------------------------------------------
//
// One PTX module per specialization, with one kernel, `entry`, to launch
// with any grid (a grid-stride loop covers every index). Its parameters, by
// value in cuLaunchKernel's order:
// - elementwise: each parameter (a pointer to n contiguous elements, or the
//   value itself for a scalar-layout one), the output pointer, int64 n.
//   With Layout::strided = d > 0, each array pointer (the output's too) is
//   followed by its d int64 byte strides, and n by the d int64 extents;
//   element k is the row-major position k in the extents (any stride,
//   0 for a broadcast axis, negative ones too).
// - @kernel: each parameter (a scalar's value; an array's data pointer, its
//   int64 shape, then its int64 strides in elements), the int64 extents of
//   the domain, then a GpuKernelError* (zeroed before the launch).
// - @reduce: three kernels, all launched with blocks of exactly
//   kGpuReduceBlock threads (the PTX requires it) and any grid:
//   `entry` (each parameter as for elementwise, partials*, the d extents
//   when strided, int64 segment, int64 pieces, int64 tiles) reduces
//   segments of `segment` elements, each cut in `pieces` tiles of up to
//   kGpuReduceTile: tile t (piece t % pieces of segment t / pieces) into
//   partial t, for t < tiles (an empty tile gives the identity). A whole
//   reduction is one segment of n; a reduction over some axes puts them
//   last and has one segment (their product) per result.
//   `entry`_merge (in*, out*, int64 segment, int64 pieces, int64 tiles)
//   does the same over partials: the host merges each result's pieces
//   until one is left; `entry`_finish (in*, results*, int64 m) writes each
//   of m partials' values as the accumulator dtype. Every combine happens
//   in an order fixed by the segment length alone (lower_gpu_reduce.cpp),
//   so the result does not depend on the grid.
// Math functions come from libdevice (the CUDA toolkit's bitcode library),
// linked into the module; without a toolkit, kernels that call one fail to
// compile with a message saying so.
inline constexpr int kGpuReduceBlock = 256;
inline constexpr int kGpuReduceTile = 16 * kGpuReduceBlock;
inline constexpr int kGpuPartialBytes = 16;  // the value, then its compensation

struct GpuKernelError {
  int64_t failed;  // 1 once a thread has written `error`
  KernelError error;
};

struct PtxCode {
  std::string ptx;
  std::string entry;
  std::string arch;  // e.g. "sm_90"
};

// `arch`: "sm_NN"; empty for the newest the NVPTX backend knows. Throws
// std::invalid_argument for an architecture LLVM does not know, and
// std::runtime_error when a math function needs libdevice and none is found.
PtxCode ptx(const ir::Function& fn, const Layout& layout, const Options& options,
            const std::string& arch);
// The GPU module's optimized LLVM IR (libdevice linked in), for inspection.
std::string gpu_llvm_ir(const ir::Function& fn, const Layout& layout, const Options& options,
                        const std::string& arch);
// The architectures ember can target, oldest first ("sm_30", ...: those of
// the NVPTX backend that have warp shuffles),
// and the newest plain one ("sm_90", not "sm_90a"): ptx()'s default.
std::vector<std::string> gpu_archs();
std::string newest_gpu_arch();
// Where libdevice was found ("" when it was not): $EMBER_LIBDEVICE, then
// $CUDA_HOME / $CUDA_PATH, /usr/local/cuda, Debian's nvidia-cuda-toolkit.
std::string libdevice_path();

}  // namespace ember::codegen
