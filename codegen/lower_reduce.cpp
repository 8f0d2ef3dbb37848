// Lowers the combine step of a @reduce kernel: init / reduce / merge /
// finish over a state of kReduceLanes accumulators (codegen.h). The lanes are
// explicit LLVM vectors, so the order of operations is written here, not left
// to the vectorizer: a result is the same on every machine and thread count.
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>

#include <limits>

#include "codegen/lower.h"

namespace ember::codegen {
namespace {

using ir::Op;
using ir::Scalar;
using llvm::Value;

class ReduceLowering {
 public:
  ReduceLowering(llvm::Module& m, const Reduction& r, Scalar mapped, bool fastmath)
      : m_(m), c_(m.getContext()), b_(c_), r_(r), mapped_(mapped), fastmath_(fastmath),
        lane_(r.op == Op::Add && r.acc == Scalar::F32 ? Scalar::F64 : r.acc) {}

  void init(const std::string& name);
  void reduce(const std::string& name, llvm::Function* scalar, const ir::Function& fn,
              const Layout& layout);
  void merge(const std::string& name);
  void finish(const std::string& name);

 private:
  bool float_sum() const { return r_.op == Op::Add && ir::is_float(lane_); }
  // Float sums carry a compensation term per lane (TwoSum), unless the
  // kernel asked for fast math.
  bool compensated() const { return float_sum() && !fastmath_; }
  llvm::Type* vec(Scalar s) { return llvm::FixedVectorType::get(memory_type(c_, s), kReduceLanes); }
  // A function of `params` pointers, with an int64 count after the first when `counted`.
  llvm::Function* begin(const std::string& name, int params, bool counted = false);
  Value* identity(Scalar s);
  Value* widen(Value* x);
  // s (op) x lane by lane; for float sums `c` gathers the rounding error.
  Value* combine(Value* s, Value* x, Value*& c);
  Value* part(Value* state, int k) { return b_.CreateConstGEP1_64(b_.getInt8Ty(), state, k * kReduceLanes * 8); }
  // The runtime aligns states to 64 bytes, not to a whole vector.
  Value* load(Value* state, int k) {
    return b_.CreateAlignedLoad(vec(lane_), part(state, k), llvm::Align(64));
  }
  void store(Value* v, Value* state, int k) {
    b_.CreateAlignedStore(v, part(state, k), llvm::Align(64));
  }
  Value* load_value(Scalar s, Value* ptr) {
    Value* v = b_.CreateLoad(memory_type(c_, s), ptr);
    return s == Scalar::Bool ? b_.CreateICmpNE(v, b_.getInt8(0)) : v;
  }
  Value* fabs(Value* x) { return b_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x); }

