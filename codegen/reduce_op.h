// The operator of a @reduce kernel on LLVM values: its identity, how a mapped
// value joins an accumulator (float sums with a compensation term, Knuth's
// TwoSum) and the final value. Values are vectors of `lanes` accumulators on
// the CPU (lower_reduce.cpp) and scalars, one per GPU thread, on the GPU
// (lower_gpu_reduce.cpp). Private to codegen/.
#pragma once

#include <llvm/IR/IRBuilder.h>

#include "codegen/lower.h"

namespace ember::codegen {

class ReduceOp {
 public:
  // `b` must carry no fast-math flags: the order and rounding of every
  // operation here is part of the result.
  ReduceOp(llvm::IRBuilder<>& b, const Reduction& r, ir::Scalar mapped, bool fastmath, int lanes);

  // The accumulators' type: the accumulator dtype's, but float32 sums add in
  // float64 (with compensation they are then exact for all practical inputs).
  ir::Scalar lane() const { return lane_; }
  bool float_sum() const { return r_.op == ir::Op::Add && ir::is_float(lane_); }
  // Float sums carry a compensation term, unless the kernel asked for fast math.
  bool compensated() const { return float_sum() && !fastmath_; }
  // The memory type of `s`, times `lanes` (a vector when lanes > 1).
  llvm::Type* type(ir::Scalar s) const;
  // The identity of the operator in the memory type of `s` (bools: bytes
  // holding 0 or 1); float sums: -0.0, the value that changes no other.
  llvm::Value* identity(ir::Scalar s) const;
  // Where an accumulator starts: the identity, but +0.0 for float sums (the
  // sum of [-0.0] is 0.0, as NumPy's); also the start of a compensation.
  llvm::Value* start() const;
  llvm::Value* zero() const { return llvm::Constant::getNullValue(type(lane_)); }
  // A mapped value (type(mapped)) in the accumulators' type.
  llvm::Value* widen(llvm::Value* x);
  // s (op) x; for compensated sums `c` gathers the rounding error.
  llvm::Value* combine(llvm::Value* s, llvm::Value* x, llvm::Value*& c);
  // The result of one accumulator (a scalar s and its compensation c) as
  // the accumulator dtype.
  llvm::Value* result(llvm::Value* s, llvm::Value* c);

 private:
  llvm::IRBuilder<>& b_;
  Reduction r_;
  ir::Scalar mapped_;
  bool fastmath_;
  int lanes_;
  ir::Scalar lane_;
};

}  // namespace ember::codegen
