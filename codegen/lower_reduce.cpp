// Lowers the combine step of a @reduce kernel: init / reduce / merge /
// finish over a state of kReduceLanes accumulators (codegen.h). The lanes are
// explicit LLVM vectors, so the order of operations is written here, not left
// to the vectorizer: a result is the same on every machine and thread count
// (the mapped values aside: a math function's SIMD variant depends on the ISA).
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>

#include <algorithm>

#include "codegen/reduce_op.h"

namespace ember::codegen {
namespace {

using ir::Op;
using ir::Scalar;
using llvm::Value;

// The lanes of one stream (codegen.h): a 64-byte cache line of the mapped
// type, between 4 and kReduceLanes.
int stream_lanes(Scalar mapped) { return std::clamp(512 / ir::bits_of(mapped), 4, kReduceLanes); }

// Each stream asks for the cache line this many bytes ahead of the one it
// reads: a dot of 10^7 float64 with one thread went from 0.93x to 1.03x of
// OpenBLAS's ddot (compensated; 1.00x to 1.05x with fastmath), the same with
// two; data already in cache runs as fast as without (prefetcht1 into L2
// only, or 1 or 4 KB ahead: no better; prefetchnta: 3x slower).
constexpr int kPrefetchBytes = 2048;

class ReduceLowering {
 public:
  ReduceLowering(llvm::Module& m, const Reduction& r, Scalar mapped, bool fastmath)
      : m_(m), c_(m.getContext()), b_(c_), op_(b_, r, mapped, fastmath, kReduceLanes),
        mapped_(mapped) {}

  void init(const std::string& name);
  void reduce(const std::string& name, llvm::Function* scalar, const ir::Function& fn,
              const Layout& layout);
  void merge(const std::string& name);
  void finish(const std::string& name);

 private:
  llvm::Type* vec(Scalar s) { return op_.type(s); }
  llvm::Type* lanes() { return op_.type(op_.lane()); }  // the accumulators
  // A function of `params` pointers, with an int64 count after the first when `counted`.
  llvm::Function* begin(const std::string& name, int params, bool counted = false);
  Value* part(Value* state, int k) { return b_.CreateConstGEP1_64(b_.getInt8Ty(), state, k * kReduceLanes * 8); }
  // The runtime aligns states to 64 bytes, not to a whole vector.
  Value* load(Value* state, int k) {
    return b_.CreateAlignedLoad(lanes(), part(state, k), llvm::Align(64));
  }
  void store(Value* v, Value* state, int k) {
    b_.CreateAlignedStore(v, part(state, k), llvm::Align(64));
  }
  // A read prefetch into every cache level (never faults, past the end too).
  void prefetch(Value* ptr) {
    b_.CreateIntrinsic(llvm::Intrinsic::prefetch, {ptr->getType()},
                       {ptr, b_.getInt32(0), b_.getInt32(3), b_.getInt32(1)});
  }
  Value* load_value(Scalar s, Value* ptr) {
    Value* v = b_.CreateLoad(memory_type(c_, s), ptr);
    return s == Scalar::Bool ? b_.CreateICmpNE(v, b_.getInt8(0)) : v;
  }

  llvm::Module& m_;
  llvm::LLVMContext& c_;
  llvm::IRBuilder<> b_;  // no fast-math flags, whatever the kernel's options
  ReduceOp op_;
  Scalar mapped_;
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

void ReduceLowering::init(const std::string& name) {
  llvm::Function* f = begin(name, 1);
  store(op_.start(), f->getArg(0), 0);
  if (op_.compensated()) store(op_.zero(), f->getArg(0), 1);
  b_.CreateRetVoid();
}

// Groups of kReduceLanes elements: the scalar function is called once per
// lane (the SLP vectorizer turns the copies into vector code, vector math
// included) and the group is combined into the lanes at once; no
// intermediate array. A group reads one stream or several side by side
// (codegen.h), G = stream_lanes(mapped) lanes each. The last, partial group
// goes through a small buffer padded with the identity.
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
  // The map's value for arguments `args` (the invariant ones filled in), in memory type.
  auto call = [&](std::vector<Value*> args) {
    for (size_t i = 0; i < nparams; ++i)
      if (invariant[i]) args[i] = invariant[i];
    Value* v = b_.CreateCall(scalar, args);
    return mapped_ == Scalar::Bool ? b_.CreateZExt(v, item) : v;
  };
  // The map's value at element k.
  auto map = [&](Value* k) {
    std::vector<Value*> args(nparams);
    for (size_t i = 0; i < nparams; ++i)
      if (!invariant[i]) {
        Scalar t = fn.params[i].type.scalar;
        args[i] = load_value(t, b_.CreateGEP(memory_type(c_, t), base[i], k));
      }
    return call(args);
  };
  auto* entry = b_.GetInsertBlock();
  auto* loop = llvm::BasicBlock::Create(c_, "loop", f);
  auto* rest = llvm::BasicBlock::Create(c_, "rest", f);
  auto* tail = llvm::BasicBlock::Create(c_, "tail", f);
  auto* tail_done = llvm::BasicBlock::Create(c_, "tail_done", f);
  auto* done = llvm::BasicBlock::Create(c_, "done", f);
  Value* zero = op_.zero();
  Value* s0 = load(state, 0);
  Value* c0 = op_.compensated() ? load(state, 1) : zero;
  Value* full = b_.CreateAnd(n, b_.getInt64(-kReduceLanes));
  int width = stream_lanes(mapped_), streams = kReduceLanes / width;
  Value* steps = b_.CreateUDiv(full, b_.getInt64(kReduceLanes));
  // Stream s starts at s * apart and moves `step` elements per group: side
  // by side (apart = full / streams, step = width) when each stream is
  // kReduceStreamBytes long, else one stream (apart = width, step = kReduceLanes).
  Value* len = b_.CreateUDiv(full, b_.getInt64(streams));
  Value* side = b_.CreateICmpSGE(len, b_.getInt64(kReduceStreamBytes * 8 / ir::bits_of(mapped_)));
  Value* apart = b_.CreateSelect(side, len, b_.getInt64(width));
  Value* step = b_.CreateSelect(side, b_.getInt64(width), b_.getInt64(kReduceLanes));
  b_.CreateCondBr(b_.CreateICmpSGT(full, b_.getInt64(0)), loop, rest);