  llvm::Module& m_;
  llvm::LLVMContext& c_;
  llvm::IRBuilder<> b_;  // no fast-math flags, whatever the kernel's options
  Reduction r_;
  Scalar mapped_;
  bool fastmath_;
  // The type of the lanes: the accumulator's, but float32 sums add in
  // float64 (then, with compensation, they are exact for all practical
  // inputs and cost no more than float64 sums).
  Scalar lane_;
};

llvm::Function* ReduceLowering::begin(const std::string& name, int params, bool counted) {
  std::vector<llvm::Type*> types(params, b_.getPtrTy());
  if (counted) types.insert(types.begin() + 1, b_.getInt64Ty());
  auto* f = llvm::Function::Create(llvm::FunctionType::get(b_.getVoidTy(), types, false),
                                   llvm::Function::ExternalLinkage, name, m_);
  f->addFnAttr(llvm::Attribute::NoUnwind);
  b_.SetInsertPoint(llvm::BasicBlock::Create(c_, "entry", f));
  return f;
}

// The identity of the operator, in every lane, in the memory type of `s`
// (bools are bytes holding 0 or 1).
Value* ReduceLowering::identity(Scalar s) {
  llvm::Type* t = memory_type(c_, s);
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
  return llvm::ConstantVector::getSplat(llvm::ElementCount::getFixed(kReduceLanes), one);
}

Value* ReduceLowering::widen(Value* x) {
  if (mapped_ == lane_) return x;
  if (ir::is_float(mapped_)) return b_.CreateFPExt(x, vec(lane_));
  return ir::is_signed(mapped_) ? b_.CreateSExt(x, vec(lane_)) : b_.CreateZExt(x, vec(lane_));
}

Value* ReduceLowering::combine(Value* s, Value* x, Value*& c) {
  bool fp = ir::is_float(lane_), sign = ir::is_signed(lane_);
  switch (r_.op) {
    case Op::Add: {
      if (!fp) return b_.CreateAdd(s, x);
      // Knuth's TwoSum: t + e == s + x exactly.
      Value* t = b_.CreateFAdd(s, x);
      Value* z = b_.CreateFSub(t, s);
      Value* e = b_.CreateFAdd(b_.CreateFSub(s, b_.CreateFSub(t, z)), b_.CreateFSub(x, z));
      c = b_.CreateFAdd(c, e);
      return t;
    }
    case Op::Mul: return fp ? b_.CreateFMul(s, x) : b_.CreateMul(s, x);
    default: {
      // NaN wins, as in np.min / np.max; otherwise the first of equals stays.
      bool min = r_.op == Op::Minimum;
      Value* take;
      if (fp)
        take = b_.CreateOr(min ? b_.CreateFCmpOLT(x, s) : b_.CreateFCmpOGT(x, s),
                           b_.CreateFCmpUNO(x, x));
      else if (min)
        take = sign ? b_.CreateICmpSLT(x, s) : b_.CreateICmpULT(x, s);
      else
        take = sign ? b_.CreateICmpSGT(x, s) : b_.CreateICmpUGT(x, s);
      return b_.CreateSelect(take, x, s);
    }
  }
}

void ReduceLowering::init(const std::string& name) {
  llvm::Function* f = begin(name, 1);
  // A float sum starts from +0.0, as NumPy's (the sum of [-0.0] is 0.0);
  // -0.0 pads partial groups, the identity that changes no value.
  Value* start = float_sum() ? llvm::Constant::getNullValue(vec(lane_)) : identity(lane_);
  store(start, f->getArg(0), 0);
  if (compensated()) store(llvm::Constant::getNullValue(vec(lane_)), f->getArg(0), 1);
  b_.CreateRetVoid();
}

// Groups of kReduceLanes elements: the scalar function is called once per
// lane (the SLP vectorizer turns the copies into vector code, vector math
// included) and the group is combined into the lanes at once; no
// intermediate array. The last, partial group goes through a small buffer
// padded with the identity.
void ReduceLowering::reduce(const std::string& name, llvm::Function* scalar, const ir::Function& fn,
                            const Layout& layout) {
  llvm::Function* f = begin(name, 2, true);
  llvm::Type* ptr_ty = b_.getPtrTy();
  Value* ptrs = f->getArg(0);
  Value* n = f->getArg(1);
  Value* state = f->getArg(2);
  llvm::Type* item = memory_type(c_, mapped_);
  auto* tmp = b_.CreateAlloca(vec(mapped_));
  size_t nparams = fn.params.size();
  std::vector<Value*> base(nparams), invariant(nparams, nullptr);
  for (size_t i = 0; i < nparams; ++i) {
    base[i] = b_.CreateLoad(ptr_ty, b_.CreateConstGEP1_64(ptr_ty, ptrs, i));
    if (layout.scalar[i]) invariant[i] = load_value(fn.params[i].type.scalar, base[i]);
  }
  // The map's value at element k, in memory type.
  auto map = [&](Value* k) {
    std::vector<Value*> args;
    for (size_t i = 0; i < nparams; ++i) {
      Scalar t = fn.params[i].type.scalar;
      args.push_back(invariant[i] ? invariant[i]
                                  : load_value(t, b_.CreateGEP(memory_type(c_, t), base[i], k)));
    }
    Value* v = b_.CreateCall(scalar, args);
    return mapped_ == Scalar::Bool ? b_.CreateZExt(v, item) : v;
  };
  auto* entry = b_.GetInsertBlock();
  auto* loop = llvm::BasicBlock::Create(c_, "loop", f);
  auto* rest = llvm::BasicBlock::Create(c_, "rest", f);
  auto* tail = llvm::BasicBlock::Create(c_, "tail", f);
  auto* tail_done = llvm::BasicBlock::Create(c_, "tail_done", f);
  auto* done = llvm::BasicBlock::Create(c_, "done", f);
  Value* zero = llvm::Constant::getNullValue(vec(lane_));
  Value* s0 = load(state, 0);
  Value* c0 = compensated() ? load(state, 1) : zero;
  Value* full = b_.CreateAnd(n, b_.getInt64(-kReduceLanes));
  b_.CreateCondBr(b_.CreateICmpSGT(full, b_.getInt64(0)), loop, rest);

  b_.SetInsertPoint(loop);
  auto* g = b_.CreatePHI(b_.getInt64Ty(), 2);
  auto* s = b_.CreatePHI(vec(lane_), 2);
  auto* c = b_.CreatePHI(vec(lane_), 2);
  Value* x = llvm::PoisonValue::get(vec(mapped_));
  for (int l = 0; l < kReduceLanes; ++l)
    x = b_.CreateInsertElement(x, map(b_.CreateAdd(g, b_.getInt64(l))), uint64_t(l));
  Value* c1 = c;
  Value* s1 = combine(s, widen(x), c1);
  Value* next = b_.CreateAdd(g, b_.getInt64(kReduceLanes));
  g->addIncoming(b_.getInt64(0), entry);
  g->addIncoming(next, loop);
  s->addIncoming(s0, entry);
  s->addIncoming(s1, loop);
  c->addIncoming(c0, entry);
  c->addIncoming(c1, loop);
  b_.CreateCondBr(b_.CreateICmpSLT(next, full), loop, rest);

  b_.SetInsertPoint(rest);
  auto* s2 = b_.CreatePHI(vec(lane_), 2);
  auto* c2 = b_.CreatePHI(vec(lane_), 2);
  s2->addIncoming(s0, entry);
  s2->addIncoming(s1, loop);
  c2->addIncoming(c0, entry);
  c2->addIncoming(c1, loop);
  b_.CreateStore(identity(mapped_), tmp);
  b_.CreateCondBr(b_.CreateICmpSLT(full, n), tail, tail_done);
  b_.SetInsertPoint(tail);
  auto* k = b_.CreatePHI(b_.getInt64Ty(), 2);
  k->addIncoming(full, rest);
  b_.CreateStore(map(k), b_.CreateGEP(item, tmp, b_.CreateSub(k, full)));
  Value* k1 = b_.CreateAdd(k, b_.getInt64(1));
  k->addIncoming(k1, tail);
  b_.CreateCondBr(b_.CreateICmpSLT(k1, n), tail, tail_done);
  b_.SetInsertPoint(tail_done);
  Value* c3 = c2;
  Value* s3 = combine(s2, widen(b_.CreateLoad(vec(mapped_), tmp)), c3);
  b_.CreateBr(done);

  b_.SetInsertPoint(done);
  store(s3, state, 0);
  if (compensated()) store(c3, state, 1);
  b_.CreateRetVoid();
}

void ReduceLowering::merge(const std::string& name) {
  llvm::Function* f = begin(name, 2);
  Value* zero = llvm::Constant::getNullValue(vec(lane_));
  Value* c = compensated() ? load(f->getArg(0), 1) : zero;
  Value* s = combine(load(f->getArg(0), 0), load(f->getArg(1), 0), c);
  store(s, f->getArg(0), 0);
  if (compensated()) store(b_.CreateFAdd(c, load(f->getArg(1), 1)), f->getArg(0), 1);
  b_.CreateRetVoid();
}

void ReduceLowering::finish(const std::string& name) {
  llvm::Function* f = begin(name, 2);
  Value* s = load(f->getArg(0), 0);
  Value* c = compensated() ? load(f->getArg(0), 1) : llvm::Constant::getNullValue(vec(lane_));
  // Halve the lanes until one is left: lane k with lane k + w.
  for (int w = kReduceLanes / 2; w >= 1; w /= 2) {
    std::vector<int> lo, hi;
    for (int k = 0; k < w; ++k) {
      lo.push_back(k);
      hi.push_back(k + w);
    }
    Value* cl = b_.CreateShuffleVector(c, lo);
    Value* ch = b_.CreateShuffleVector(c, hi);
    s = combine(b_.CreateShuffleVector(s, lo), b_.CreateShuffleVector(s, hi), cl);
    c = compensated() ? b_.CreateFAdd(cl, ch) : cl;
  }
  Value* r = b_.CreateExtractElement(s, uint64_t{0});
  if (compensated()) {
    // An infinite or NaN sum has a meaningless compensation: keep the sum.
    Value* finite = b_.CreateFCmpOLT(fabs(r), llvm::ConstantFP::getInfinity(r->getType()));
    r = b_.CreateSelect(finite, b_.CreateFAdd(r, b_.CreateExtractElement(c, uint64_t{0})), r);
  }
  if (lane_ != r_.acc) r = b_.CreateFPTrunc(r, memory_type(c_, r_.acc));
  b_.CreateStore(r, f->getArg(1));
  b_.CreateRetVoid();
}

}  // namespace

void lower_reduction(llvm::Module& m, const Reduction& reduction, llvm::Function* scalar,
                     const ir::Function& fn, const Layout& layout, bool fastmath,
                     const std::string& prefix) {
  ReduceLowering lowering(m, reduction, fn.result.scalar, fastmath);
  lowering.init(prefix + "_init");
  lowering.reduce(prefix + "_reduce", scalar, fn, layout);
  lowering.merge(prefix + "_merge");
  lowering.finish(prefix + "_finish");
}

}  // namespace ember::codegen
