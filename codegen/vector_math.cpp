// Vector math calls that the SLP vectorizer forms, given to libmvec.
//
// lower.cpp calls libm (expf, sin, ...) and names each call's libmvec
// variants, which the loop vectorizer uses. The SLP vectorizer (the lanes of
// a reduction, lower_reduce.cpp) instead bundles such calls into a math
// intrinsic of its own width, e.g. llvm.exp.v16f32 for 16 float lanes; the
// backend has no vector exp and makes that 16 scalar expf calls (a float32
// softmax's exp-sum ran 5x slower than its elementwise exp). Here each such
// call becomes libmvec calls of the widest width the host has whose lanes
// divide it (two _ZGVdN8v_expf with AVX2). Narrower ones, and functions
// the process's libmvec lacks, are left alone.
#include <dlfcn.h>
#include <llvm/Analysis/VectorUtils.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/IntrinsicInst.h>

#include <numeric>

#include "codegen/lower.h"

namespace ember::codegen {
namespace {

// The intrinsics named like libm's functions that libmvec has variants of.
bool in_libmvec(llvm::Intrinsic::ID id) {
  namespace I = llvm::Intrinsic;
  switch (id) {
    case I::exp: case I::exp2: case I::exp10: case I::log: case I::log2: case I::log10:
    case I::sin: case I::cos: case I::tan: case I::asin: case I::acos: case I::atan:
    case I::sinh: case I::cosh: case I::tanh: case I::pow: return true;
    default: return false;
  }
}

bool rewrite(llvm::IntrinsicInst& call, const VectorIsa& isa) {
  auto* type = llvm::dyn_cast<llvm::FixedVectorType>(call.getType());
  if (!type || !in_libmvec(call.getIntrinsicID())) return false;
  llvm::Type* element = type->getElementType();
  if (!element->isFloatTy() && !element->isDoubleTy()) return false;
  unsigned bits = element->getPrimitiveSizeInBits(), n = type->getNumElements();
  const VectorIsa::Level* widest = nullptr;
  for (const VectorIsa::Level& level : isa.levels) {
    unsigned lanes = level.width_bits / bits;
    if (lanes <= n && n % lanes == 0 && (!widest || level.width_bits > widest->width_bits))
      widest = &level;
  }
  if (!widest) return false;
  unsigned lanes = widest->width_bits / bits, args = call.arg_size();
  std::string name = libmvec_name(
      widest->letter, lanes, args,
      libm_name(isa, llvm::Intrinsic::getBaseName(call.getIntrinsicID()).drop_front(5).str(),
                element->isFloatTy()));
  if (!dlsym(RTLD_DEFAULT, name.c_str())) return false;  // an older libmvec (glibc < 2.35)
  auto* piece = llvm::FixedVectorType::get(element, lanes);
  llvm::FunctionCallee callee = declare_math(
      *call.getModule(), name,
      llvm::FunctionType::get(piece, std::vector<llvm::Type*>(args, piece), false));
  llvm::IRBuilder<> b(&call);
  std::vector<llvm::Value*> results;
  for (unsigned first = 0; first < n; first += lanes) {
    std::vector<int> mask(lanes);
    std::iota(mask.begin(), mask.end(), first);
    std::vector<llvm::Value*> operands;
    for (llvm::Value* a : call.args()) operands.push_back(lanes == n ? a : b.CreateShuffleVector(a, mask));
    results.push_back(b.CreateCall(callee, operands));
  }
  call.replaceAllUsesWith(results.size() == 1 ? results[0] : llvm::concatenateVectors(b, results));
  call.eraseFromParent();
  return true;
}

}  // namespace

llvm::PreservedAnalyses VectorMathPass::run(llvm::Function& f, llvm::FunctionAnalysisManager&) {
  std::vector<llvm::IntrinsicInst*> calls;
  for (llvm::BasicBlock& block : f)
    for (llvm::Instruction& inst : block)
      if (auto* call = llvm::dyn_cast<llvm::IntrinsicInst>(&inst)) calls.push_back(call);
  bool changed = false;
  for (llvm::IntrinsicInst* call : calls) changed |= rewrite(*call, isa);
  return changed ? llvm::PreservedAnalyses::none() : llvm::PreservedAnalyses::all();
}

}  // namespace ember::codegen
