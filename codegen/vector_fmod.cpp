// An exact fmod on vectors. libmvec has no fmod, so lower.cpp names this
// function as the vector variant of its scalar fmod calls, and the loop
// vectorizer calls it instead of libm once per lane.
//
// The remainder r = |a| mod |b| is reduced by d' = |b| * 2^k with
// k = max(0, ilogb(r) - ilogb(|b|) - S), so the quotient is below 2^(S+1):
// q = trunc(r / d') is then an exact integer (one too big when the division
// rounds up, which the step corrects), and r - q * d' is exact: with an FMA
// for float64 (S = 51), and as a plain product for float32, which runs in
// float64 (S = 28: q * d' has at most 29 + 24 = 53 bits, no margin left, so
// S must not grow). Each step takes S bits off the exponent gap, so a gap
// below S, the usual case, takes one; the loop runs while any lane still has
// r >= |b|. The result is bitwise libm's (fmod is exact): the sign of a, and
// for b = 0, an infinite a or a NaN glibc's NaN, (a * b) / (a * b).
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>

#include <cmath>

#include "codegen/lower.h"

namespace ember::codegen {

llvm::Function* vector_fmod(llvm::Module& m, bool f32, int lanes) {
  std::string name = std::string("ember_fmod_") + (f32 ? "f32x" : "f64x") + std::to_string(lanes);
  if (llvm::Function* f = m.getFunction(name)) return f;
  llvm::LLVMContext& c = m.getContext();
  llvm::IRBuilder<> b(c);
  namespace I = llvm::Intrinsic;
  using llvm::Value;
  auto* io = llvm::FixedVectorType::get(f32 ? b.getFloatTy() : b.getDoubleTy(), lanes);
  auto* vd = llvm::FixedVectorType::get(b.getDoubleTy(), lanes);
  auto* vi = llvm::FixedVectorType::get(b.getInt64Ty(), lanes);
  auto* f = llvm::Function::Create(llvm::FunctionType::get(io, {io, io}, false),
                                   llvm::Function::InternalLinkage, name, m);
  f->setDoesNotAccessMemory();
  f->setDoesNotThrow();
  auto* entry = llvm::BasicBlock::Create(c, "entry", f);
  auto* loop = llvm::BasicBlock::Create(c, "loop", f);
  auto* done = llvm::BasicBlock::Create(c, "done", f);
  auto real = [&](double v) { return llvm::ConstantFP::get(vd, v); };
  auto integer = [&](int64_t v) { return llvm::ConstantInt::get(vi, v, true); };
  auto call = [&](llvm::Intrinsic::ID id, std::initializer_list<Value*> args) {
    return b.CreateIntrinsic(id, {(*args.begin())->getType()}, args);
  };
  // The binary exponent of positive finite values, subnormals included.
  auto ilogb = [&](Value* v) {
    Value* tiny = b.CreateFCmpOLT(v, real(0x1p-1022));
    Value* normal = b.CreateSelect(tiny, b.CreateFMul(v, real(0x1p54)), v);
    Value* e = b.CreateSub(b.CreateLShr(b.CreateBitCast(normal, vi), 52), integer(1023));
    return b.CreateSub(e, b.CreateSelect(tiny, integer(54), integer(0)));
  };
  auto pow2 = [&](Value* k) {  // 2^k for k in [-1022, 1023]
    return b.CreateBitCast(b.CreateShl(b.CreateAdd(k, integer(1023)), 52), vd);
  };

  b.SetInsertPoint(entry);
  Value* a = f32 ? b.CreateFPExt(f->getArg(0), vd) : f->getArg(0);
  Value* r0 = call(I::fabs, {a});
  Value* d = call(I::fabs, {f32 ? b.CreateFPExt(f->getArg(1), vd) : f->getArg(1)});
  Value* ed = ilogb(d);
  Value* finite = b.CreateFCmpOLT(r0, real(INFINITY));
  Value* start = b.CreateAnd(b.CreateFCmpOGE(r0, d),
                             b.CreateAnd(finite, b.CreateFCmpOGT(d, real(0.0))));
  b.CreateCondBr(b.CreateOrReduce(start), loop, done);

  b.SetInsertPoint(loop);
  auto* r = b.CreatePHI(vd, 2);
  auto* active = b.CreatePHI(start->getType(), 2);
  int bits = f32 ? 28 : 51;
  Value* k = call(I::smax, {b.CreateSub(b.CreateSub(ilogb(r), ed), integer(bits)), integer(0)});
  Value* half = b.CreateLShr(k, 1);
  Value* dk = b.CreateFMul(b.CreateFMul(d, pow2(half)), pow2(b.CreateSub(k, half)));
  Value* q = call(I::trunc, {b.CreateFDiv(r, dk)});
  Value* rem = f32 ? b.CreateFSub(r, b.CreateFMul(q, dk)) : call(I::fma, {b.CreateFNeg(q), dk, r});
  rem = b.CreateSelect(b.CreateFCmpOLT(rem, real(0.0)), b.CreateFAdd(rem, dk), rem);
  Value* next = b.CreateSelect(active, rem, r);
  Value* more = b.CreateAnd(active, b.CreateFCmpOGE(next, d));
  r->addIncoming(r0, entry);
  r->addIncoming(next, loop);
  active->addIncoming(start, entry);
  active->addIncoming(more, loop);
  b.CreateCondBr(b.CreateOrReduce(more), loop, done);

  b.SetInsertPoint(done);
  auto* result = b.CreatePHI(vd, 2);
  result->addIncoming(r0, entry);
  result->addIncoming(next, loop);
  Value* invalid = b.CreateOr(b.CreateNot(finite), b.CreateFCmpUEQ(d, real(0.0)));  // UEQ: NaN too
  Value* value = call(I::copysign, {result, a});
  if (f32) value = b.CreateFPTrunc(value, io);
  Value* product = b.CreateFMul(f->getArg(0), f->getArg(1));
  b.CreateRet(b.CreateSelect(invalid, b.CreateFDiv(product, product), value));
  return f;
}

}  // namespace ember::codegen
