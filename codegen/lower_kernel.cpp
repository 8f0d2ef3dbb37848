// Lowers what only a @kernel has: array parameters, loads and stores with
// NumPy's negative indices (and bounds checks when asked), for and while
// loops with break and continue, atomics, and the loops over a box of the
// domain that call the kernel's body once per index.
#include <algorithm>
#include <functional>
#include <stdexcept>

#include <llvm/IR/MDBuilder.h>

#include "codegen/lowering.h"

namespace ember::codegen {

llvm::Function* Lowering::kernel_body(const std::string& name, const Layout& layout) {
  llvm::Type* i64 = b_.getInt64Ty();
  std::vector<llvm::Type*> types;
  for (const ir::Variable& p : fn_.params) {
    if (!p.type.is_array()) {
      types.push_back(ty(p.type.scalar));
      continue;
    }
    types.push_back(b_.getPtrTy());
    types.insert(types.end(), 2 * p.type.ndim, i64);  // shape, strides
  }
  types.insert(types.end(), fn_.domain, i64);  // the index
  types.push_back(b_.getPtrTy());               // KernelError*
  llvm::Type* result = boundscheck_ ? b_.getInt32Ty() : b_.getVoidTy();
  f_ = llvm::Function::Create(llvm::FunctionType::get(result, types, false),
                              llvm::Function::InternalLinkage, name, m_);
  f_->addFnAttr(llvm::Attribute::AlwaysInline);
  f_->addFnAttr(llvm::Attribute::NoUnwind);
  enter(f_);
  auto arg = f_->arg_begin();
  arrays_.resize(fn_.params.size());
  for (size_t i = 0; i < fn_.params.size(); ++i) {
    const ir::Type& t = fn_.params[i].type;
    params_.push_back(t.is_array() ? nullptr : &*arg++);
    if (!t.is_array()) continue;
    Array& a = arrays_[i];
    a.data = &*arg++;
    for (int k = 0; k < t.ndim; ++k) a.shape.push_back(&*arg++);
    for (int k = 0; k < t.ndim; ++k) a.strides.push_back(&*arg++);
    if (i < layout.unit_stride.size() && layout.unit_stride[i]) a.strides.back() = b_.getInt64(1);
  }
  for (int k = 0; k < fn_.domain; ++k) tids_.push_back(&*arg++);
  error_ = &*arg;
  for (const ir::Variable& v : fn_.locals) {
    slots_.push_back(b_.CreateAlloca(ty(v.type.scalar), nullptr, v.name));
    b_.CreateStore(llvm::Constant::getNullValue(ty(v.type.scalar)), slots_.back());
  }
  group_ = llvm::MDNode::getDistinct(c_, {});
  find_non_negative_vars();
  if (block(fn_.body)) finish_index();
  return f_;
}

void Lowering::finish_index() {
  if (boundscheck_)
    b_.CreateRet(b_.getInt32(0));
  else
    b_.CreateRetVoid();
}

bool Lowering::kernel_statement(const ir::Stmt& s) {
  switch (s.kind) {
    case ir::StmtKind::Store: {
      Value* value = expr(*s.value);  // Python evaluates the value before the target
      store(s.args[0]->type.scalar, value, element(s.args, s.loc), group_);
      return true;
    }
    case ir::StmtKind::Atomic: atomic(s); return true;
    case ir::StmtKind::For: for_loop(s); return true;
    case ir::StmtKind::While: while_loop(s); return true;
    case ir::StmtKind::Break: b_.CreateBr(loops_.back().exit); return false;
    case ir::StmtKind::Continue: b_.CreateBr(loops_.back().next); return false;
    default: throw std::logic_error("codegen: unexpected statement in a kernel");
  }
}

// range(start, stop, step) as a counted loop: the number of iterations is
// computed once, in unsigned arithmetic (no overflow near the int64 limits),
// and iteration n sets the variable to start + n * step. The counter runs
// apart from the variable (which the body may change), as in Python; it
// steps before the body, so `continue` goes to the test. A loop-invariant
// trip count also lets LLVM unroll the loop at run time.
//
// A loop whose variable indexes arrays and can be negative only through its
// start (`for k in range(t * chunk, ...)`) runs in two copies: one for a
// non-negative start, where the variable's indices need no wrap-around, and
// one for any start.
void Lowering::for_loop(const ir::Stmt& s) {
  Value* start = expr(*s.args[0]);
  Value* stop = expr(*s.args[1]);
  Value* step = expr(*s.args[2]);
  Value* zero = b_.getInt64(0);
  Value* one = b_.getInt64(1);
  // ceil(distance / by) iterations when distance > 0 (distance, by: unsigned).
  auto iterations = [&](Value* from, Value* to, Value* by) {
    Value* distance = b_.CreateSub(to, from);
    Value* count = b_.CreateAdd(b_.CreateUDiv(b_.CreateSub(distance, one), by), one);
    return b_.CreateSelect(b_.CreateICmpSGT(to, from), count, zero);
  };
  const ir::Expr& st = *s.args[2];
  Value* count;
  if (st.op == Op::Const) {
    count = st.value.i > 0   ? iterations(start, stop, step)
            : st.value.i < 0 ? iterations(stop, start, b_.CreateNeg(step))
                             : zero;
  } else {  // a step of zero runs no iteration, and divides by nothing: both
            // divisions run (a select picks the count), so neither may trap
    Value* by = b_.CreateSelect(b_.CreateICmpEQ(step, zero), one, step);
    count = b_.CreateSelect(
        b_.CreateICmpSGT(step, zero), iterations(start, stop, by),
        b_.CreateSelect(b_.CreateICmpSLT(step, zero), iterations(stop, start, b_.CreateNeg(by)),
                        zero));
  }
  if (!non_negative_through_start(s)) {
    counted_loop(s, start, step, count);
    return;
  }
  auto* non_negative = llvm::BasicBlock::Create(c_, "for.nonneg", f_);
  auto* any = llvm::BasicBlock::Create(c_, "for.any", f_);
  auto* done = llvm::BasicBlock::Create(c_, "for.done", f_);
  b_.CreateCondBr(b_.CreateICmpSGE(start, zero), non_negative, any);
  b_.SetInsertPoint(non_negative);
  non_negative_vars_.insert(s.var);
  counted_loop(s, start, step, count);
  non_negative_vars_.erase(s.var);
  b_.CreateBr(done);
  b_.SetInsertPoint(any);
  counted_loop(s, start, step, count);
  b_.CreateBr(done);
  b_.SetInsertPoint(done);
}

void Lowering::counted_loop(const ir::Stmt& s, Value* start, Value* step, Value* count) {
  llvm::Type* i64 = b_.getInt64Ty();
  llvm::IRBuilder<> entry(&f_->getEntryBlock(), f_->getEntryBlock().begin());
  llvm::AllocaInst* counter = entry.CreateAlloca(i64, nullptr, "range");
  b_.CreateStore(b_.getInt64(0), counter);
  auto* head = llvm::BasicBlock::Create(c_, "for.head", f_);
  auto* body = llvm::BasicBlock::Create(c_, "for.body", f_);
  auto* exit = llvm::BasicBlock::Create(c_, "for.exit", f_);
  Value* limit = count;
  llvm::BasicBlock* after = exit;  // where the loop goes when n reaches limit
  // A short constant range (a 3x3 stencil's) stays one loop, which LLVM
  // unrolls so that the domain loop around it vectorizes.
  auto* known = llvm::dyn_cast<llvm::ConstantInt>(count);
  if (interruptible_ && !(known && known->getZExtValue() <= kInterruptStride)) {
    // Blocks of kInterruptStride iterations, a Ctrl-C check between two:
    // the inner loop stays countable (vectorizable) and an endless-looking
    // range still stops.
    after = llvm::BasicBlock::Create(c_, "for.block", f_);
    b_.CreateBr(after);
    b_.SetInsertPoint(after);
    Value* done = b_.CreateLoad(i64, counter);
    Value* block_end = b_.CreateBinaryIntrinsic(llvm::Intrinsic::uadd_sat, done,
                                                b_.getInt64(kInterruptStride));
    limit = b_.CreateBinaryIntrinsic(llvm::Intrinsic::umin, count, block_end);
    Value* more = b_.CreateAnd(b_.CreateICmpULT(done, count), not_interrupted());
    b_.CreateCondBr(more, head, exit);
  } else {
    b_.CreateBr(head);
  }
  b_.SetInsertPoint(head);
  Value* n = b_.CreateLoad(i64, counter);
  b_.CreateCondBr(b_.CreateICmpULT(n, limit), body, after);
  b_.SetInsertPoint(body);
  b_.CreateStore(b_.CreateAdd(start, b_.CreateMul(n, step)), slots_[s.var]);
  b_.CreateStore(b_.CreateAdd(n, b_.getInt64(1), "", true, true), counter);
  loop_body(s.then_body, head, exit);
}

Value* Lowering::not_interrupted() {
  auto* flag = m_.getOrInsertGlobal("ember_interrupt_requested", b_.getInt32Ty());
  auto* requested = b_.CreateLoad(b_.getInt32Ty(), flag);
  requested->setAtomic(llvm::AtomicOrdering::Monotonic);
  requested->setAlignment(llvm::Align(4));
  return b_.CreateICmpEQ(requested, b_.getInt32(0));
}

// Whether a for loop is worth two copies (for_loop): its step is positive, so
// the variable is never below a non-negative start; within the body every
// write to it keeps it non-negative, given that it is; an index of the body
// is then known non-negative that otherwise is not (`x[k]`, not `x[k - 1]`);
// and no loop is nested in the body (the copies would multiply).
bool Lowering::non_negative_through_start(const ir::Stmt& loop) {
  const ir::Expr& step = *loop.args[2];
  if (step.op != Op::Const || step.value.i <= 0 || non_negative(*loop.args[0]) ||
      non_negative_vars_.count(loop.var))
    return false;
  std::function<bool(const ir::Expr&)> mentions = [&](const ir::Expr& e) {
    if (e.op == Op::Var && e.index == loop.var) return true;
    for (const ir::ExprPtr& a : e.args)
      if (mentions(*a)) return true;
    return false;
  };
  std::vector<const ir::Expr*> indices;  // those that mention the variable
  auto add_indices = [&](const std::vector<ir::ExprPtr>& args) {
    for (size_t k = 1; k < args.size(); ++k)
      if (mentions(*args[k])) indices.push_back(args[k].get());
  };
  std::function<void(const ir::Expr&)> find_loads = [&](const ir::Expr& e) {
    if (e.op == Op::Load) add_indices(e.args);
    for (const ir::ExprPtr& a : e.args) find_loads(*a);
  };
  non_negative_vars_.insert(loop.var);  // assumed while checking the writes
  bool ok = true;
  std::function<void(const ir::Block&)> visit = [&](const ir::Block& block) {
    for (const ir::StmtPtr& s : block) {
      if (s->kind == ir::StmtKind::For) ok = false;
      if (s->kind == ir::StmtKind::Assign && s->var == loop.var) ok = ok && non_negative(*s->value);
      if (s->kind == ir::StmtKind::Store || s->kind == ir::StmtKind::Atomic) add_indices(s->args);
      if (s->value) find_loads(*s->value);
      for (const ir::ExprPtr& a : s->args) find_loads(*a);
      visit(s->then_body);
      visit(s->else_body);
    }
  };
  visit(loop.then_body);
  std::vector<const ir::Expr*> helped;
  for (const ir::Expr* e : indices)
    if (non_negative(*e)) helped.push_back(e);
  non_negative_vars_.erase(loop.var);
  bool gain = std::any_of(helped.begin(), helped.end(), [&](const ir::Expr* e) { return !non_negative(*e); });
  return ok && gain;
}

void Lowering::while_loop(const ir::Stmt& s) {
  auto* head = llvm::BasicBlock::Create(c_, "while.head", f_);
  auto* body = llvm::BasicBlock::Create(c_, "while.body", f_);
  auto* exit = llvm::BasicBlock::Create(c_, "while.exit", f_);
  b_.CreateBr(head);
  b_.SetInsertPoint(head);
  Value* go = expr(*s.value);
  if (interruptible_) go = b_.CreateAnd(go, not_interrupted());  // runtime/interrupt.h
  b_.CreateCondBr(go, body, exit);
  b_.SetInsertPoint(body);
  loop_body(s.then_body, head, exit);
}

// The statements of a loop (from the current block), then back to `head`;
// continues after the loop at `exit`.
void Lowering::loop_body(const ir::Block& body, llvm::BasicBlock* head, llvm::BasicBlock* exit) {
  loops_.push_back({head, exit});
  bool open = block(body);
  loops_.pop_back();
  if (open) b_.CreateBr(head);
  b_.SetInsertPoint(exit);
}

// Integer atomics and float add are one atomicrmw; float min and max use a
// compare-exchange loop so that they compute exactly what the interpreter's
// min/max do (atomicrmw fmin would ignore NaN).
void Lowering::atomic(const ir::Stmt& s) {
  using B = llvm::AtomicRMWInst::BinOp;
  Scalar t = s.args[0]->type.scalar;
  Value* value = expr(*s.value);
  Value* ptr = element(s.args, s.loc);
  llvm::Align align(ir::bits_of(t) / 8);
  auto order = llvm::AtomicOrdering::Monotonic;
  bool sign = ir::is_signed(t);
  if (!ir::is_float(t) || s.op == Op::Add) {
    B op = ir::is_float(t) ? B::FAdd
           : s.op == Op::Add ? B::Add
           : s.op == Op::Min ? (sign ? B::Min : B::UMin)
                             : (sign ? B::Max : B::UMax);
    b_.CreateAtomicRMW(op, ptr, value, llvm::MaybeAlign(align), order);
    return;
  }
  llvm::Type* bits = b_.getIntNTy(ir::bits_of(t));
  llvm::LoadInst* first = b_.CreateLoad(bits, ptr);
  first->setAtomic(order);
  first->setAlignment(align);
  auto* before = b_.GetInsertBlock();
  auto* loop = llvm::BasicBlock::Create(c_, "atomic.loop", f_);
  auto* done = llvm::BasicBlock::Create(c_, "atomic.done", f_);
  b_.CreateBr(loop);
  b_.SetInsertPoint(loop);
  llvm::PHINode* old = b_.CreatePHI(bits, 2);
  old->addIncoming(first, before);
  Value* updated = b_.CreateBitCast(binary(s.op, t, b_.CreateBitCast(old, ty(t)), value), bits);
  Value* pair = b_.CreateAtomicCmpXchg(ptr, old, updated, llvm::MaybeAlign(align), order, order);
  old->addIncoming(b_.CreateExtractValue(pair, 0), loop);
  b_.CreateCondBr(b_.CreateExtractValue(pair, 1), done, loop);
  b_.SetInsertPoint(done);
}

Value* Lowering::element(const std::vector<ir::ExprPtr>& args, ir::Loc loc) {
  int param = args[0]->index;
  const Array& a = arrays_.at(param);
  Value* offset = nullptr;
  for (size_t k = 1; k < args.size(); ++k) {
    Value* i = expr(*args[k]);
    Value* extent = a.shape[k - 1];
    Value* at = i;
    bool is_unsigned = unsigned_index(*args[k]);
    if (!is_unsigned && !non_negative(*args[k])) at = wrap(i, extent);
    if (boundscheck_) {
      auto* outside = llvm::BasicBlock::Create(c_, "out_of_bounds", f_);
      auto* inside = llvm::BasicBlock::Create(c_, "in_bounds", f_);
      b_.CreateCondBr(b_.CreateICmpULT(at, extent), inside, outside);
      b_.SetInsertPoint(outside);
      int64_t axis = static_cast<int64_t>(k - 1) | (is_unsigned ? kUnsignedIndex : 0);
      Value* fields[] = {b_.getInt64(param), b_.getInt64(axis), i, b_.getInt64(loc.line)};
      for (int f = 0; f < 4; ++f)
        b_.CreateStore(fields[f], b_.CreateConstGEP1_64(b_.getInt64Ty(), error_, f));
      b_.CreateRet(b_.getInt32(1));
      b_.SetInsertPoint(inside);
    }
    Value* term = b_.CreateMul(at, a.strides[k - 1], "", false, true);
    offset = offset ? b_.CreateAdd(offset, term, "", false, true) : term;
  }
  return b_.CreateInBoundsGEP(memory_type(c_, args[0]->type.scalar), a.data, offset);
}

// A negative index counts from the end. The select is weighted as almost
// never taking the end, so the backend may make it a branch. (A constant
// index folds: x[-1] is no select at all.)
Value* Lowering::wrap(Value* i, Value* extent) {
  Value* at = b_.CreateSelect(b_.CreateICmpSLT(i, b_.getInt64(0)), b_.CreateAdd(i, extent), i);
  if (auto* select = llvm::dyn_cast<llvm::SelectInst>(at))
    select->setMetadata(llvm::LLVMContext::MD_prof,
                        llvm::MDBuilder(c_).createBranchWeights(1, 1 << 20));
  return at;
}

// Whether an integer value is never negative, so that an index needs no
// wrap-around (overflow aside: an index that overflows int64 is out of range
// anyway). Conservative: false when unsure.
bool Lowering::non_negative(const ir::Expr& e) const {
  auto both = [&] { return non_negative(*e.args[0]) && non_negative(*e.args[1]); };
  auto either = [&] { return non_negative(*e.args[0]) || non_negative(*e.args[1]); };
  switch (e.op) {
    case Op::Const: return !ir::is_float(e.type.scalar) && e.value.i >= 0;
    case Op::Tid:
    case Op::Shape: return true;
    case Op::Var: return non_negative_vars_.count(e.index) > 0;
    case Op::Cast: {
      Scalar from = e.args[0]->type.scalar, to = e.type.scalar;
      if (ir::is_float(from) || ir::is_float(to) || ir::bits_of(to) < ir::bits_of(from)) return false;
      if (from == Scalar::Bool) return true;
      if (!ir::is_signed(from)) return ir::bits_of(from) < ir::bits_of(to) || !ir::is_signed(to);
      return non_negative(*e.args[0]);
    }
    case Op::Add:
    case Op::Mul:
    case Op::FloorDiv:
    case Op::Min:
    case Op::Minimum: return both();
    case Op::Max:
    case Op::Maximum:
    case Op::BitAnd: return either();
    case Op::Shr: return non_negative(*e.args[0]);
    case Op::Mod:  // Python's remainder has the sign of the divisor
      return e.args[1]->op == Op::Const && e.args[1]->value.i > 0;
    case Op::Select: return non_negative(*e.args[1]) && non_negative(*e.args[2]);
    default: return false;
  }
}

// Integer locals that only ever hold non-negative values: start from all of
// them and drop those with an assignment that may be negative, until nothing
// changes (locals start at zero).
void Lowering::find_non_negative_vars() {
  for (size_t v = 0; v < fn_.locals.size(); ++v)
    if (!ir::is_float(fn_.locals[v].type.scalar)) non_negative_vars_.insert(static_cast<int>(v));
  bool changed = true;
  std::function<void(const ir::Block&)> visit = [&](const ir::Block& b) {
    for (const ir::StmtPtr& s : b) {
      bool ok = true;
      if (s->kind == ir::StmtKind::Assign) ok = non_negative(*s->value);
      if (s->kind == ir::StmtKind::For)
        ok = non_negative(*s->args[0]) && s->args[2]->op == Op::Const && s->args[2]->value.i > 0;
      bool writes = s->kind == ir::StmtKind::Assign || s->kind == ir::StmtKind::For;
      if (writes && !ok && non_negative_vars_.erase(s->var)) changed = true;
      visit(s->then_body);
      visit(s->else_body);
    }
  };
  while (changed) {
    changed = false;
    visit(fn_.body);
  }
}

void Lowering::kernel_loops(llvm::Function* body, const std::string& name) {
  llvm::Type* ptr = b_.getPtrTy();
  llvm::Type* i64 = b_.getInt64Ty();
  auto* f = llvm::Function::Create(
      llvm::FunctionType::get(b_.getInt32Ty(), {ptr, ptr, ptr, ptr}, false),
      llvm::Function::ExternalLinkage, name, m_);
  f->addFnAttr(llvm::Attribute::NoUnwind);
  Value* args = f->getArg(0);
  Value* lo = f->getArg(1);
  Value* hi = f->getArg(2);
  Value* error = f->getArg(3);
  b_.SetInsertPoint(llvm::BasicBlock::Create(c_, "entry", f));
  leave();
  std::vector<Value*> call_args;
  auto field = [&](Value* base, int k) {
    return b_.CreateLoad(i64, b_.CreateConstGEP1_64(i64, base, k));
  };
  // Extents and domain bounds are never negative: telling LLVM lets it drop
  // the wrap-around of indices such as j - 1 where j = tid + 1.
  llvm::MDNode* non_negative = llvm::MDBuilder(c_).createRange(
      llvm::APInt(64, 0), llvm::APInt::getSignedMinValue(64));
  auto extent = [&](Value* base, int k) {
    auto* load = llvm::cast<llvm::LoadInst>(field(base, k));
    load->setMetadata(llvm::LLVMContext::MD_range, non_negative);
    return load;
  };
  for (size_t i = 0; i < fn_.params.size(); ++i) {
    Value* p = b_.CreateLoad(ptr, b_.CreateConstGEP1_64(ptr, args, i));
    const ir::Type& t = fn_.params[i].type;
    if (!t.is_array()) {
      call_args.push_back(load(t.scalar, p));
      continue;
    }
    call_args.push_back(b_.CreateLoad(ptr, p));  // codegen.h's ArrayArg
    for (int k = 0; k < t.ndim; ++k) call_args.push_back(extent(p, 1 + k));
    for (int k = 0; k < t.ndim; ++k) call_args.push_back(field(p, 1 + kMaxArrayDims + k));
  }
  std::vector<Value*> lows, highs;
  for (int k = 0; k < fn_.domain; ++k) {
    lows.push_back(extent(lo, k));
    highs.push_back(extent(hi, k));
  }
  std::vector<Value*> index(fn_.domain);
  auto* failed = boundscheck_ ? llvm::BasicBlock::Create(c_, "failed", f) : nullptr;
  // Loop k around loop k+1; the innermost calls the body. Indices of one
  // box never depend on each other (one logical thread each): say so to the
  // vectorizer for the innermost loop.
  std::function<void(int)> nest = [&](int k) {
    if (k == fn_.domain) {
      std::vector<Value*> all = call_args;
      all.insert(all.end(), index.begin(), index.end());
      all.push_back(error);
      Value* status = b_.CreateCall(body, all);
      if (boundscheck_) {
        auto* next = llvm::BasicBlock::Create(c_, "next", f);
        b_.CreateCondBr(b_.CreateICmpEQ(status, b_.getInt32(0)), next, failed);
        b_.SetInsertPoint(next);
      }
      return;
    }
    auto* before = b_.GetInsertBlock();
    auto* loop = llvm::BasicBlock::Create(c_, "domain", f);
    auto* exit = llvm::BasicBlock::Create(c_, "domain.exit", f);
    b_.CreateCondBr(b_.CreateICmpSLT(lows[k], highs[k]), loop, exit);
    b_.SetInsertPoint(loop);
    llvm::PHINode* t = b_.CreatePHI(i64, 2);
    t->addIncoming(lows[k], before);
    index[k] = t;
    nest(k + 1);
    Value* next = b_.CreateAdd(t, b_.getInt64(1), "", true, true);
    t->addIncoming(next, b_.GetInsertBlock());
    auto* latch = b_.CreateCondBr(b_.CreateICmpSLT(next, highs[k]), loop, exit);
    if (k == fn_.domain - 1) {
      llvm::Metadata* parallel[] = {llvm::MDString::get(c_, "llvm.loop.parallel_accesses"), group_};
      llvm::MDNode* id = llvm::MDNode::getDistinct(c_, {nullptr, llvm::MDNode::get(c_, parallel)});
      id->replaceOperandWith(0, id);
      latch->setMetadata(llvm::LLVMContext::MD_loop, id);
    }
    b_.SetInsertPoint(exit);
  };
  nest(0);
  b_.CreateRet(b_.getInt32(0));
  if (!failed) return;
  b_.SetInsertPoint(failed);
  b_.CreateRet(b_.getInt32(1));
}

}  // namespace ember::codegen