  b_.SetInsertPoint(loop);
  auto* t = b_.CreatePHI(b_.getInt64Ty(), 2);  // the group
  auto* s = b_.CreatePHI(lanes(), 2);
  auto* c = b_.CreatePHI(lanes(), 2);
  Value* x = llvm::PoisonValue::get(vec(mapped_));
  Value* at = b_.CreateMul(t, step);
  // Each stream's `width` elements of each array as one vector load: left
  // to the vectorizers, lanes of two streams became gathers on AVX-512.
  std::vector<std::vector<Value*>> chunks(nparams, std::vector<Value*>(streams));
  for (size_t i = 0; i < nparams; ++i) {
    if (invariant[i]) continue;
    Scalar t = fn.params[i].type.scalar;
    llvm::Type* chunk = llvm::FixedVectorType::get(memory_type(c_, t), width);
    for (int st = 0; st < streams; ++st) {
      Value* start = b_.CreateAdd(b_.CreateMul(apart, b_.getInt64(st)), at);
      Value* address = b_.CreateGEP(memory_type(c_, t), base[i], start);
      prefetch(b_.CreateConstGEP1_64(b_.getInt8Ty(), address, kPrefetchBytes));  // <= one line
      Value* v = b_.CreateAlignedLoad(chunk, address,
                                      llvm::Align(ir::bits_of(t) / 8 ? ir::bits_of(t) / 8 : 1));
      chunks[i][st] = t == Scalar::Bool ? b_.CreateICmpNE(v, llvm::Constant::getNullValue(chunk)) : v;
    }
  }
  for (int l = 0; l < kReduceLanes; ++l) {
    std::vector<Value*> args(nparams);
    for (size_t i = 0; i < nparams; ++i)
      if (!invariant[i]) args[i] = b_.CreateExtractElement(chunks[i][l / width], uint64_t(l % width));
    x = b_.CreateInsertElement(x, call(args), uint64_t(l));
  }
  Value* c1 = c;
  Value* s1 = op_.combine(s, op_.widen(x), c1);
  Value* next = b_.CreateAdd(t, b_.getInt64(1));
  t->addIncoming(b_.getInt64(0), entry);
  t->addIncoming(next, loop);
  s->addIncoming(s0, entry);
  s->addIncoming(s1, loop);
  c->addIncoming(c0, entry);
  c->addIncoming(c1, loop);
  b_.CreateCondBr(b_.CreateICmpSLT(next, steps), loop, rest);

  b_.SetInsertPoint(rest);
  auto* s2 = b_.CreatePHI(lanes(), 2);
  auto* c2 = b_.CreatePHI(lanes(), 2);
  s2->addIncoming(s0, entry);
  s2->addIncoming(s1, loop);
  c2->addIncoming(c0, entry);
  c2->addIncoming(c1, loop);
  b_.CreateStore(op_.identity(mapped_), tmp);
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
  Value* s3 = op_.combine(s2, op_.widen(b_.CreateLoad(vec(mapped_), tmp)), c3);
  b_.CreateBr(done);

  b_.SetInsertPoint(done);
  store(s3, state, 0);
  if (op_.compensated()) store(c3, state, 1);
  b_.CreateRetVoid();
}

void ReduceLowering::merge(const std::string& name) {
  llvm::Function* f = begin(name, 2);
  Value* zero = op_.zero();
  Value* c = op_.compensated() ? load(f->getArg(0), 1) : zero;
  Value* s = op_.combine(load(f->getArg(0), 0), load(f->getArg(1), 0), c);
  store(s, f->getArg(0), 0);
  if (op_.compensated()) store(b_.CreateFAdd(c, load(f->getArg(1), 1)), f->getArg(0), 1);
  b_.CreateRetVoid();
}

void ReduceLowering::finish(const std::string& name) {
  llvm::Function* f = begin(name, 2);
  Value* s = load(f->getArg(0), 0);
  Value* c = op_.compensated() ? load(f->getArg(0), 1) : op_.zero();
  // Halve the lanes until one is left: lane k with lane k + w.
  for (int w = kReduceLanes / 2; w >= 1; w /= 2) {
    std::vector<int> lo, hi;
    for (int k = 0; k < w; ++k) {
      lo.push_back(k);
      hi.push_back(k + w);
    }
    Value* cl = b_.CreateShuffleVector(c, lo);
    Value* ch = b_.CreateShuffleVector(c, hi);
    s = op_.combine(b_.CreateShuffleVector(s, lo), b_.CreateShuffleVector(s, hi), cl);
    c = op_.compensated() ? b_.CreateFAdd(cl, ch) : cl;
  }
  b_.CreateStore(op_.result(b_.CreateExtractElement(s, uint64_t{0}),
                            b_.CreateExtractElement(c, uint64_t{0})),
                 f->getArg(1));
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
