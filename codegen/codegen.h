// Public face of codegen: Strict IR in, a native entry point (or text) out.
// No LLVM type appears here, so only codegen/*.cpp pay for LLVM's headers.
#pragma once

#include <cstdint>
#include <memory>
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

struct Options {
  bool fastmath = false;
};

// The entry point of one elementwise kernel. `ptrs` holds one data pointer
// per parameter, then the output's; for k = 0 .. n-1 it computes element k of
// every array (at ptr + k * itemsize), reading scalar-layout parameters once
// from their pointer. Strided operands are the runtime's business (it
// gathers them into contiguous blocks), so only one loop is compiled.
using ContigFn = void (*)(void* const* ptrs, int64_t n);

struct Entry {
  ContigFn contig = nullptr;
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
