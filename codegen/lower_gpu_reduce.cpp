// The GPU kernels of a @reduce (codegen.h, CUDA): blocks of kGpuReduceBlock
// threads reduce tiles of up to kGpuReduceTile elements of a segment (the
// whole input, or what one result of a reduction over axes combines) into
// one partial each; each segment's partials are reduced the same way, a
// tile at a time, until one is left. Inside a tile, thread t folds elements
// t, t + 256, t + 512, ... (adjacent threads read adjacent elements), each
// warp combines its threads by shuffles (lane k with lane k + 16, 8, 4, 2,
// 1, as the CPU combines its lanes), and warp 0 combines the 8 warps in
// order. Every step depends only on the element's position in its segment,
// never on the grid: the result depends on the segment length alone.
#include <llvm/IR/IntrinsicsNVPTX.h>

#include "codegen/lowering.h"
#include "codegen/reduce_op.h"

namespace ember::codegen {
namespace {

namespace I = llvm::Intrinsic;
constexpr int kWarp = 32;
constexpr int kWarps = kGpuReduceBlock / kWarp;

// One accumulator: its value and, for compensated sums, its compensation
// (nullptr otherwise, or for a mapped value that has none).
struct Acc {
  Value* s;
  Value* c;
};

class TileReduce {
 public:
  TileReduce(IRBuilder<>& b, llvm::Module& m, ReduceOp& op) : b_(b), m_(m), op_(op) {}

  // Reduces tiles 0 .. tiles-1 (element(i) gives element i): the elements
  // are segments of `segment` each, cut in `pieces` tiles of up to
  // kGpuReduceTile; tile t is piece t % pieces of segment t / pieces.
  // Thread 0 of the block hands each tile's result to store(tile, acc). An
  // empty tile gives the identity.
  void run(Value* segment, Value* pieces, Value* tiles, const std::function<Acc(Value*)>& element,
           const std::function<void(Value*, Acc)>& store);
  // A partial (kGpuPartialBytes each: the value, then its compensation).
  Acc load(Value* partials, Value* index);
  void store(Value* partials, Value* index, Acc a);
  // Runs then() in a branch taken when `cond` holds.
  void when(Value* cond, const std::function<void()>& then) {
    llvm::Function* f = b_.GetInsertBlock()->getParent();
    auto* yes = llvm::BasicBlock::Create(b_.getContext(), "then", f);
    auto* done = llvm::BasicBlock::Create(b_.getContext(), "endif", f);
    b_.CreateCondBr(cond, yes, done);
    b_.SetInsertPoint(yes);
    then();
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
  }

