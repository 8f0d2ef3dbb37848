// Fused multiply-adds in loops, chosen for latency (fastmath kernels only:
// the instructions must carry the `contract` flag).
//
// LLVM's instruction selection fuses a product into an add only when the
// product has no other use, and never through a loop-carried value. Two
// common shapes miss out:
//   - a product used twice, e.g. `x * x` in both a while condition and its
//     body: loop rotation computes it once, at the end of the previous
//     iteration, and carries it in a phi;
//   - a product with several users in one iteration.
// Where such a product p = a * b is added to (or subtracted from, or
// subtracts) a value c that is fixed for the whole loop, the add becomes
// fmuladd(a, b, c): the same number of instructions, and the result is ready
// one fma after a and b, instead of a multiply and an add after them. In the
// Mandelbrot iteration `x, y = x*x - y*y + x0, 2*x*y + y0` this takes the
// loop-carried chain from 9 to 7 cycles per iteration on Zen 3.
//
// A phi carries a product when, on every iteration, it equals the product of
// two phis of the same loop header: the value from the latch is the
// product of theirs, and the value on entry the product of their entry
// values (or a constant equal to it).
#include <llvm/Analysis/ConstantFolding.h>
#include <llvm/Analysis/LoopInfo.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/PatternMatch.h>
#include <llvm/Transforms/Utils/Local.h>

#include "codegen/lower.h"

namespace ember::codegen {
namespace {

namespace P = llvm::PatternMatch;
using llvm::Value;

struct Product {
  Value* a = nullptr;
  Value* b = nullptr;
};

bool contractable(Value* v) {
  auto* op = llvm::dyn_cast<llvm::FPMathOperator>(v);
  return op && op->hasAllowContract();
}

// a and b when `v` is a contractable a * b.
bool product(Value* v, Product& p) {
  return contractable(v) && P::match(v, P::m_FMul(P::m_Value(p.a), P::m_Value(p.b)));
}

// Whether `v` is a * b (in either order), or folds to the constant a * b.
bool equals_product(Value* v, Value* a, Value* b, const llvm::DataLayout& dl) {
  if (P::match(v, P::m_c_FMul(P::m_Specific(a), P::m_Specific(b)))) return true;
  auto *ca = llvm::dyn_cast<llvm::Constant>(a), *cb = llvm::dyn_cast<llvm::Constant>(b);
  return ca && cb && v == llvm::ConstantFoldBinaryOpOperands(llvm::Instruction::FMul, ca, cb, dl);
}

// The two header phis whose product `phi` carries around `loop`.
bool carried_product(llvm::PHINode& phi, const llvm::Loop& loop, Product& p) {
  llvm::BasicBlock* latch = loop.getLoopLatch();
  llvm::BasicBlock* entry = loop.getLoopPredecessor();
  Product next;
  if (!latch || !entry || phi.getNumIncomingValues() != 2 ||
      !product(phi.getIncomingValueForBlock(latch), next))
    return false;
  // The header phi whose value from the latch is `latch_value`.
  auto header_phi = [&](Value* latch_value) -> llvm::PHINode* {
    for (llvm::PHINode& candidate : loop.getHeader()->phis())
      if (candidate.getNumIncomingValues() == 2 &&
          candidate.getIncomingValueForBlock(latch) == latch_value)
        return &candidate;
    return nullptr;
  };
  llvm::PHINode* pa = header_phi(next.a);
  llvm::PHINode* pb = header_phi(next.b);
  if (!pa || !pb) return false;
  const llvm::DataLayout& dl = phi.getModule()->getDataLayout();
  if (!equals_product(phi.getIncomingValueForBlock(entry), pa->getIncomingValueForBlock(entry),
                      pb->getIncomingValueForBlock(entry), dl))
    return false;
  p = {pa, pb};
  return true;
}

// Rewrites each add or subtract of `value` (= p.a * p.b) with an operand
// fixed in `loop` into one fmuladd.
bool fuse_uses(Value* value, const Product& p, const llvm::Loop& loop) {
  bool changed = false;
  for (llvm::User* user : llvm::make_early_inc_range(value->users())) {
    auto* op = llvm::dyn_cast<llvm::BinaryOperator>(user);
    if (!op || !contractable(op) || !loop.contains(op) ||
        (op->getOpcode() != llvm::Instruction::FAdd && op->getOpcode() != llvm::Instruction::FSub))
      continue;
    bool first = op->getOperand(0) == value;
    Value* other = op->getOperand(first ? 1 : 0);
    if (other == value || !loop.isLoopInvariant(other)) continue;
    llvm::IRBuilder<> b(op);
    b.setFastMathFlags(op->getFastMathFlags());
    bool sub = op->getOpcode() == llvm::Instruction::FSub;
    Value* a = sub && !first ? b.CreateFNeg(p.a) : p.a;  // c - a*b = (-a)*b + c
    Value* c = sub && first ? b.CreateFNeg(other) : other;  // a*b - c
    op->replaceAllUsesWith(b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {op->getType()}, {a, p.b, c}));
    op->eraseFromParent();
    changed = true;
  }
  return changed;
}

}  // namespace

llvm::PreservedAnalyses LoopFmaPass::run(llvm::Function& f, llvm::FunctionAnalysisManager& am) {
  auto& loops = am.getResult<llvm::LoopAnalysis>(f);
  // Products are found first, then fused: fusing erases adds, which may be
  // the factors of a later product, so each product's factors are read again
  // when it is fused.
  std::vector<std::pair<Value*, llvm::Loop*>> found;
  Product p;
  for (llvm::Loop* loop : loops.getLoopsInPreorder()) {
    for (llvm::PHINode& phi : loop->getHeader()->phis())
      if (carried_product(phi, *loop, p)) found.push_back({&phi, loop});
    for (llvm::BasicBlock* block : loop->blocks())
      if (loops.getLoopFor(block) == loop)  // an inner loop's blocks: found with it
        for (llvm::Instruction& inst : *block)
          if (!inst.hasOneUse() && product(&inst, p)) found.push_back({&inst, loop});
  }
  bool changed = false;
  for (auto [value, loop] : found) {
    auto* phi = llvm::dyn_cast<llvm::PHINode>(value);
    if (phi ? carried_product(*phi, *loop, p) : product(value, p))
      changed |= fuse_uses(value, p, *loop);
  }
  if (!changed) return llvm::PreservedAnalyses::all();
  for (llvm::BasicBlock& block : f) llvm::SimplifyInstructionsInBlock(&block);  // dead products
  llvm::PreservedAnalyses kept;
  kept.preserveSet<llvm::CFGAnalyses>();
  return kept;
}

}  // namespace ember::codegen
