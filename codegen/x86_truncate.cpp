// A late x86 peephole: the float-to-int conversions lower.cpp writes out as
// compares and selects (x86_truncate: truncation toward zero, INT_MIN for
// NaN and out-of-range values, never poison) are exactly what cvttsd2si and
// cvttss2si compute. Where a conversion is still scalar after the loop
// vectorizer ran (a scatter, a histogram bin), it becomes that one
// instruction instead of two compares, an and and a select. Vector forms
// are left as they are.
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/IntrinsicsX86.h>
#include <llvm/IR/PatternMatch.h>
#include <llvm/Transforms/Utils/Local.h>

#include <cmath>

#include "codegen/lower.h"

namespace ember::codegen {
namespace {

namespace P = llvm::PatternMatch;

// x when `cond` is (x >= -2^(bits-1)) & (x < 2^(bits-1)), in either order.
bool in_range_of(llvm::Value* cond, llvm::Value* x, unsigned bits) {
  llvm::FCmpInst::Predicate p1, p2;
  const llvm::APFloat *c1, *c2;
  if (!P::match(cond, P::m_c_And(P::m_FCmp(p1, P::m_Specific(x), P::m_APFloat(c1)),
                                 P::m_FCmp(p2, P::m_Specific(x), P::m_APFloat(c2)))))
    return false;
  if (p1 != llvm::FCmpInst::FCMP_OGE) {
    std::swap(p1, p2);
    std::swap(c1, c2);
  }
  double limit = std::ldexp(1.0, static_cast<int>(bits) - 1);
  return p1 == llvm::FCmpInst::FCMP_OGE && p2 == llvm::FCmpInst::FCMP_OLT &&
         c1->convertToDouble() == -limit && c2->convertToDouble() == limit;
}

// The cvtt* intrinsic for (float type, int width), or not_intrinsic.
llvm::Intrinsic::ID truncation(llvm::Type* from, unsigned bits) {
  namespace I = llvm::Intrinsic;
  if (from->isDoubleTy()) return bits == 64 ? I::x86_sse2_cvttsd2si64 : I::x86_sse2_cvttsd2si;
  if (from->isFloatTy()) return bits == 64 ? I::x86_sse_cvttss2si64 : I::x86_sse_cvttss2si;
  return I::not_intrinsic;
}

bool rewrite(llvm::SelectInst& select) {
  llvm::Value *cond, *x;
  const llvm::APInt* fallback;
  if (!P::match(&select, P::m_Select(P::m_Value(cond), P::m_FPToSI(P::m_Value(x)),
                                     P::m_APInt(fallback))))
    return false;
  // Scalars only: m_APInt also matches a vector select's splat (after the
  // vectorizer), whose type has no integer width.
  if (!select.getType()->isIntegerTy()) return false;
  unsigned bits = select.getType()->getIntegerBitWidth();
  llvm::Intrinsic::ID id = truncation(x->getType(), bits);
  if ((bits != 32 && bits != 64) || id == llvm::Intrinsic::not_intrinsic ||
      !fallback->isMinSignedValue() || !in_range_of(cond, x, bits))
    return false;
  llvm::IRBuilder<> b(&select);
  unsigned lanes = 128 / x->getType()->getPrimitiveSizeInBits();
  llvm::Value* vector = b.CreateInsertElement(
      llvm::PoisonValue::get(llvm::FixedVectorType::get(x->getType(), lanes)), x, uint64_t{0});
  select.replaceAllUsesWith(b.CreateIntrinsic(id, {}, {vector}));
  llvm::RecursivelyDeleteTriviallyDeadInstructions(&select);
  return true;
}

}  // namespace

llvm::PreservedAnalyses X86TruncatePass::run(llvm::Function& f, llvm::FunctionAnalysisManager&) {
  bool changed = false;
  for (llvm::BasicBlock& block : f)
    for (llvm::Instruction& inst : llvm::make_early_inc_range(block))
      if (auto* select = llvm::dyn_cast<llvm::SelectInst>(&inst)) changed |= rewrite(*select);
  if (!changed) return llvm::PreservedAnalyses::all();
  llvm::PreservedAnalyses kept;
  kept.preserveSet<llvm::CFGAnalyses>();
  return kept;
}

}  // namespace ember::codegen