 private:
  llvm::Type* lane() { return op_.type(op_.lane()); }
  Value* at(Value* partials, Value* index, int half) {
    Value* offset = b_.CreateAdd(b_.CreateMul(index, b_.getInt64(kGpuPartialBytes)),
                                 b_.getInt64(half * 8));
    return b_.CreateGEP(b_.getInt8Ty(), partials, offset);
  }
  Acc start() { return {op_.start(), op_.compensated() ? op_.zero() : nullptr}; }
  // a (op) x; the compensations add up.
  Acc join(Acc a, Acc x) {
    Value* c = a.c;
    Value* s = op_.combine(a.s, x.s, c);
    return {s, x.c ? b_.CreateFAdd(c, x.c) : c};
  }
  Value* shuffle_down(Value* v, int offset);
  // Lane k of the warp gets lane k (op) lane k + w, for w = width/2 .. 1.
  Acc warp_combine(Acc a, int width) {
    for (int w = width / 2; w >= 1; w /= 2)
      a = join(a, {shuffle_down(a.s, w), a.c ? shuffle_down(a.c, w) : nullptr});
    return a;
  }
  llvm::GlobalVariable* shared(const char* name) {
    auto* type = llvm::ArrayType::get(lane(), kWarps);
    return new llvm::GlobalVariable(m_, type, false, llvm::GlobalValue::InternalLinkage,
                                    llvm::UndefValue::get(type), name, nullptr,
                                    llvm::GlobalValue::NotThreadLocal, 3);
  }
  IRBuilder<>& b_;
  llvm::Module& m_;
  ReduceOp& op_;
};

// shfl.sync.down moves 32 bits: wider values go in two halves, narrower
// ones widened.
Value* TileReduce::shuffle_down(Value* v, int offset) {
  llvm::Type* t = v->getType();
  unsigned bits = t->getPrimitiveSizeInBits();
  llvm::Type* i32 = b_.getInt32Ty();
  auto shfl = [&](Value* x) {
    return b_.CreateIntrinsic(I::nvvm_shfl_sync_down_i32, {},
                              {b_.getInt32(-1), x, b_.getInt32(offset), b_.getInt32(kWarp - 1)});
  };
  Value* x = b_.CreateBitCast(v, b_.getIntNTy(bits));
  Value* moved;
  if (bits == 64) {
    Value* lo = shfl(b_.CreateTrunc(x, i32));
    Value* hi = shfl(b_.CreateTrunc(b_.CreateLShr(x, 32), i32));
    moved = b_.CreateOr(b_.CreateZExt(lo, x->getType()),
                        b_.CreateShl(b_.CreateZExt(hi, x->getType()), 32));
  } else {
    moved = b_.CreateTrunc(shfl(b_.CreateZExt(x, i32)), x->getType());
  }
  return b_.CreateBitCast(moved, t);
}

Acc TileReduce::load(Value* partials, Value* index) {
  Value* s = b_.CreateLoad(lane(), at(partials, index, 0));
  return {s, op_.compensated() ? b_.CreateLoad(lane(), at(partials, index, 1)) : nullptr};
}

void TileReduce::store(Value* partials, Value* index, Acc a) {
  b_.CreateStore(a.s, at(partials, index, 0));
  if (a.c) b_.CreateStore(a.c, at(partials, index, 1));
}

void TileReduce::run(Value* segment, Value* pieces, Value* tiles,
                     const std::function<Acc(Value*)>& element,
                     const std::function<void(Value*, Acc)>& store_tile) {
  Value* thread = gpu_sreg(b_, I::nvvm_read_ptx_sreg_tid_x);
  Value* lane_id = b_.CreateAnd(thread, b_.getInt64(kWarp - 1));
  Value* warp = b_.CreateLShr(thread, b_.getInt64(5));
  llvm::AllocaInst* s = b_.CreateAlloca(lane());
  llvm::AllocaInst* c = op_.compensated() ? b_.CreateAlloca(lane()) : nullptr;
  llvm::GlobalVariable* warp_s = shared("warp_s");
  llvm::GlobalVariable* warp_c = c ? shared("warp_c") : nullptr;
  auto read = [&]() { return Acc{b_.CreateLoad(lane(), s), c ? b_.CreateLoad(lane(), c) : nullptr}; };
  auto write = [&](Acc a) {
    b_.CreateStore(a.s, s);
    if (c) b_.CreateStore(a.c, c);
  };
  auto slot = [&](llvm::GlobalVariable* g, Value* k) { return b_.CreateGEP(lane(), g, k); };

  stride_loop(b_, gpu_sreg(b_, I::nvvm_read_ptx_sreg_ctaid_x),
              gpu_sreg(b_, I::nvvm_read_ptx_sreg_nctaid_x), tiles, [&](Value* tile) {
    write(start());
    Value* base = b_.CreateMul(b_.CreateUDiv(tile, pieces), segment);
    Value* first = b_.CreateAdd(base, b_.CreateMul(b_.CreateURem(tile, pieces),
                                                    b_.getInt64(kGpuReduceTile)));
    Value* end = b_.CreateBinaryIntrinsic(I::umin, b_.CreateAdd(base, segment),
                                          b_.CreateAdd(first, b_.getInt64(kGpuReduceTile)));
    stride_loop(b_, b_.CreateAdd(first, thread), b_.getInt64(kGpuReduceBlock), end,
                [&](Value* i) { write(join(read(), element(i))); });
    Acc a = warp_combine(read(), kWarp);
    when(b_.CreateICmpEQ(lane_id, b_.getInt64(0)), [&] {
      b_.CreateStore(a.s, slot(warp_s, warp));
      if (c) b_.CreateStore(a.c, slot(warp_c, warp));
    });
    b_.CreateIntrinsic(I::nvvm_barrier0, {}, {});
    when(b_.CreateICmpEQ(warp, b_.getInt64(0)), [&] {
      // Lanes 0..7 hold the warps' results; the others the start value.
      write(start());
      when(b_.CreateICmpULT(lane_id, b_.getInt64(kWarps)), [&] {
        write({b_.CreateLoad(lane(), slot(warp_s, lane_id)),
               c ? b_.CreateLoad(lane(), slot(warp_c, lane_id)) : nullptr});
      });
      Acc block = warp_combine(read(), kWarps);
      when(b_.CreateICmpEQ(lane_id, b_.getInt64(0)), [&] { store_tile(tile, block); });
    });
    b_.CreateIntrinsic(I::nvvm_barrier0, {}, {});  // the shared slots are free again
  });
}

}  // namespace

void Lowering::gpu_reduce(llvm::Function* scalar, const Layout& layout, const Reduction& r,
                          bool fastmath, const std::string& name) {
  // The map keeps the kernel's flags (it is its own function); the
  // combine's order and rounding are fixed.
  llvm::IRBuilderBase::FastMathFlagGuard guard(b_);
  b_.clearFastMathFlags();
  Scalar mapped = fn_.result.scalar;
  ReduceOp op(b_, r, mapped, fastmath, 1);
  TileReduce tiles(b_, m_, op);
  llvm::Type* ptr = b_.getPtrTy();
  llvm::Type* i64 = b_.getInt64Ty();

  std::vector<llvm::Type*> types = gpu_input_types(layout);
  types.push_back(ptr);  // the partials, the extents, segment, pieces, tiles
  types.insert(types.end(), layout.strided + 3, i64);
  llvm::Function* f = gpu_entry(b_, m_, name, types, kGpuReduceBlock);
  unsigned at = 0;
  std::vector<GpuOperand> inputs = gpu_inputs(f, at, layout);
  Value* partials = f->getArg(at++);
  std::vector<Value*> extents = gpu_extents(f, at, layout.strided);
  tiles.run(
      f->getArg(at), f->getArg(at + 1), f->getArg(at + 2),
      [&](Value* i) {
        Value* v = b_.CreateCall(scalar, map_args(inputs, layout, i, unravel(i, extents)));
        if (mapped == Scalar::Bool) v = b_.CreateZExt(v, memory_type(c_, mapped));
        return Acc{op.widen(v), nullptr};
      },
      [&](Value* tile, Acc a) { tiles.store(partials, tile, a); });
  b_.CreateRetVoid();

  f = gpu_entry(b_, m_, name + "_merge", {ptr, ptr, i64, i64, i64}, kGpuReduceBlock);
  tiles.run(
      f->getArg(2), f->getArg(3), f->getArg(4),
      [&](Value* i) { return tiles.load(f->getArg(0), i); },
      [&](Value* tile, Acc a) { tiles.store(f->getArg(1), tile, a); });
  b_.CreateRetVoid();

  f = gpu_entry(b_, m_, name + "_finish", {ptr, ptr, i64}, kGpuReduceBlock);
  grid_stride_loop(f->getArg(2), [&](Value* i) {
    Acc a = tiles.load(f->getArg(0), i);
    b_.CreateStore(op.result(a.s, a.c ? a.c : op.zero()),
                   b_.CreateGEP(op.type(r.acc), f->getArg(1), i));
  });
  b_.CreateRetVoid();
}

}  // namespace ember::codegen
