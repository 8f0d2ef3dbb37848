// The CUDA entry points: one PTX kernel per compiled function, a grid-stride
// loop (each thread takes index i, i + threads, ...) around the scalar
// function of an elementwise kernel or the body of a @kernel. Parameters are
// passed by value, as cuLaunchKernel expects them (codegen.h, CUDA entries).
#include <llvm/IR/IntrinsicsNVPTX.h>

#include "codegen/lowering.h"

namespace ember::codegen {
namespace {

// An nvvm.annotations entry of `f` (LLVM 19's way to mark kernels and their
// launch bounds).
void annotate(llvm::Function* f, const char* key, int value) {
  llvm::LLVMContext& c = f->getContext();
  llvm::Metadata* fields[] = {llvm::ValueAsMetadata::get(f), llvm::MDString::get(c, key),
                              llvm::ValueAsMetadata::get(llvm::ConstantInt::get(llvm::Type::getInt32Ty(c), value))};
  f->getParent()->getOrInsertNamedMetadata("nvvm.annotations")->addOperand(llvm::MDNode::get(c, fields));
}

}  // namespace

Value* gpu_sreg(IRBuilder<>& b, llvm::Intrinsic::ID id) {
  return b.CreateZExt(b.CreateIntrinsic(id, {}, {}), b.getInt64Ty());
}

llvm::Function* gpu_entry(IRBuilder<>& b, llvm::Module& m, const std::string& name,
                          const std::vector<llvm::Type*>& params, int block) {
  auto* f = llvm::Function::Create(llvm::FunctionType::get(b.getVoidTy(), params, false),
                                   llvm::Function::ExternalLinkage, name, m);
  f->addFnAttr(llvm::Attribute::NoUnwind);
  annotate(f, "kernel", 1);
  if (block) annotate(f, "reqntidx", block);
  b.SetInsertPoint(llvm::BasicBlock::Create(m.getContext(), "entry", f));
  return f;
}

void stride_loop(IRBuilder<>& b, Value* first, Value* stride, Value* n,
                 const std::function<void(Value*)>& each) {
  llvm::Function* f = b.GetInsertBlock()->getParent();
  auto* before = b.GetInsertBlock();
  auto* body = llvm::BasicBlock::Create(b.getContext(), "stride", f);
  auto* exit = llvm::BasicBlock::Create(b.getContext(), "stride.exit", f);
  b.CreateCondBr(b.CreateICmpSLT(first, n), body, exit);
  b.SetInsertPoint(body);
  llvm::PHINode* i = b.CreatePHI(b.getInt64Ty(), 2);
  i->addIncoming(first, before);
  each(i);
  Value* next = b.CreateAdd(i, stride, "", true, true);
  i->addIncoming(next, b.GetInsertBlock());
  b.CreateCondBr(b.CreateICmpSLT(next, n), body, exit);
  b.SetInsertPoint(exit);
}

// for (i = block * threads_per_block + thread; i < n; i += all threads) each(i)
void Lowering::grid_stride_loop(Value* n, const std::function<void(Value*)>& each) {
  namespace I = llvm::Intrinsic;
  Value* per_block = gpu_sreg(b_, I::nvvm_read_ptx_sreg_ntid_x);
  Value* first = b_.CreateAdd(b_.CreateMul(gpu_sreg(b_, I::nvvm_read_ptx_sreg_ctaid_x), per_block),
                              gpu_sreg(b_, I::nvvm_read_ptx_sreg_tid_x));
  stride_loop(b_, first, b_.CreateMul(per_block, gpu_sreg(b_, I::nvvm_read_ptx_sreg_nctaid_x)), n,
              each);
}

std::vector<llvm::Type*> Lowering::gpu_input_types(const Layout& layout) {
  std::vector<llvm::Type*> types;
  for (size_t i = 0; i < fn_.params.size(); ++i) {
    if (layout.scalar[i]) {
      types.push_back(memory_type(c_, fn_.params[i].type.scalar));
    } else {
      types.push_back(b_.getPtrTy());
      types.insert(types.end(), layout.strided, b_.getInt64Ty());
    }
  }
  return types;
}

Lowering::GpuOperand Lowering::gpu_operand(llvm::Function* f, unsigned& at, bool scalar,
                                           int strided) {
  GpuOperand op{f->getArg(at++), {}};
  for (int a = 0; !scalar && a < strided; ++a) op.strides.push_back(f->getArg(at++));
  return op;
}

std::vector<Value*> Lowering::unravel(Value* k, const std::vector<Value*>& extents) {
  std::vector<Value*> index(extents.size());
  for (size_t a = extents.size(); a-- > 0;) {
    index[a] = a ? b_.CreateURem(k, extents[a]) : k;
    if (a) k = b_.CreateUDiv(k, extents[a]);
  }
  return index;
}

Value* Lowering::gpu_address(const GpuOperand& op, Scalar s, Value* k,
                             const std::vector<Value*>& index) {
  if (op.strides.empty()) return b_.CreateGEP(memory_type(c_, s), op.data, k);
  Value* offset = b_.getInt64(0);
  for (size_t a = 0; a < index.size(); ++a)
    offset = b_.CreateAdd(offset, b_.CreateMul(index[a], op.strides[a], "", false, true));
  return b_.CreateGEP(b_.getInt8Ty(), op.data, offset);
}

std::vector<Value*> Lowering::map_args(const std::vector<GpuOperand>& inputs,
                                       const Layout& layout, Value* k,
                                       const std::vector<Value*>& index) {
  std::vector<Value*> args;
  for (size_t i = 0; i < fn_.params.size(); ++i) {
    Scalar s = fn_.params[i].type.scalar;
    args.push_back(layout.scalar[i] ? from_memory(s, inputs[i].data)
                                    : load(s, gpu_address(inputs[i], s, k, index)));
  }
  return args;
}

std::vector<Lowering::GpuOperand> Lowering::gpu_inputs(llvm::Function* f, unsigned& at,
                                                       const Layout& layout) {
  std::vector<GpuOperand> inputs;
  for (size_t i = 0; i < fn_.params.size(); ++i)
    inputs.push_back(gpu_operand(f, at, layout.scalar[i], layout.strided));
  return inputs;
}

std::vector<Value*> Lowering::gpu_extents(llvm::Function* f, unsigned& at, int count) {
  std::vector<Value*> extents;
  for (int a = 0; a < count; ++a) extents.push_back(f->getArg(at++));
  return extents;
}

void Lowering::gpu_elementwise(llvm::Function* scalar, const Layout& layout,
                               const std::string& name) {
  std::vector<llvm::Type*> types = gpu_input_types(layout);
  types.push_back(b_.getPtrTy());  // the output, its strides, the extents, n
  types.insert(types.end(), 2 * layout.strided + 1, b_.getInt64Ty());
  llvm::Function* f = gpu_entry(b_, m_, name, types);
  unsigned at = 0;
  std::vector<GpuOperand> inputs = gpu_inputs(f, at, layout);
  GpuOperand output = gpu_operand(f, at, false, layout.strided);
  std::vector<Value*> extents = gpu_extents(f, at, layout.strided);
  grid_stride_loop(f->getArg(at), [&](Value* k) {
    std::vector<Value*> index = unravel(k, extents);
    Scalar out = fn_.result.scalar;
    store(out, b_.CreateCall(scalar, map_args(inputs, layout, k, index)),
          gpu_address(output, out, k, index));
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
  llvm::Function* f = gpu_entry(b_, m_, name, types);
  llvm::AllocaInst* error = b_.CreateAlloca(llvm::ArrayType::get(i64, 4));
  Value* total = b_.getInt64(1);
  for (int k = 0; k < fn_.domain; ++k) total = b_.CreateMul(total, f->getArg(nargs + k));
  grid_stride_loop(total, [&](Value* linear) {
    std::vector<Value*> args;
    for (size_t i = 0; i < nargs; ++i) args.push_back(f->getArg(i));
    unsigned at = nargs;
    std::vector<Value*> index = unravel(linear, gpu_extents(f, at, fn_.domain));
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

}  // namespace ember::codegen
