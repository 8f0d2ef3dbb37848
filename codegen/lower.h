// IR -> LLVM IR for one elementwise kernel (target-independent part).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/DIBuilder.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/PassManager.h>
#include <llvm/Support/CodeGen.h>

namespace llvm {
class TargetMachine;
}

#include "codegen/codegen.h"

namespace ember::codegen {

// How math calls are named and vectorized: libm's names after `prefix`
// ("__nv_" for libdevice on the GPU), and the SIMD variants calls may use:
// glibc libmvec's vector ISA letters ('b' SSE4, 'c' AVX, 'd' AVX2, 'e'
// AVX-512) with their register widths, at most one per width (none on the GPU).
struct VectorIsa {
  struct Level {
    char letter;
    int width_bits;
  };
  std::vector<Level> levels;
  std::string prefix;
  bool fma = false;  // the host has fused multiply-add (vector_fmod.cpp's float64 needs it)
};

// libm's name of function `name` for float32 (`f32`) or float64, after the
// ISA's prefix: expf, exp, __nv_expf.
std::string libm_name(const VectorIsa& isa, const std::string& name, bool f32);

// Declares math function `name` (libm or libmvec) in `m` as pure.
llvm::FunctionCallee declare_math(llvm::Module& m, const std::string& name, llvm::FunctionType* type);

// The name of libmvec's variant of `symbol` (expf, pow, ...) for ISA letter
// `letter`, `lanes` lanes and `args` vector arguments: _ZGVdN8v_expf.
std::string libmvec_name(char letter, int lanes, int args, const std::string& symbol);

// The exact vector fmod of `lanes` float32 (else float64) lanes, defined in
// `m` once (vector_fmod.cpp); float64 needs the host's FMA.
llvm::Function* vector_fmod(llvm::Module& m, bool f32, int lanes);

// The LLVM type of an IR scalar in registers (bool: i1) and in memory
// (bool: one byte, NumPy's layout).
llvm::Type* value_type(llvm::LLVMContext& c, ir::Scalar s);
llvm::Type* memory_type(llvm::LLVMContext& c, ir::Scalar s);

// Adds `<prefix>_init/_reduce/_merge/_finish` (codegen.h's ReduceFns) to
// `m`, mapping with `scalar`, the lowered `fn` (lower_reduce.cpp).
void lower_reduction(llvm::Module& m, const Reduction& reduction, llvm::Function* scalar,
                     const ir::Function& fn, const Layout& layout, bool fastmath,
                     const std::string& prefix);

// Machine code for `m` (jit.cpp): assembly text or an object file's bytes.
std::string emit(llvm::TargetMachine& tm, llvm::Module& m, llvm::CodeGenFileType type);

// Debug locations for inspection (debug_info.cpp): line tables of `fn`'s
// file. The lowering gives the scalar function's (or kernel body's)
// instructions the lines and columns of the IR they come from; finish()
// gives every other function a subprogram and every instruction without a
// location the def line, then finalizes.
class DebugLocations {
 public:
  DebugLocations(llvm::Module& m, const ir::Function& fn);
  ~DebugLocations();
  llvm::DISubprogram* subprogram(llvm::Function* f);  // made once per function
  void finish();

 private:
  llvm::Module& m_;
  std::unique_ptr<llvm::DIBuilder> dib_;
  llvm::DIFile* file_ = nullptr;
  int line_;
};

// A module holding `<prefix>_contig` (see codegen.h): the loop around an
// always-inlined scalar function made from `fn` (Strict level); for a reduce
// kernel, also its reduction functions. With `debug`, its instructions carry
// debug locations (DebugLocations).
std::unique_ptr<llvm::Module> lower_module(const ir::Function& fn, const Layout& layout,
                                                const Options& options, const VectorIsa& isa,
                                                llvm::LLVMContext& ctx, const std::string& prefix,
                                                bool debug = false);

// A module holding the CUDA kernel `<prefix>_cuda` (codegen.h, CUDA
// entries); math calls name libdevice's functions.
std::unique_ptr<llvm::Module> lower_gpu_module(const ir::Function& fn, const Layout& layout,
                                               const Options& options, llvm::LLVMContext& ctx,
                                               const std::string& prefix);

// x86 only, after the loop vectorizer (x86_truncate.cpp): scalar float-to-int
// conversions in lower.cpp's exact form become one cvttsd2si / cvttss2si.
struct X86TruncatePass : llvm::PassInfoMixin<X86TruncatePass> {
  llvm::PreservedAnalyses run(llvm::Function& f, llvm::FunctionAnalysisManager& am);
};

// x86 only, last (legal_width.cpp): "min-legal-vector-width"="256" on a
// function with wider vectors whose calls need no 512-bit ones, so that the
// CPU's preferred width (256 bits on Intel's AVX-512 parts) splits them.
struct LegalWidthPass : llvm::PassInfoMixin<LegalWidthPass> {
  llvm::PreservedAnalyses run(llvm::Function& f, llvm::FunctionAnalysisManager& am);
};

// The widest vector registers optimized module `m` computes in for `tm`
// (bits; 0 for scalar code): its widest vector values, split where the
// backend splits them (legal_width.cpp).
int vector_register_bits(llvm::TargetMachine& tm, const VectorIsa& isa, llvm::Module& m);

// After the loop vectorizer (loop_fma.cpp): in fastmath loops, a product
// with other uses, or carried from the previous iteration, is fused into each
// add of a loop-invariant value.
struct LoopFmaPass : llvm::PassInfoMixin<LoopFmaPass> {
  llvm::PreservedAnalyses run(llvm::Function& f, llvm::FunctionAnalysisManager& am);
};

// After the SLP vectorizer (vector_math.cpp): a vector math intrinsic
// (llvm.exp.v16f32) becomes calls of libmvec's variants of the host's
// widest width that divides it, instead of one libm call per lane.
struct VectorMathPass : llvm::PassInfoMixin<VectorMathPass> {
  explicit VectorMathPass(VectorIsa isa) : isa(std::move(isa)) {}
  llvm::PreservedAnalyses run(llvm::Function& f, llvm::FunctionAnalysisManager& am);
  VectorIsa isa;
};

}  // namespace ember::codegen
