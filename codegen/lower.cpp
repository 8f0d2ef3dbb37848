// Lowers Strict IR to LLVM IR: a scalar function plus the loops around it.
//
// Every operator gets the exact semantics of ir/eval.cpp (the interpreter):
// integer division guards against zero and INT_MIN / -1 instead of trapping,
// shifts guard their amount, float -> int conversions give x86-64's results
// (as NumPy's) instead of poison. Control flow stays simple so that, once the scalar
// function is inlined into the loop, LLVM can if-convert and vectorize it.
#include "codegen/lower.h"

#include <llvm/IR/Verifier.h>
#include <llvm/Transforms/Utils/ModuleUtils.h>
#include <llvm/Support/raw_ostream.h>

#include <cmath>
#include <stdexcept>

#include "codegen/lowering.h"

namespace ember::codegen {

llvm::Type* value_type(llvm::LLVMContext& c, ir::Scalar s) {
  using ir::Scalar;
  if (s == Scalar::Bool) return llvm::Type::getInt1Ty(c);
  if (s == Scalar::F32) return llvm::Type::getFloatTy(c);
  if (s == Scalar::F64) return llvm::Type::getDoubleTy(c);
  return llvm::Type::getIntNTy(c, ir::bits_of(s));
}

llvm::Type* memory_type(llvm::LLVMContext& c, ir::Scalar s) {
  return s == ir::Scalar::Bool ? llvm::Type::getInt8Ty(c) : value_type(c, s);
}

llvm::Function* Lowering::scalar_function(const std::string& name) {
  std::vector<llvm::Type*> params;
  for (const ir::Variable& p : fn_.params) params.push_back(ty(p.type.scalar));
  auto* type = llvm::FunctionType::get(ty(fn_.result.scalar), params, false);
  f_ = llvm::Function::Create(type, llvm::Function::InternalLinkage, name, m_);
  f_->addFnAttr(llvm::Attribute::AlwaysInline);
  f_->addFnAttr(llvm::Attribute::NoUnwind);
  enter(f_);
  for (auto& arg : f_->args()) params_.push_back(&arg);
  for (const ir::Variable& v : fn_.locals) {
    slots_.push_back(b_.CreateAlloca(ty(v.type.scalar), nullptr, v.name));
    b_.CreateStore(llvm::Constant::getNullValue(ty(v.type.scalar)), slots_.back());
  }
  if (block(fn_.body)) b_.CreateUnreachable();  // the verifier guarantees every path returns
  return f_;
}

void Lowering::enter(llvm::Function* f) {
  b_.SetInsertPoint(llvm::BasicBlock::Create(c_, "entry", f));
  if (!debug_) return;
  scope_ = debug_->subprogram(f);
  locate(fn_.loc);
}

void Lowering::leave() {
  scope_ = nullptr;  // DebugLocations::finish() gives the generated code the def line
  b_.SetCurrentDebugLocation(llvm::DebugLoc());
}

void Lowering::locate(ir::Loc loc) {
  if (scope_ && loc.line > 0)
    b_.SetCurrentDebugLocation(llvm::DILocation::get(c_, loc.line, loc.col, scope_));
}

bool Lowering::block(const ir::Block& body) {
  for (const ir::StmtPtr& s : body) {
    locate(s->loc);
    switch (s->kind) {
      case ir::StmtKind::Assign: b_.CreateStore(expr(*s->value), slots_[s->var]); break;
      case ir::StmtKind::Return:
        if (fn_.is_kernel())
          finish_index();
        else
          b_.CreateRet(expr(*s->value));
        return false;
      case ir::StmtKind::If: {
        Value* cond = expr(*s->value);
        auto* then_bb = llvm::BasicBlock::Create(c_, "then", f_);
        auto* else_bb = llvm::BasicBlock::Create(c_, "else", f_);
        auto* merge_bb = llvm::BasicBlock::Create(c_, "merge", f_);
        b_.CreateCondBr(cond, then_bb, else_bb);
        b_.SetInsertPoint(then_bb);
        bool then_open = block(s->then_body);
        if (then_open) b_.CreateBr(merge_bb);
        b_.SetInsertPoint(else_bb);
        bool else_open = block(s->else_body);
        if (else_open) b_.CreateBr(merge_bb);
        b_.SetInsertPoint(merge_bb);
        if (!then_open && !else_open) {
          b_.CreateUnreachable();
          return false;
        }
        break;
      }
      default:
        if (!kernel_statement(*s)) return false;
        break;
    }
  }
  return true;
}

Value* Lowering::expr(const ir::Expr& e) {
  if (!scope_) return expr_at(e);
  llvm::DebugLoc outer = b_.getCurrentDebugLocation();
  locate(e.loc);
  Value* value = expr_at(e);
  b_.SetCurrentDebugLocation(outer);
  return value;
}

Value* Lowering::expr_at(const ir::Expr& e) {
  Scalar t = e.type.scalar;
  switch (e.op) {
    case Op::Const:
      if (ir::is_float(t)) return fp_const(t, e.value.f);
      return llvm::ConstantInt::get(ty(t), static_cast<uint64_t>(e.value.i));
    case Op::Param: return params_[e.index];
    case Op::Var: return b_.CreateLoad(ty(t), slots_[e.index]);
    case Op::Cast: return cast(expr(*e.args[0]), e.args[0]->type.scalar, t);
    case Op::Select:
      return b_.CreateSelect(expr(*e.args[0]), expr(*e.args[1]), expr(*e.args[2]));
    case Op::Load: return load(t, element(e.args, e.loc), group_);
    case Op::Shape: return arrays_.at(e.args[0]->index).shape.at(e.index);
    case Op::Tid: return tids_.at(e.index);
    default: break;
  }
  Scalar operand = e.args[0]->type.scalar;
  if (ir::is_unary(e.op)) return unary(e.op, operand, expr(*e.args[0]));
  return binary(e.op, operand, expr(*e.args[0]), expr(*e.args[1]));
}

Value* Lowering::cast(Value* x, Scalar from, Scalar to) {
  if (from == to) return x;
  llvm::Type* target = ty(to);
  if (to == Scalar::Bool)
    return ir::is_float(from) ? b_.CreateFCmpUNE(x, fp_const(from, 0.0))
                              : b_.CreateICmpNE(x, int_const(from, 0));
  if (ir::is_float(from) && ir::is_float(to)) return b_.CreateFPCast(x, target);
  if (!ir::is_float(from)) {
    bool is_signed = ir::is_signed(from);
    if (ir::is_float(to)) return is_signed ? b_.CreateSIToFP(x, target) : b_.CreateUIToFP(x, target);
    return b_.CreateIntCast(x, target, is_signed);
  }
  // float -> int as NumPy's C casts run on x86-64 (ir/eval.cpp does the same):
  // narrow types go through int32, uint32 through int64, uint64 splits at 2^63.
  if (to == Scalar::U64) {
    Value* half = fp_const(from, 0x1p63);
    Value* big = b_.CreateFCmpOGE(x, half);
    Value* high = b_.CreateXor(x86_truncate(b_.CreateFSub(x, half), 64),
                               b_.getInt64(uint64_t{1} << 63));
    return b_.CreateSelect(big, high, x86_truncate(x, 64));
  }
  int via = ir::bits_of(to) == 64 || to == Scalar::U32 ? 64 : 32;
  return b_.CreateTrunc(x86_truncate(x, via), target);
}

// cvttsd2si: truncation toward zero, or INT_MIN for NaN and values out of
// range; written out so that LLVM never sees a conversion that is poison.
Value* Lowering::x86_truncate(Value* x, int bits) {
  Scalar from = x->getType()->isFloatTy() ? Scalar::F32 : Scalar::F64;
  double limit = std::ldexp(1.0, bits - 1);
  Value* in_range = b_.CreateAnd(b_.CreateFCmpOGE(x, fp_const(from, -limit)),
                                 b_.CreateFCmpOLT(x, fp_const(from, limit)));
  Value* safe = b_.CreateSelect(in_range, x, fp_const(from, 0.0));
  Value* value = b_.CreateFPToSI(safe, b_.getIntNTy(bits));
  return b_.CreateSelect(in_range, value, llvm::ConstantInt::get(b_.getIntNTy(bits), llvm::APInt::getSignedMinValue(bits)));
}

Value* Lowering::intrinsic(llvm::Intrinsic::ID id, llvm::ArrayRef<Value*> args) {
  return b_.CreateIntrinsic(id, {args[0]->getType()}, args);
}

std::string libm_name(const VectorIsa& isa, const std::string& name, bool f32) {
  return isa.prefix + name + (f32 ? "f" : "");
}

llvm::FunctionCallee declare_math(llvm::Module& m, const std::string& name, llvm::FunctionType* type) {
  llvm::FunctionCallee callee = m.getOrInsertFunction(name, type);
  if (auto* f = llvm::dyn_cast<llvm::Function>(callee.getCallee())) {
    // libm only writes errno, which ember never reads: treat it as pure so
    // LLVM may hoist, fold and vectorize these calls.
    f->setDoesNotAccessMemory();
    f->setDoesNotThrow();
    f->setWillReturn();
  }
  return callee;
}

std::string libmvec_name(char letter, int lanes, int args, const std::string& symbol) {
  return "_ZGV" + std::string(1, letter) + "N" + std::to_string(lanes) + std::string(args, 'v') + "_" +
         symbol;
}

// A call of libm's `name` (the `f` variant for float32), marked pure and
// given the SIMD variants glibc's libmvec has for the host's vector ISAs, so
// that the loop vectorizer can replace it by a vector call.
Value* Lowering::libm(const char* name, Scalar t, llvm::ArrayRef<Value*> args) {
  return math_call(name, t, args, [&](const VectorIsa::Level& level, int lanes,
                                      const std::string& symbol) {
    std::string vector_name = libmvec_name(level.letter, lanes, static_cast<int>(args.size()), symbol);
    auto* vec = llvm::FixedVectorType::get(ty(t), lanes);
    std::vector<llvm::Type*> vec_params(args.size(), vec);
    auto decl = m_.getOrInsertFunction(vector_name, llvm::FunctionType::get(vec, vec_params, false));
    return llvm::cast<llvm::Function>(decl.getCallee());
  });
}

// C's fmod. On an x86 host a call of libm's, whose vector variants (one per
// ISA level) are ember's exact vector fmod (libmvec has none); float64
// without an FMA keeps libm per lane (frem). On the GPU, frem.
Value* Lowering::fmod(Scalar t, Value* a, Value* b) {
  bool f32 = t == Scalar::F32;
  if (isa_.levels.empty() || (!f32 && !isa_.fma)) return b_.CreateFRem(a, b);
  return math_call("fmod", t, {a, b}, [&](const VectorIsa::Level&, int lanes, const std::string&) {
    return vector_fmod(m_, f32, lanes);
  });
}

Value* Lowering::math_call(const char* name, Scalar t, llvm::ArrayRef<Value*> args,
                           const std::function<llvm::Function*(const VectorIsa::Level&, int,
                                                               const std::string&)>& variant) {
  std::string symbol = libm_name(isa_, name, t == Scalar::F32);
  std::vector<llvm::Type*> params(args.size(), ty(t));
  auto callee = declare_math(m_, symbol, llvm::FunctionType::get(ty(t), params, false));
  llvm::CallInst* call = b_.CreateCall(callee, args);
  std::string variants;
  std::string vs(args.size(), 'v');
  for (const VectorIsa::Level& level : isa_.levels) {
    int lanes = level.width_bits / ir::bits_of(t);
    llvm::Function* f = variant(level, lanes, symbol);
    if (std::find(vector_decls_.begin(), vector_decls_.end(), f) == vector_decls_.end())
      vector_decls_.push_back(f);
    variants += (variants.empty() ? "" : ",") + std::string("_ZGV_LLVM_N") +
                std::to_string(lanes) + vs + "_" + symbol + "(" + f->getName().str() + ")";
  }
  if (!variants.empty())
    call->addFnAttr(llvm::Attribute::get(c_, "vector-function-abi-variant", variants));
  return call;
}

Value* Lowering::unary(Op op, Scalar t, Value* x) {
  namespace I = llvm::Intrinsic;
  bool fp = ir::is_float(t);
  switch (op) {
    case Op::Neg: return fp ? b_.CreateFNeg(x) : b_.CreateNeg(x);
    case Op::Not:
      return fp ? b_.CreateFCmpOEQ(x, fp_const(t, 0.0)) : b_.CreateICmpEQ(x, int_const(t, 0));
    case Op::Invert: return b_.CreateNot(x);
    case Op::Abs:
      if (fp) return intrinsic(I::fabs, {x});
      if (!ir::is_signed(t)) return x;
      return b_.CreateIntrinsic(I::abs, {x->getType()}, {x, b_.getFalse()});
    case Op::Floor:
    case Op::Ceil:
    case Op::Trunc:
      if (!fp) return x;
      return intrinsic(op == Op::Floor ? I::floor : op == Op::Ceil ? I::ceil : I::trunc, {x});
    case Op::IsNan: return fp ? b_.CreateFCmpUNO(x, x) : b_.getFalse();
    case Op::IsInf:
      if (!fp) return b_.getFalse();
      return b_.CreateFCmpOEQ(intrinsic(I::fabs, {x}), fp_const(t, INFINITY));
    case Op::IsFinite:
      if (!fp) return b_.getTrue();
      return b_.CreateFCmpOLT(intrinsic(I::fabs, {x}), fp_const(t, INFINITY));
    case Op::SignBit:
      if (!fp) return ir::is_signed(t) ? b_.CreateICmpSLT(x, int_const(t, 0)) : b_.getFalse();
      return b_.CreateICmpSLT(b_.CreateBitCast(x, b_.getIntNTy(ir::bits_of(t))),
                              llvm::ConstantInt::get(b_.getIntNTy(ir::bits_of(t)), 0));
    case Op::Sqrt: return intrinsic(I::sqrt, {x});
    case Op::Rint: return intrinsic(I::roundeven, {x});
    default:  // transcendental: the IR names these as libm does
      if (ir::is_unary(op)) return libm(ir::op_name(op), t, {x});
      throw std::logic_error(std::string("codegen: not a unary op: ") + ir::op_name(op));
  }
}

Value* Lowering::binary(Op op, Scalar t, Value* a, Value* b) {
  namespace I = llvm::Intrinsic;
  bool fp = ir::is_float(t), boolean = t == Scalar::Bool;
  if (ir::is_comparison(op)) return compare(op, t, a, b);
  switch (op) {
    case Op::Add: return fp ? b_.CreateFAdd(a, b) : boolean ? b_.CreateOr(a, b) : b_.CreateAdd(a, b);
    case Op::Sub: return fp ? b_.CreateFSub(a, b) : b_.CreateSub(a, b);
    case Op::Mul: return fp ? b_.CreateFMul(a, b) : boolean ? b_.CreateAnd(a, b) : b_.CreateMul(a, b);
    case Op::Div: return b_.CreateFDiv(a, b);
    case Op::FloorDiv:
    case Op::Mod: return fp ? float_divmod(op, t, a, b) : int_divmod(op, t, a, b);
    case Op::Fmod: return fp ? fmod(t, a, b) : int_divmod(op, t, a, b);
    case Op::Pow: return fp ? libm(ir::op_name(op), t, {a, b}) : int_pow(t, a, b);
    case Op::BitAnd: return b_.CreateAnd(a, b);
    case Op::BitOr: return b_.CreateOr(a, b);
    case Op::BitXor: return b_.CreateXor(a, b);
    case Op::Shl:
    case Op::Shr: return shift(op, t, a, b);
    case Op::Min: return b_.CreateSelect(compare(Op::Lt, t, b, a), b, a);  // Python's min()
    case Op::Max: return b_.CreateSelect(compare(Op::Gt, t, b, a), b, a);
    case Op::Minimum:
    case Op::Maximum: {
      // NumPy's loops: a when it wins or is NaN, else b (a -0.0/0.0 tie gives b).
      Value* first = compare(op == Op::Minimum ? Op::Lt : Op::Gt, t, a, b);
      if (fp) first = b_.CreateOr(first, b_.CreateFCmpUNO(a, a));
      return b_.CreateSelect(first, a, b);
    }
    case Op::Atan2:
    case Op::Hypot: return libm(ir::op_name(op), t, {a, b});
    case Op::CopySign: return intrinsic(I::copysign, {a, b});
    default: throw std::logic_error(std::string("codegen: not a binary op: ") + ir::op_name(op));
  }
}

Value* Lowering::compare(Op op, Scalar t, Value* a, Value* b) {
  using P = llvm::CmpInst::Predicate;
  static const P fp[] = {P::FCMP_OEQ, P::FCMP_UNE, P::FCMP_OLT, P::FCMP_OLE, P::FCMP_OGT, P::FCMP_OGE};
  static const P si[] = {P::ICMP_EQ, P::ICMP_NE, P::ICMP_SLT, P::ICMP_SLE, P::ICMP_SGT, P::ICMP_SGE};
  static const P ui[] = {P::ICMP_EQ, P::ICMP_NE, P::ICMP_ULT, P::ICMP_ULE, P::ICMP_UGT, P::ICMP_UGE};
  int i = static_cast<int>(op) - static_cast<int>(Op::Eq);
  if (ir::is_float(t)) return b_.CreateFCmp(fp[i], a, b);
  return b_.CreateICmp(ir::is_signed(t) ? si[i] : ui[i], a, b);
}

// Python's floor division and modulo (and C's fmod) on integers, without
// traps: x / 0 gives 0, INT_MIN / -1 wraps.
Value* Lowering::int_divmod(Op op, Scalar t, Value* a, Value* b) {
  Value* zero = int_const(t, 0);
  Value* one = int_const(t, 1);
  Value* b_zero = b_.CreateICmpEQ(b, zero);
  if (!ir::is_signed(t)) {
    Value* d = b_.CreateSelect(b_zero, one, b);
    Value* r = op == Op::FloorDiv ? b_.CreateUDiv(a, d) : b_.CreateURem(a, d);
    return b_.CreateSelect(b_zero, zero, r);
  }
  Value* b_minus_one = b_.CreateICmpEQ(b, int_const(t, -1));
  Value* d = b_.CreateSelect(b_.CreateOr(b_zero, b_minus_one), one, b);
  Value* q = b_.CreateSDiv(a, d);
  Value* r = b_.CreateSRem(a, d);
  if (op != Op::Fmod) {
    // Round toward negative infinity: adjust when the remainder's sign differs from b's.
    Value* adjust = b_.CreateAnd(b_.CreateICmpNE(r, zero),
                                 b_.CreateICmpNE(b_.CreateICmpSLT(r, zero), b_.CreateICmpSLT(b, zero)));
    q = b_.CreateSelect(adjust, b_.CreateSub(q, one), q);
    r = b_.CreateSelect(adjust, b_.CreateAdd(r, b), r);
  }
  Value* result = op == Op::FloorDiv ? b_.CreateSelect(b_minus_one, b_.CreateNeg(a), q)
                                     : b_.CreateSelect(b_minus_one, zero, r);
  return b_.CreateSelect(b_zero, zero, result);
}

// NumPy's npy_divmod for floats, branch-free so loops stay vectorizable.
Value* Lowering::float_divmod(Op op, Scalar s, Value* a, Value* b) {
  namespace I = llvm::Intrinsic;
  llvm::Type* t = a->getType();
  Value* zero = llvm::ConstantFP::get(t, 0.0);
  Value* one = llvm::ConstantFP::get(t, 1.0);
  Value* mod = fmod(s, a, b);
  Value* b_zero = b_.CreateFCmpOEQ(b, zero);
  Value* mod_set = b_.CreateFCmpUNE(mod, zero);  // NaN counts as set, like C's `if (mod)`
  Value* adjust = b_.CreateAnd(mod_set, b_.CreateICmpNE(b_.CreateFCmpOLT(b, zero),
                                                        b_.CreateFCmpOLT(mod, zero)));
  if (op == Op::Mod) {
    Value* fixed = b_.CreateSelect(
        adjust, b_.CreateFAdd(mod, b),
        b_.CreateSelect(mod_set, mod, intrinsic(I::copysign, {zero, b})));
    return b_.CreateSelect(b_zero, mod, fixed);
  }
  Value* div = b_.CreateFDiv(b_.CreateFSub(a, mod), b);
  div = b_.CreateSelect(adjust, b_.CreateFSub(div, one), div);
  Value* fl = intrinsic(I::floor, {div});
  Value* round_up = b_.CreateFCmpOGT(b_.CreateFSub(div, fl), llvm::ConstantFP::get(t, 0.5));
  fl = b_.CreateSelect(round_up, b_.CreateFAdd(fl, one), fl);
  Value* quotient = b_.CreateFDiv(a, b);
  Value* result = b_.CreateSelect(b_.CreateFCmpUNE(div, zero), fl,
                                  intrinsic(I::copysign, {zero, quotient}));
  return b_.CreateSelect(b_zero, quotient, result);
}

// Shifts by a negative amount or by the width or more give 0 (or -1 for an
// arithmetic right shift of a negative value), as NumPy's do.
Value* Lowering::shift(Op op, Scalar t, Value* a, Value* b) {
  int bits = ir::bits_of(t);
  Value* too_far = b_.CreateICmpUGE(b, int_const(t, bits));
  Value* amount = b_.CreateSelect(too_far, int_const(t, 0), b);
  if (op == Op::Shl) return b_.CreateSelect(too_far, int_const(t, 0), b_.CreateShl(a, amount));
  if (!ir::is_signed(t)) return b_.CreateSelect(too_far, int_const(t, 0), b_.CreateLShr(a, amount));
  Value* far = b_.CreateAShr(a, int_const(t, bits - 1));
  return b_.CreateSelect(too_far, far, b_.CreateAShr(a, amount));
}

// Integer power by squaring in a helper function (one per type); a negative
// exponent gives 0 except for bases 1 and -1 (NumPy raises instead).
Value* Lowering::int_pow(Scalar t, Value* a, Value* b) {
  std::string name = std::string("ember.ipow.") + std::string(ir::short_name(t));
  llvm::Function* f = m_.getFunction(name);
  if (!f) {
    llvm::Type* it = ty(t);
    f = llvm::Function::Create(llvm::FunctionType::get(it, {it, it}, false),
                               llvm::Function::InternalLinkage, name, m_);
    f->addFnAttr(llvm::Attribute::NoUnwind);
    IRBuilder<> fb(llvm::BasicBlock::Create(c_, "entry", f));
    Value* base = f->getArg(0);
    Value* exp = f->getArg(1);
    auto* loop = llvm::BasicBlock::Create(c_, "loop", f);
    auto* done = llvm::BasicBlock::Create(c_, "done", f);
    auto* negative = llvm::BasicBlock::Create(c_, "negative", f);
    Value* zero = llvm::ConstantInt::get(it, 0);
    Value* one = llvm::ConstantInt::get(it, 1);
    Value* is_neg = ir::is_signed(t) ? fb.CreateICmpSLT(exp, zero) : fb.getFalse();
    auto* entry = fb.GetInsertBlock();
    fb.CreateCondBr(is_neg, negative, loop);

    fb.SetInsertPoint(negative);
    Value* minus_one = llvm::ConstantInt::get(it, -1, true);
    Value* odd = fb.CreateICmpNE(fb.CreateAnd(exp, one), zero);
    Value* from_minus_one = fb.CreateSelect(odd, minus_one, one);
    Value* r_neg = fb.CreateSelect(fb.CreateICmpEQ(base, one), one,
                                   fb.CreateSelect(fb.CreateICmpEQ(base, minus_one),
                                                   from_minus_one, zero));
    fb.CreateRet(r_neg);

    fb.SetInsertPoint(loop);
    auto* acc = fb.CreatePHI(it, 2);
    auto* sq = fb.CreatePHI(it, 2);
    auto* e = fb.CreatePHI(it, 2);
    Value* take = fb.CreateICmpNE(fb.CreateAnd(e, one), zero);
    Value* acc2 = fb.CreateSelect(take, fb.CreateMul(acc, sq), acc);
    Value* sq2 = fb.CreateMul(sq, sq);
    Value* e2 = fb.CreateLShr(e, one);
    acc->addIncoming(one, entry);
    sq->addIncoming(base, entry);
    e->addIncoming(exp, entry);
    acc->addIncoming(acc2, loop);
    sq->addIncoming(sq2, loop);
    e->addIncoming(e2, loop);
    fb.CreateCondBr(fb.CreateICmpEQ(e2, zero), done, loop);
    fb.SetInsertPoint(done);
    // exp == 0 exits after one trip with acc == 1 (the bit test was false).
    fb.CreateRet(acc2);
  }
  return b_.CreateCall(f, {a, b});
}

Value* Lowering::load(Scalar s, Value* ptr, llvm::MDNode* group) {
  auto* v = b_.CreateLoad(memory_type(c_, s), ptr);
  if (group) v->setMetadata(llvm::LLVMContext::MD_access_group, group);
  return from_memory(s, v);
}

void Lowering::store(Scalar s, Value* value, Value* ptr, llvm::MDNode* group) {
  if (s == Scalar::Bool) value = b_.CreateZExt(value, b_.getInt8Ty());
  auto* st = b_.CreateStore(value, ptr);
  if (group) st->setMetadata(llvm::LLVMContext::MD_access_group, group);
}

void Lowering::elementwise_loop(llvm::Function* scalar, const Layout& layout,
                                const std::string& name) {
  llvm::Type* ptr_ty = b_.getPtrTy();
  llvm::Type* i64 = b_.getInt64Ty();
  auto* f = llvm::Function::Create(llvm::FunctionType::get(b_.getVoidTy(), {ptr_ty, i64}, false),
                                   llvm::Function::ExternalLinkage, name, m_);
  f->addFnAttr(llvm::Attribute::NoUnwind);
  Value* ptrs = f->getArg(0);
  Value* n = f->getArg(1);

  auto* entry = llvm::BasicBlock::Create(c_, "entry", f);
  auto* body = llvm::BasicBlock::Create(c_, "body", f);
  auto* exit = llvm::BasicBlock::Create(c_, "exit", f);
  b_.SetInsertPoint(entry);
  leave();
  size_t count = fn_.params.size() + 1;  // parameters, then the output
  std::vector<Value*> base(count), invariant(count, nullptr);
  for (size_t i = 0; i < count; ++i) {
    base[i] = b_.CreateLoad(ptr_ty, b_.CreateConstGEP1_64(ptr_ty, ptrs, i));
    if (i < fn_.params.size() && layout.scalar[i])
      invariant[i] = load(fn_.params[i].type.scalar, base[i]);
  }
  b_.CreateCondBr(b_.CreateICmpSGT(n, b_.getInt64(0)), body, exit);

  b_.SetInsertPoint(body);
  auto* k = b_.CreatePHI(i64, 2);
  k->addIncoming(b_.getInt64(0), entry);
  auto address = [&](size_t i, Scalar s) { return b_.CreateGEP(memory_type(c_, s), base[i], k); };
  // The runtime never passes an output that overlaps an input other than as
  // the very same view, so iterations are independent: say so, and the
  // vectorizer needs no runtime overlap check (which would send in-place calls
  // to the scalar loop).
  llvm::MDNode* group = llvm::MDNode::getDistinct(c_, {});
  std::vector<Value*> args;
  for (size_t i = 0; i < fn_.params.size(); ++i) {
    Scalar s = fn_.params[i].type.scalar;
    args.push_back(invariant[i] ? invariant[i] : load(s, address(i, s), group));
  }
  Value* result = b_.CreateCall(scalar, args);
  store(fn_.result.scalar, result, address(count - 1, fn_.result.scalar), group);
  Value* next = b_.CreateAdd(k, b_.getInt64(1), "", true, true);
  k->addIncoming(next, body);
  auto* latch = b_.CreateCondBr(b_.CreateICmpSLT(next, n), body, exit);
  llvm::Metadata* parallel[] = {llvm::MDString::get(c_, "llvm.loop.parallel_accesses"), group};
  llvm::MDNode* loop_id = llvm::MDNode::getDistinct(
      c_, {nullptr, llvm::MDNode::get(c_, parallel)});
  loop_id->replaceOperandWith(0, loop_id);
  latch->setMetadata(llvm::LLVMContext::MD_loop, loop_id);
  b_.SetInsertPoint(exit);
  b_.CreateRetVoid();
}

namespace {

std::unique_ptr<llvm::Module> verified(std::unique_ptr<llvm::Module> m) {
  std::string errors;
  llvm::raw_string_ostream os(errors);
  if (llvm::verifyModule(*m, &os))
    throw std::logic_error("codegen produced invalid LLVM IR: " + os.str());
  return m;
}

}  // namespace

std::unique_ptr<llvm::Module> lower_module(const ir::Function& fn, const Layout& layout,
                                                const Options& options, const VectorIsa& isa,
                                                llvm::LLVMContext& ctx, const std::string& prefix,
                                                bool debug) {
  auto m = std::make_unique<llvm::Module>(prefix, ctx);
  std::unique_ptr<DebugLocations> locations;
  if (debug) locations = std::make_unique<DebugLocations>(*m, fn);
  Lowering lowering(fn, *m, options, isa);
  lowering.set_debug(locations.get());
  lowering.set_interruptible();
  if (fn.is_kernel()) {
    lowering.kernel_loops(lowering.kernel_body(prefix + "_body", layout), prefix + "_kernel");
  } else {
    llvm::Function* scalar = lowering.scalar_function(prefix + "_scalar");
    lowering.elementwise_loop(scalar, layout, prefix + "_contig");
    if (options.reduction)
      lower_reduction(*m, *options.reduction, scalar, fn, layout, options.fastmath, prefix);
  }
  lowering.keep_vector_declarations();
  if (locations) locations->finish();
  return verified(std::move(m));
}

std::unique_ptr<llvm::Module> lower_gpu_module(const ir::Function& fn, const Layout& layout,
                                               const Options& options, llvm::LLVMContext& ctx,
                                               const std::string& prefix) {
  auto m = std::make_unique<llvm::Module>(prefix, ctx);
  VectorIsa libdevice{{}, "__nv_"};
  Lowering lowering(fn, *m, options, libdevice);
  if (options.reduction)
    lowering.gpu_reduce(lowering.scalar_function(prefix + "_scalar"), layout, *options.reduction,
                        options.fastmath, prefix + "_cuda");
  else if (fn.is_kernel())
    lowering.gpu_kernel(lowering.kernel_body(prefix + "_body", layout), prefix + "_cuda");
  else
    lowering.gpu_elementwise(lowering.scalar_function(prefix + "_scalar"), layout, prefix + "_cuda");
  return verified(std::move(m));
}

}  // namespace ember::codegen
