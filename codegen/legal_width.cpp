// x86 only, last: a function with vectors wider than 256 bits whose calls
// pass none (a libmvec variant's ABI would need 512) is told that 256 bits
// suffice ("min-legal-vector-width", as clang sets it). Without the
// attribute the backend keeps every explicit vector whole, so a reduction's
// 16 float64 lanes became zmm registers even on CPUs whose tuning prefers
// 256-bit ones (Intel's AVX-512 parts run slower clocks for them): a
// memory-bound dot of 10^7 elements took 10% longer than with ymm. With
// it, the target's preferred width decides, as it does for the vectorizers.
//
// vector_register_bits() then says how wide the vector registers of the
// result are (the INFO log line and the benchmark's table show it).
#include <llvm/Analysis/TargetTransformInfo.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/IntrinsicInst.h>
#include <llvm/Target/TargetMachine.h>

#include <algorithm>

#include "codegen/lower.h"

namespace ember::codegen {
namespace {

uint64_t vector_bits(llvm::Type* t) {
  auto* v = llvm::dyn_cast<llvm::FixedVectorType>(t);
  return v ? v->getPrimitiveSizeInBits().getFixedValue() : 0;
}

// The widest vector value `f` computes (bits; 0: none).
uint64_t widest_value(llvm::Function& f) {
  uint64_t widest = 0;
  for (llvm::BasicBlock& block : f)
    for (llvm::Instruction& i : block) widest = std::max(widest, vector_bits(i.getType()));
  return widest;
}

constexpr uint64_t kLegalBits = 256;  // what the attribute says suffices

}  // namespace

llvm::PreservedAnalyses LegalWidthPass::run(llvm::Function& f, llvm::FunctionAnalysisManager&) {
  uint64_t calls = 0;  // the widest vector a call passes
  for (llvm::Argument& a : f.args()) calls = std::max(calls, vector_bits(a.getType()));
  calls = std::max(calls, vector_bits(f.getReturnType()));
  for (llvm::BasicBlock& block : f)
    for (llvm::Instruction& i : block) {
      auto* call = llvm::dyn_cast<llvm::CallBase>(&i);
      if (!call || llvm::isa<llvm::IntrinsicInst>(call)) continue;
      calls = std::max(calls, vector_bits(call->getType()));
      for (llvm::Value* arg : call->args()) calls = std::max(calls, vector_bits(arg->getType()));
    }
  // Only where it changes something: vectors wider than 256 bits and no call
  // that needs 512. Every other function keeps the subtarget the optimizer
  // used (each distinct attribute value costs the target machine another one,
  // 3 ms at a process's first compile).
  if (calls <= kLegalBits && widest_value(f) > kLegalBits)
    f.addFnAttr("min-legal-vector-width", std::to_string(kLegalBits));
  return llvm::PreservedAnalyses::all();
}

int vector_register_bits(llvm::TargetMachine& tm, const VectorIsa& isa, llvm::Module& m) {
  uint64_t isa_bits = 0;  // the widest registers the CPU has
  for (const VectorIsa::Level& level : isa.levels) isa_bits = std::max<uint64_t>(isa_bits, level.width_bits);
  uint64_t result = 0;
  for (llvm::Function& f : m) {
    if (f.isDeclaration()) continue;
    // An explicit vector stays whole up to the ISA's width, unless the
    // attribute above lets the CPU's preferred width split it.
    uint64_t legal = isa_bits;
    if (f.hasFnAttribute("min-legal-vector-width")) {
      uint64_t preferred = tm.getTargetTransformInfo(f).getRegisterBitWidth(
                               llvm::TargetTransformInfo::RGK_FixedWidthVector).getFixedValue();
      legal = std::min(isa_bits, std::max(preferred, kLegalBits));
    }
    result = std::max(result, std::min(widest_value(f), legal));
  }
  return static_cast<int>(result);
}

}  // namespace ember::codegen
