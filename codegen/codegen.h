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
// loop. Part of a specialization's key.
struct Layout {
  std::vector<bool> scalar;  // one per parameter
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
};

// The entry point of one elementwise kernel. `ptrs` holds one data pointer
// per parameter, then the output's; for k = 0 .. n-1 it computes element k of
// every array (at ptr + k * itemsize), reading scalar-layout parameters once
// from their pointer. Strided operands are the runtime's business (it
// gathers them into contiguous blocks), so only one loop is compiled.
using ContigFn = void (*)(void* const* ptrs, int64_t n);

// A reduction folds values into a state of kReduceLanes accumulators (plus
// as many compensation terms for float sums), element k of each call going
// to lane k % kReduceLanes. The order of every operation is fixed, so a result
// depends only on how the runtime cuts the input into calls, never on the
// machine's vector width or thread count. Float sums are compensated (each
// lane keeps the exact rounding error of its additions, Knuth's TwoSum, and
// float32 sums add in float64), so they are more accurate than NumPy's
// pairwise sums.
inline constexpr int kReduceLanes = 16;
inline constexpr int kReduceStateBytes = 2 * kReduceLanes * 8;

struct ReduceFns {
  void (*init)(void* state);  // the identity
  // Maps n elements (`ptrs` as for ContigFn, without the output) and combines
  // the results into `state`.
  void (*reduce)(void* const* ptrs, int64_t n, void* state);
  void (*merge)(void* state, const void* other);  // state = state (op) other
  void (*finish)(const void* state, void* out);   // one value of type acc
};

struct Entry {
  ContigFn contig = nullptr;
  ReduceFns reduce{};  // set for a reduce kernel
};

// Compiles `fn` (Strict level) for the host CPU through the process-wide JIT.
// Thread-safe. Throws std::runtime_error on an internal LLVM failure.
Entry compile_elementwise(const ir::Function& fn, const Layout& layout, const Options& options);

// Texts for inspection (each compiles afresh; not on any hot path).
std::string llvm_ir_elementwise(const ir::Function& fn, const Layout& layout,
                                const Options& options);
std::string asm_elementwise(const ir::Function& fn, const Layout& layout, const Options& options);

// The host CPU as LLVM sees it, e.g. "znver4 (+avx2,+avx512f,...)".
std::string host_cpu();

}  // namespace ember::codegen
