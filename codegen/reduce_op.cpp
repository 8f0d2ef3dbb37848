// ReduceOp (reduce_op.h): a reduction operator's algebra on LLVM values.
#include "codegen/reduce_op.h"

#include <llvm/IR/Intrinsics.h>

#include <limits>

namespace ember::codegen {

using ir::Op;
using ir::Scalar;
using llvm::Value;

ReduceOp::ReduceOp(llvm::IRBuilder<>& b, const Reduction& r, Scalar mapped, bool fastmath,
                   int lanes)
    : b_(b), r_(r), mapped_(mapped), fastmath_(fastmath), lanes_(lanes),
      lane_(r.op == Op::Add && r.acc == Scalar::F32 ? Scalar::F64 : r.acc) {}

llvm::Type* ReduceOp::type(Scalar s) const {
  llvm::Type* t = memory_type(b_.getContext(), s);
  return lanes_ == 1 ? t : llvm::FixedVectorType::get(t, lanes_);
}

Value* ReduceOp::identity(Scalar s) const {
  llvm::Type* t = memory_type(b_.getContext(), s);
  constexpr double inf = std::numeric_limits<double>::infinity();
  llvm::Constant* one;
  if (ir::is_float(s)) {
    double v = r_.op == Op::Add ? -0.0 : r_.op == Op::Mul ? 1.0 : r_.op == Op::Minimum ? inf : -inf;
    one = llvm::ConstantFP::get(t, v);
  } else {
    unsigned bits = t->getIntegerBitWidth();
    llvm::APInt v(bits, r_.op == Op::Mul ? 1 : 0);
    bool sign = ir::is_signed(s);
    if (r_.op == Op::Minimum)
      v = s == Scalar::Bool ? llvm::APInt(bits, 1) : sign ? llvm::APInt::getSignedMaxValue(bits)
                                                         : llvm::APInt::getMaxValue(bits);
    if (r_.op == Op::Maximum && sign) v = llvm::APInt::getSignedMinValue(bits);
    one = llvm::ConstantInt::get(t, v);
  }
  return lanes_ == 1 ? one : llvm::ConstantVector::getSplat(llvm::ElementCount::getFixed(lanes_), one);
}

Value* ReduceOp::start() const { return float_sum() ? zero() : identity(lane_); }

Value* ReduceOp::widen(Value* x) {
  if (mapped_ == lane_) return x;
  if (ir::is_float(mapped_)) return b_.CreateFPExt(x, type(lane_));
  return ir::is_signed(mapped_) ? b_.CreateSExt(x, type(lane_)) : b_.CreateZExt(x, type(lane_));
}

Value* ReduceOp::combine(Value* s, Value* x, Value*& c) {
  bool fp = ir::is_float(lane_), sign = ir::is_signed(lane_);
  switch (r_.op) {
    case Op::Add: {
      if (!fp || !compensated()) return fp ? b_.CreateFAdd(s, x) : b_.CreateAdd(s, x);
      // Knuth's TwoSum: t + e == s + x exactly, in six adds and no compare
      // (Dekker's Fast2Sum on the operands ordered by magnitude gives the
      // same e with two adds, but the ordering's abs, compare and two
      // selects made a memory-bound dot of 10^7 float64 5% slower).
      Value* t = b_.CreateFAdd(s, x);
      Value* z = b_.CreateFSub(t, s);
      Value* e = b_.CreateFAdd(b_.CreateFSub(s, b_.CreateFSub(t, z)), b_.CreateFSub(x, z));
      c = b_.CreateFAdd(c, e);
      return t;
    }
    case Op::Mul: return fp ? b_.CreateFMul(s, x) : b_.CreateMul(s, x);
    default: {
      // NaN wins, as in np.min / np.max; of equals (-0.0 and 0.0), the later
      // one, as NumPy's loop (s < x || isnan(s) ? s : x) keeps it.
      bool min = r_.op == Op::Minimum;
      Value* take;
      if (fp)
        take = b_.CreateNot(b_.CreateOr(min ? b_.CreateFCmpOLT(s, x) : b_.CreateFCmpOGT(s, x),
                                        b_.CreateFCmpUNO(s, s)));
      else if (min)
        take = sign ? b_.CreateICmpSLT(x, s) : b_.CreateICmpULT(x, s);
      else
        take = sign ? b_.CreateICmpSGT(x, s) : b_.CreateICmpUGT(x, s);
      return b_.CreateSelect(take, x, s);
    }
  }
}

Value* ReduceOp::result(Value* s, Value* c) {
  if (compensated()) {
    // An infinite or NaN sum has a meaningless compensation: keep the sum.
    Value* fabs = b_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, s);
    Value* finite = b_.CreateFCmpOLT(fabs, llvm::ConstantFP::getInfinity(s->getType()));
    s = b_.CreateSelect(finite, b_.CreateFAdd(s, c), s);
  }
  if (lane_ != r_.acc) s = b_.CreateFPTrunc(s, memory_type(b_.getContext(), r_.acc));
  return s;
}

}  // namespace ember::codegen
