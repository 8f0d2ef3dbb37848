// The CUDA entry points: one PTX kernel per compiled function, a grid-stride
// loop (each thread takes index i, i + threads, ...) around the scalar
// function of an elementwise kernel or the body of a @kernel. Parameters are
// passed by value, as cuLaunchKernel expects them (codegen.h, CUDA entries).
#include <llvm/IR/IntrinsicsNVPTX.h>

#include "codegen/lowering.h"

namespace ember::codegen {
namespace {

// Marks `f` as a kernel the driver can launch (LLVM 19: nvvm.annotations).
void mark_kernel(llvm::Function* f) {
  llvm::LLVMContext& c = f->getContext();
  llvm::Metadata* fields[] = {llvm::ValueAsMetadata::get(f), llvm::MDString::get(c, "kernel"),
                              llvm::ValueAsMetadata::get(llvm::ConstantInt::get(llvm::Type::getInt32Ty(c), 1))};
  f->getParent()->getOrInsertNamedMetadata("nvvm.annotations")->addOperand(llvm::MDNode::get(c, fields));
}

}  // namespace

// for (i = block * threads_per_block + thread; i < n; i += all threads) each(i)
void Lowering::grid_stride_loop(Value* n, const std::function<void(Value*)>& each) {
  namespace I = llvm::Intrinsic;
  auto sreg = [&](I::ID id) { return b_.CreateZExt(b_.CreateIntrinsic(id, {}, {}), b_.getInt64Ty()); };
  Value* per_block = sreg(I::nvvm_read_ptx_sreg_ntid_x);
  Value* first = b_.CreateAdd(b_.CreateMul(sreg(I::nvvm_read_ptx_sreg_ctaid_x), per_block),
                              sreg(I::nvvm_read_ptx_sreg_tid_x));
  Value* stride = b_.CreateMul(per_block, sreg(I::nvvm_read_ptx_sreg_nctaid_x));
  llvm::Function* f = b_.GetInsertBlock()->getParent();
  auto* before = b_.GetInsertBlock();
  auto* body = llvm::BasicBlock::Create(c_, "grid", f);
  auto* exit = llvm::BasicBlock::Create(c_, "grid.exit", f);
  b_.CreateCondBr(b_.CreateICmpSLT(first, n), body, exit);
  b_.SetInsertPoint(body);
  llvm::PHINode* i = b_.CreatePHI(b_.getInt64Ty(), 2);
  i->addIncoming(first, before);
  each(i);
  Value* next = b_.CreateAdd(i, stride, "", true, true);
  i->addIncoming(next, b_.GetInsertBlock());
  b_.CreateCondBr(b_.CreateICmpSLT(next, n), body, exit);
  b_.SetInsertPoint(exit);
}

void Lowering::gpu_elementwise(llvm::Function* scalar, const Layout& layout,
                               const std::string& name) {
  std::vector<llvm::Type*> types;
  for (size_t i = 0; i < fn_.params.size(); ++i)
    types.push_back(layout.scalar[i] ? memory_type(c_, fn_.params[i].type.scalar) : b_.getPtrTy());
  types.push_back(b_.getPtrTy());    // the output
  types.push_back(b_.getInt64Ty());  // n
  auto* f = llvm::Function::Create(llvm::FunctionType::get(b_.getVoidTy(), types, false),
                                   llvm::Function::ExternalLinkage, name, m_);
  f->addFnAttr(llvm::Attribute::NoUnwind);
  mark_kernel(f);
  b_.SetInsertPoint(llvm::BasicBlock::Create(c_, "entry", f));
  size_t nparams = fn_.params.size();
  grid_stride_loop(f->getArg(nparams + 1), [&](Value* k) {
    std::vector<Value*> args;
    for (size_t i = 0; i < nparams; ++i) {
      Scalar s = fn_.params[i].type.scalar;
      Value* arg = f->getArg(i);
      args.push_back(layout.scalar[i] ? from_memory(s, arg)
                                      : load(s, b_.CreateGEP(memory_type(c_, s), arg, k)));
    }
    Scalar out = fn_.result.scalar;
    store(out, b_.CreateCall(scalar, args),
          b_.CreateGEP(memory_type(c_, out), f->getArg(nparams), k));
  });
  b_.CreateRetVoid();
}

// The kernel takes the body's parameters (scalars; arrays as data, shape,
// strides), then the domain's extents, then a GpuKernelError*. Index i of
// the flattened domain is its row-major position (the last axis fastest).
void Lowering::gpu_kernel(llvm::Function* body, const std::string& name) {
  llvm::Type* i64 = b_.getInt64Ty();
  llvm::FunctionType* body_type = body->getFunctionType();
  std::vector<llvm::Type*> types(body_type->param_begin(),
                                 body_type->param_end() - fn_.domain - 1);
  size_t nargs = types.size();
  types.insert(types.end(), fn_.domain, i64);
  types.push_back(b_.getPtrTy());
  auto* f = llvm::Function::Create(llvm::FunctionType::get(b_.getVoidTy(), types, false),
                                   llvm::Function::ExternalLinkage, name, m_);
  f->addFnAttr(llvm::Attribute::NoUnwind);
  mark_kernel(f);
  b_.SetInsertPoint(llvm::BasicBlock::Create(c_, "entry", f));
  llvm::AllocaInst* error = b_.CreateAlloca(llvm::ArrayType::get(i64, 4));
  Value* total = b_.getInt64(1);
  for (int k = 0; k < fn_.domain; ++k) total = b_.CreateMul(total, f->getArg(nargs + k));
  grid_stride_loop(total, [&](Value* linear) {
    std::vector<Value*> args;
    for (size_t i = 0; i < nargs; ++i) args.push_back(f->getArg(i));
    std::vector<Value*> index(fn_.domain);
    for (int k = fn_.domain - 1; k >= 0; --k) {
      Value* extent = f->getArg(nargs + k);
      index[k] = k ? b_.CreateURem(linear, extent) : linear;
      if (k) linear = b_.CreateUDiv(linear, extent);
    }
    args.insert(args.end(), index.begin(), index.end());
    args.push_back(error);
    Value* status = b_.CreateCall(body, args);
    if (!boundscheck_) return;
    // The first thread to fail claims the record; the rest keep running.
    auto* failed = llvm::BasicBlock::Create(c_, "failed", f);
    auto* report = llvm::BasicBlock::Create(c_, "report", f);
    auto* next = llvm::BasicBlock::Create(c_, "next", f);
    b_.CreateCondBr(b_.CreateICmpNE(status, b_.getInt32(0)), failed, next);
    b_.SetInsertPoint(failed);
    Value* out = f->getArg(types.size() - 1);
    auto order = llvm::AtomicOrdering::Monotonic;
    Value* claim = b_.CreateAtomicCmpXchg(out, b_.getInt64(0), b_.getInt64(1),
                                          llvm::MaybeAlign(8), order, order);
    b_.CreateCondBr(b_.CreateExtractValue(claim, 1), report, next);
    b_.SetInsertPoint(report);
    for (int k = 0; k < 4; ++k)
      b_.CreateStore(b_.CreateLoad(i64, b_.CreateConstGEP1_64(i64, error, k)),
                     b_.CreateConstGEP1_64(i64, out, k + 1));
    b_.CreateBr(next);
    b_.SetInsertPoint(next);
  });
  b_.CreateRetVoid();
}

// Stage 1, `name`: unit u (elements u * unit .. u * unit + unit - 1) is
// reduced by one thread, with the CPU's state functions, into state u of
// `states` (kReduceStateBytes each). Params: the inputs as for an
// elementwise kernel, states*, int64 n, int64 unit; max(1, ceil(n / unit))
// threads (an empty input gives one identity state).
// `name`_merge: state t of `out` = in[t * fan] (op) ... (op) in[t * fan +
// fan - 1] (those below m), in that order. Params: in*, out*, int64 m,
// int64 fan; ceil(m / fan) threads.
// `name`_finish: the value of state 0 of in* into result*; one thread.
// Every state depends only on n, unit and fan: the result does not depend on
// the grid.
void Lowering::gpu_reduce(const Layout& layout, const std::string& prefix, const std::string& name) {
  llvm::Type* i64 = b_.getInt64Ty();
  llvm::Type* ptr = b_.getPtrTy();
  auto kernel = [&](const std::string& kname, std::vector<llvm::Type*> types) {
    auto* f = llvm::Function::Create(llvm::FunctionType::get(b_.getVoidTy(), types, false),
                                     llvm::Function::ExternalLinkage, kname, m_);
    f->addFnAttr(llvm::Attribute::NoUnwind);
    mark_kernel(f);
    b_.SetInsertPoint(llvm::BasicBlock::Create(c_, "entry", f));
    return f;
  };
  auto state_at = [&](Value* states, Value* index) {
    return b_.CreateGEP(b_.getInt8Ty(), states, b_.CreateMul(index, b_.getInt64(kReduceStateBytes)));
  };
  auto fn = [&](const char* suffix) { return m_.getFunction(prefix + suffix); };
  auto ceil_div = [&](Value* a, Value* d) {
    return b_.CreateUDiv(b_.CreateAdd(a, b_.CreateSub(d, b_.getInt64(1))), d);
  };
  size_t nparams = fn_.params.size();

  std::vector<llvm::Type*> types;
  for (size_t i = 0; i < nparams; ++i)
    types.push_back(layout.scalar[i] ? memory_type(c_, fn_.params[i].type.scalar) : ptr);
  types.insert(types.end(), {ptr, i64, i64});
  llvm::Function* f = kernel(name, types);
  Value* states = f->getArg(nparams);
  Value* n = f->getArg(nparams + 1);
  Value* unit = f->getArg(nparams + 2);
  llvm::AllocaInst* ptrs = b_.CreateAlloca(ptr, b_.getInt32(nparams));
  std::vector<llvm::AllocaInst*> values(nparams, nullptr);
  for (size_t i = 0; i < nparams; ++i)
    if (layout.scalar[i]) {
      values[i] = b_.CreateAlloca(types[i]);
      b_.CreateStore(f->getArg(i), values[i]);
    }
  Value* units = ceil_div(n, unit);
  units = b_.CreateSelect(b_.CreateICmpEQ(units, b_.getInt64(0)), b_.getInt64(1), units);
  grid_stride_loop(units, [&](Value* u) {
    Value* first = b_.CreateMul(u, unit);
    for (size_t i = 0; i < nparams; ++i) {
      Value* p = values[i];
      if (!p) p = b_.CreateGEP(memory_type(c_, fn_.params[i].type.scalar), f->getArg(i), first);
      b_.CreateStore(p, b_.CreateConstGEP1_64(ptr, ptrs, i));
    }
    Value* count = b_.CreateBinaryIntrinsic(llvm::Intrinsic::smin, unit, b_.CreateSub(n, first));
    count = b_.CreateBinaryIntrinsic(llvm::Intrinsic::smax, count, b_.getInt64(0));
    Value* state = state_at(states, u);
    b_.CreateCall(fn("_init"), {state});
    b_.CreateCall(fn("_reduce"), {ptrs, count, state});
  });
  b_.CreateRetVoid();

  f = kernel(name + "_merge", {ptr, ptr, i64, i64});
  Value* in = f->getArg(0);
  Value* m = f->getArg(2);
  Value* fan = f->getArg(3);
  grid_stride_loop(ceil_div(m, fan), [&](Value* t) {
    Value* out = state_at(f->getArg(1), t);
    Value* first = b_.CreateMul(t, fan);
    b_.CreateMemCpy(out, llvm::Align(64), state_at(in, first), llvm::Align(64), kReduceStateBytes);
    Value* end = b_.CreateBinaryIntrinsic(llvm::Intrinsic::smin, b_.CreateAdd(first, fan), m);
    auto* before = b_.GetInsertBlock();
    auto* loop = llvm::BasicBlock::Create(c_, "merge", f);
    auto* done = llvm::BasicBlock::Create(c_, "merge.done", f);
    Value* second = b_.CreateAdd(first, b_.getInt64(1));
    b_.CreateCondBr(b_.CreateICmpSLT(second, end), loop, done);
    b_.SetInsertPoint(loop);
    llvm::PHINode* j = b_.CreatePHI(i64, 2);
    j->addIncoming(second, before);
    b_.CreateCall(fn("_merge"), {out, state_at(in, j)});
    Value* next = b_.CreateAdd(j, b_.getInt64(1));
    j->addIncoming(next, loop);
    b_.CreateCondBr(b_.CreateICmpSLT(next, end), loop, done);
    b_.SetInsertPoint(done);
  });
  b_.CreateRetVoid();

  f = kernel(name + "_finish", {ptr, ptr});
  grid_stride_loop(b_.getInt64(1),
                   [&](Value*) { b_.CreateCall(fn("_finish"), {f->getArg(0), f->getArg(1)}); });
  b_.CreateRetVoid();
}

}  // namespace ember::codegen
