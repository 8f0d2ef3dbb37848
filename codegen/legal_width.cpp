// x86 only, last: each function is told the narrowest vector width its code
// needs legal ("min-legal-vector-width", as clang sets it), the widest vector
// passed to or returned from a call (a libmvec variant's ABI). Without the
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
  uint64_t bits = 0;
  for (llvm::Argument& a : f.args()) bits = std::max(bits, vector_bits(a.getType()));
  bits = std::max(bits, vector_bits(f.getReturnType()));
  for (llvm::BasicBlock& block : f)
    for (llvm::Instruction& i : block) {
      auto* call = llvm::dyn_cast<llvm::CallBase>(&i);
      if (!call || llvm::isa<llvm::IntrinsicInst>(call)) continue;
      bits = std::max(bits, vector_bits(call->getType()));
      for (llvm::Value* arg : call->args()) bits = std::max(bits, vector_bits(arg->getType()));
    }
  f.addFnAttr("min-legal-vector-width", std::to_string(bits));
  return llvm::PreservedAnalyses::all();
}

}  // namespace ember::codegen
