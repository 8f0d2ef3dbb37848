// x86 only, last: a function with vectors wider than 256 bits whose calls
// pass none (a libmvec variant's ABI would need 512) is told that 256 bits
// suffice ("min-legal-vector-width", as clang sets it). Without the
// attribute the backend keeps every explicit vector whole, so a reduction's
// 16 float64 lanes became zmm registers even on CPUs whose tuning prefers
// 256-bit ones (Intel's AVX-512 parts run slower clocks for them): a
// memory-bound dot of 10^7 elements took 10% longer than with ymm. With
// it, the target's preferred width decides, as it does for the vectorizers.
#include <llvm/IR/Instructions.h>
#include <llvm/IR/IntrinsicInst.h>

#include <algorithm>

#include "codegen/lower.h"

namespace ember::codegen {
namespace {

uint64_t vector_bits(llvm::Type* t) {
  auto* v = llvm::dyn_cast<llvm::FixedVectorType>(t);
  return v ? v->getPrimitiveSizeInBits().getFixedValue() : 0;
}

}  // namespace

llvm::PreservedAnalyses LegalWidthPass::run(llvm::Function& f, llvm::FunctionAnalysisManager&) {
  uint64_t calls = 0, widest = 0;  // the widest vector a call passes; any vector
  for (llvm::Argument& a : f.args()) calls = std::max(calls, vector_bits(a.getType()));
  calls = std::max(calls, vector_bits(f.getReturnType()));
  for (llvm::BasicBlock& block : f)
    for (llvm::Instruction& i : block) {
      widest = std::max(widest, vector_bits(i.getType()));
      auto* call = llvm::dyn_cast<llvm::CallBase>(&i);
      if (!call || llvm::isa<llvm::IntrinsicInst>(call)) continue;
      calls = std::max(calls, vector_bits(call->getType()));
      for (llvm::Value* arg : call->args()) calls = std::max(calls, vector_bits(arg->getType()));
    }
  // Only where it changes something: vectors wider than 256 bits and no call
  // that needs 512. Every other function keeps the subtarget the optimizer
  // used (each distinct attribute value costs the target machine another one,
  // 3 ms at a process's first compile).
  if (widest > 256 && calls <= 256) f.addFnAttr("min-legal-vector-width", "256");
  return llvm::PreservedAnalyses::all();
}

}  // namespace ember::codegen
