// Checked constructors: typing rules per operator and FunctionBuilder.
#include "ir/builder.h"

#include <cmath>
#include <cstring>

namespace ember::ir {
namespace {

[[noreturn]] void fail(const std::string& msg, Loc loc) { throw CompileError(msg, loc); }

std::string operand_names(Type a, Type b) {
  return std::string(numpy_name(concrete(a).scalar)) + " and " +
         std::string(numpy_name(concrete(b).scalar));
}

Type scalar_type(Scalar s, bool weak = false) { return Type{s, weak, 0}; }

// `what` names the construct for the error, e.g. "'add'" or "range()".
void require_scalar(Type t, const std::string& what, Loc loc) {
  if (t.is_array())
    fail(what + " needs a number, got an array (an element of an array is x[i])", loc);
}

// The Python spelling of an operator: users never see the IR names
// ("'and' needs integer operands" would point them at the wrong operator);
// functions keep theirs ("sqrt").
std::string symbol(Op op) {
  switch (op) {
    case Op::Neg: return "unary -";
    case Op::Not: return "not";
    case Op::Invert: return "~";
    case Op::Add: return "+";
    case Op::Sub: return "-";
    case Op::Mul: return "*";
    case Op::Div: return "/";
    case Op::FloorDiv: return "//";
    case Op::Mod: return "%";
    case Op::Pow: return "**";
    case Op::Eq: return "==";
    case Op::Ne: return "!=";
    case Op::Lt: return "<";
    case Op::Le: return "<=";
    case Op::Gt: return ">";
    case Op::Ge: return ">=";
    case Op::BitAnd: return "&";
    case Op::BitOr: return "|";
    case Op::BitXor: return "^";
    case Op::Shl: return "<<";
    case Op::Shr: return ">>";
    default: return op_name(op);
  }
}

// Math on integers and bools computes in float (float_for); weak stays weak.
Type float_result(Type t) { return scalar_type(float_for(t.scalar), t.weak); }

}  // namespace

Type unary_result(Op op, Type x, Loc loc) {
  require_scalar(x, "'" + symbol(op) + "'", loc);
  Kind k = kind_of(x.scalar);
  switch (op) {
    case Op::Neg:
      if (k == Kind::Bool)
        fail("unary '-' is not supported on bool; use 'not' or '~' instead", loc);
      return x;
    case Op::Not: return scalar_type(Scalar::Bool);
    case Op::Invert:
      if (k == Kind::Float)
        fail(std::string("'~' needs an integer or bool operand, got ") +
                 std::string(numpy_name(x.scalar)),
             loc);
      return x;
    case Op::Abs: return x;
    case Op::Floor:
    case Op::Ceil:
    case Op::Trunc: return x;  // NumPy 2 keeps integers and bools
    case Op::IsNan:
    case Op::IsInf:
    case Op::IsFinite:
    case Op::SignBit: return scalar_type(Scalar::Bool);
    default:
      if (!is_unary(op)) fail(std::string("'") + op_name(op) + "' is not a unary operator", loc);
      return float_result(x);
  }
}

Scalar reduce_result(Op combine, Scalar mapped, Loc loc) {
  switch (combine) {
    case Op::Add:
    case Op::Mul:
      if (kind_of(mapped) == Kind::Unsigned) return Scalar::U64;
      return is_float(mapped) ? mapped : Scalar::I64;
    case Op::Minimum:
    case Op::Maximum: return mapped;
    default: fail(std::string("'") + op_name(combine) + "' is not a reduction operator", loc);
  }
}

Type binary_result(Op op, Type a, Type b, Loc loc) {
  std::string what = "'" + symbol(op) + "'";
  require_scalar(a, what, loc);
  require_scalar(b, what, loc);
  if (is_comparison(op)) return scalar_type(Scalar::Bool);
  Type t = promote(a, b);
  Kind k = kind_of(t.scalar);
  switch (op) {
    case Op::Add:
    case Op::Mul:
    case Op::Min:
    case Op::Max:
    case Op::Minimum:
    case Op::Maximum: return t;
    case Op::Sub:
      if (k == Kind::Bool)
        fail("'-' is not supported between two bools; use '^' or '!=' instead", loc);
      return t;
    case Op::Div:  // true division: integers divide as float64, whatever their width
      return is_float(t.scalar) ? t : scalar_type(Scalar::F64, t.weak);
    case Op::FloorDiv:
    case Op::Mod:
    case Op::Fmod:
    case Op::Pow:
      // NumPy has no bool loop for these: bools compute as int8.
      return k == Kind::Bool ? scalar_type(Scalar::I8, t.weak) : t;
    case Op::BitAnd:
    case Op::BitOr:
    case Op::BitXor:
    case Op::Shl:
    case Op::Shr:
      if (k == Kind::Float)
        fail("'" + symbol(op) + "' needs integer or bool operands, got " + operand_names(a, b),
             loc);
      if (k == Kind::Bool && (op == Op::Shl || op == Op::Shr)) return scalar_type(Scalar::I8);
      return t;
    case Op::Atan2:
    case Op::Hypot:
    case Op::CopySign: return float_result(t);
    default: fail(std::string("'") + op_name(op) + "' is not a binary operator", loc);
  }
}

Literal normalize(Literal v, Type t) {
  Literal r;
  switch (t.scalar) {
    case Scalar::Bool: r.i = v.i != 0; break;
    case Scalar::I8: r.i = static_cast<int8_t>(v.i); break;
    case Scalar::I16: r.i = static_cast<int16_t>(v.i); break;
    case Scalar::I32: r.i = static_cast<int32_t>(v.i); break;
    case Scalar::U8: r.i = static_cast<uint8_t>(v.i); break;
    case Scalar::U16: r.i = static_cast<uint16_t>(v.i); break;
    case Scalar::U32: r.i = static_cast<uint32_t>(v.i); break;
    case Scalar::I64:
    case Scalar::U64: r.i = v.i; break;
    case Scalar::F32: r.f = static_cast<float>(v.f); break;
    case Scalar::F64: r.f = v.f; break;
  }
  return r;
}

static ExprPtr node(Op op, Type t, Loc loc, std::vector<ExprPtr> args = {}) {
  auto e = std::make_shared<Expr>();
  e->op = op;
  e->type = t;
  e->loc = loc;
  e->args = std::move(args);
  return e;
}

ExprPtr make_const(Type t, Literal v, Loc loc) {
  if (t.is_array()) fail("a constant must be a scalar", loc);
  auto e = std::make_shared<Expr>();
  e->op = Op::Const;
  e->type = t;
  e->loc = loc;
  e->value = normalize(v, t);
  return e;
}

ExprPtr make_int(int64_t v, Type t, Loc loc) {
  Literal l;
  l.i = v;
  l.f = static_cast<double>(v);
  return make_const(t, l, loc);
}

ExprPtr make_float(double v, Type t, Loc loc) {
  Literal l;
  l.f = v;
  return make_const(t, l, loc);
}

ExprPtr make_bool(bool v, Loc loc) { return make_int(v, scalar_type(Scalar::Bool), loc); }

ExprPtr make_param(int index, Type t, Loc loc) {
  auto e = std::make_shared<Expr>();
  e->op = Op::Param;
  e->type = t;
  e->loc = loc;
  e->index = index;
  return e;
}

ExprPtr make_var(int index, Type t, Loc loc) {
  auto e = std::make_shared<Expr>();
  e->op = Op::Var;
  e->type = t;
  e->loc = loc;
  e->index = index;
  return e;
}

ExprPtr make_cast(ExprPtr x, Type t, Loc loc) {
  require_scalar(x->type, "a conversion or condition", loc);
  if (t.is_array()) fail("cannot cast to an array type", loc);
  return node(Op::Cast, t, loc, {std::move(x)});
}

ExprPtr make_truth(ExprPtr x, Loc loc) {
  require_scalar(x->type, "a condition", loc);
  if (x->type.scalar == Scalar::Bool) return x;
  return make_cast(std::move(x), scalar_type(Scalar::Bool), loc);
}

ExprPtr make_select(ExprPtr cond, ExprPtr a, ExprPtr b, Loc loc) {
  require_scalar(a->type, "a conditional expression", loc);
  require_scalar(b->type, "a conditional expression", loc);
  Type t = promote(a->type, b->type);
  return node(Op::Select, t, loc, {make_truth(std::move(cond), loc), std::move(a), std::move(b)});
}

ExprPtr make_unary(Op op, ExprPtr x, Loc loc) {
  Type t = unary_result(op, x->type, loc);
  return node(op, t, loc, {std::move(x)});
}

ExprPtr make_binary(Op op, ExprPtr a, ExprPtr b, Loc loc) {
  Type t = binary_result(op, a->type, b->type, loc);
  return node(op, t, loc, {std::move(a), std::move(b)});
}

namespace {

// An array parameter (arrays are never copied into locals, so every array
// operand is one).
void require_array(const ExprPtr& array, const char* what, Loc loc) {
  if (array->op != Op::Param || !array->type.is_array())
    fail(std::string(what) + " needs an array parameter", loc);
}

// Indices as int64 (NumPy indexes with intp); one per dimension.
std::vector<ExprPtr> index_args(ExprPtr array, std::vector<ExprPtr> indices, Loc loc) {
  require_array(array, "indexing", loc);
  if (indices.size() != array->type.ndim)
    fail("a " + std::to_string(array->type.ndim) + "-d array needs " +
             std::to_string(array->type.ndim) + " indices, got " + std::to_string(indices.size()) +
             " (slices and partial indexing are not supported in kernels)",
         loc);
  std::vector<ExprPtr> args{std::move(array)};
  for (ExprPtr& i : indices) {
    require_scalar(i->type, "an array index", loc);
    if (!is_int(i->type.scalar))
      fail(std::string("array indices must be integers, got ") +
               std::string(numpy_name(i->type.scalar)),
           i->loc);
    Type i64 = scalar_type(Scalar::I64);
    args.push_back(i->type == i64 ? std::move(i) : make_cast(std::move(i), i64, loc));
  }
  return args;
}

std::vector<ExprPtr> tail_of(const std::vector<ExprPtr>& args) {
  return std::vector<ExprPtr>(args.begin() + 1, args.end());
}

}  // namespace

ExprPtr make_load(ExprPtr array, std::vector<ExprPtr> indices, Loc loc) {
  Type t = scalar_type(array->type.scalar);
  return node(Op::Load, t, loc, index_args(std::move(array), std::move(indices), loc));
}

ExprPtr make_shape(ExprPtr array, int dim, Loc loc) {
  require_array(array, "'shape'", loc);
  if (dim < 0 || dim >= array->type.ndim)
    fail("dimension " + std::to_string(dim) + " of a " + std::to_string(array->type.ndim) +
             "-d array does not exist",
         loc);
  ExprPtr e = node(Op::Shape, scalar_type(Scalar::I64), loc, {std::move(array)});
  std::const_pointer_cast<Expr>(e)->index = dim;
  return e;
}

ExprPtr make_tid(int dim, Loc loc) {
  ExprPtr e = node(Op::Tid, scalar_type(Scalar::I64), loc);
  std::const_pointer_cast<Expr>(e)->index = dim;
  return e;
}

ExprPtr remake(const Expr& like, std::vector<ExprPtr> args) {
  switch (like.op) {
    case Op::Const: return make_const(like.type, like.value, like.loc);
    case Op::Param: return make_param(like.index, like.type, like.loc);
    case Op::Var: return make_var(like.index, like.type, like.loc);
    case Op::Cast: return make_cast(args.at(0), like.type, like.loc);
    case Op::Select: return make_select(args.at(0), args.at(1), args.at(2), like.loc);
    case Op::Load: return make_load(args.at(0), tail_of(args), like.loc);
    case Op::Shape: return make_shape(args.at(0), like.index, like.loc);
    case Op::Tid: return make_tid(like.index, like.loc);
    default:
      if (is_unary(like.op)) return make_unary(like.op, args.at(0), like.loc);
      return make_binary(like.op, args.at(0), args.at(1), like.loc);
  }
}

static StmtPtr stmt(StmtKind kind, Loc loc, ExprPtr value, int var = 0, Block then_body = {},
                    Block else_body = {}, std::vector<ExprPtr> args = {}, Op op = Op::Add) {
  auto s = std::make_shared<Stmt>();
  s->kind = kind;
  s->loc = loc;
  s->var = var;
  s->value = std::move(value);
  s->then_body = std::move(then_body);
  s->else_body = std::move(else_body);
  s->args = std::move(args);
  s->op = op;
  return s;
}

StmtPtr make_assign(int var, ExprPtr value, Loc loc) {
  return stmt(StmtKind::Assign, loc, std::move(value), var);
}

StmtPtr make_if(ExprPtr cond, Block then_body, Block else_body, Loc loc) {
  return stmt(StmtKind::If, loc, make_truth(std::move(cond), loc), 0, std::move(then_body),
              std::move(else_body));
}

StmtPtr make_return(ExprPtr value, Loc loc) { return stmt(StmtKind::Return, loc, std::move(value)); }

StmtPtr make_store(ExprPtr array, std::vector<ExprPtr> indices, ExprPtr value, Loc loc) {
  std::vector<ExprPtr> args = index_args(std::move(array), std::move(indices), loc);
  require_scalar(value->type, "item assignment", loc);
  // NumPy's item assignment converts whatever it is given (unsafe casting).
  Type elem = scalar_type(args[0]->type.scalar);
  if (value->type != elem) value = make_cast(std::move(value), elem, loc);
  return stmt(StmtKind::Store, loc, std::move(value), 0, {}, {}, std::move(args));
}

StmtPtr make_atomic(Op op, ExprPtr array, std::vector<ExprPtr> indices, ExprPtr value, Loc loc) {
  if (op != Op::Add && op != Op::Min && op != Op::Max)
    fail(std::string("no atomic '") + op_name(op) + "' (atomics are add, min and max)", loc);
  std::vector<ExprPtr> args = index_args(std::move(array), std::move(indices), loc);
  Scalar s = args[0]->type.scalar;
  if (s != Scalar::I32 && s != Scalar::I64 && s != Scalar::U32 && s != Scalar::U64 &&
      s != Scalar::F32 && s != Scalar::F64)
    fail(std::string("atomics need an int32, int64, uint32, uint64, float32 or float64 array, "
                     "got ") + std::string(numpy_name(s)),
         loc);
  require_scalar(value->type, "an atomic's value", loc);
  if (value->type != scalar_type(s)) value = make_cast(std::move(value), scalar_type(s), loc);
  return stmt(StmtKind::Atomic, loc, std::move(value), 0, {}, {}, std::move(args), op);
}

namespace {

// A range's start, stop and step as int64, checked.
std::vector<ExprPtr> range_args(ExprPtr start, ExprPtr stop, ExprPtr step, Loc loc) {
  std::vector<ExprPtr> args;
  for (ExprPtr* x : {&start, &stop, &step}) {
    require_scalar((*x)->type, "range()", loc);
    if (!is_int((*x)->type.scalar) && (*x)->type.scalar != Scalar::Bool)
      fail(std::string("range() needs integers, got ") + std::string(numpy_name((*x)->type.scalar)),
           (*x)->loc);
    Type i64 = scalar_type(Scalar::I64);
    args.push_back((*x)->type == i64 ? *x : make_cast(*x, i64, loc));
  }
  if (args[2]->op == Op::Const && args[2]->value.i == 0) fail("range() step must not be zero", loc);
  return args;
}

}  // namespace

StmtPtr make_for(int var, ExprPtr start, ExprPtr stop, ExprPtr step, Block body, Loc loc) {
  return stmt(StmtKind::For, loc, nullptr, var, std::move(body), {},
              range_args(std::move(start), std::move(stop), std::move(step), loc));
}

StmtPtr make_while(ExprPtr cond, Block body, Loc loc) {
  return stmt(StmtKind::While, loc, make_truth(std::move(cond), loc), 0, std::move(body));
}

StmtPtr make_jump(StmtKind kind, Loc loc) {
  if (kind != StmtKind::Break && kind != StmtKind::Continue)
    throw std::logic_error("make_jump: not break or continue");
  return stmt(kind, loc, nullptr);
}

StmtPtr remake(const Stmt& like, ExprPtr value, std::vector<ExprPtr> args, Block then_body,
               Block else_body) {
  switch (like.kind) {
    case StmtKind::Store: return make_store(args.at(0), tail_of(args), value, like.loc);
    case StmtKind::Atomic: return make_atomic(like.op, args.at(0), tail_of(args), value, like.loc);
    case StmtKind::For:
      return make_for(like.var, args.at(0), args.at(1), args.at(2), std::move(then_body), like.loc);
    default:
      return stmt(like.kind, like.loc, std::move(value), like.var, std::move(then_body),
                  std::move(else_body), std::move(args), like.op);
  }
}

StmtPtr remake(const Stmt& like, ExprPtr value, Block then_body, Block else_body) {
  return remake(like, std::move(value), like.args, std::move(then_body), std::move(else_body));
}

bool always_returns(const Block& b) {
  for (const StmtPtr& s : b) {
    if (s->kind == StmtKind::Return) return true;
    if (s->kind == StmtKind::If && always_returns(s->then_body) && always_returns(s->else_body))
      return true;
  }
  return false;
}

FunctionBuilder::FunctionBuilder(std::string name, std::string file, Loc loc, int domain) {
  fn_.name = std::move(name);
  fn_.file = std::move(file);
  fn_.loc = loc;
  fn_.domain = domain;
  if (domain < 0 || domain > 3) fail("a kernel's domain has 1 to 3 dimensions", loc);
  if (fn_.is_kernel()) fn_.result = scalar_type(Scalar::Bool);
  blocks_.emplace_back();
}

Block& FunctionBuilder::current() { return blocks_.back(); }

ExprPtr FunctionBuilder::add_param(const std::string& name, Type t, Loc loc) {
  if (t.is_array() && !fn_.is_kernel())
    fail("parameter '" + name + "' is an array: only @ember.kernel functions take arrays", loc);
  if (t.ndim > 4) fail("parameter '" + name + "': arrays of 1 to 4 dimensions are supported", loc);
  int index = static_cast<int>(fn_.params.size());
  fn_.params.push_back({name, t});
  return make_param(index, t, loc);
}

bool FunctionBuilder::has_var(const std::string& name) const { return vars_.count(name) > 0; }

ExprPtr FunctionBuilder::read_var(const std::string& name, Loc loc) {
  auto it = vars_.find(name);
  if (it == vars_.end()) fail("local variable '" + name + "' is read before it is assigned", loc);
  return make_var(it->second, fn_.locals[it->second].type, loc);
}

int FunctionBuilder::declare(const std::string& name, Type t, Loc loc) {
  auto it = vars_.find(name);
  if (it != vars_.end()) return it->second;
  for (const Variable& p : fn_.params)
    if (p.name == name) fail("internal: local variable '" + name + "' shadows a parameter", loc);
  int index = static_cast<int>(fn_.locals.size());
  fn_.locals.push_back({name, concrete(t)});
  vars_.emplace(name, index);
  return index;
}

std::string FunctionBuilder::type_change(int var, Type got) const {
  Scalar have = fn_.locals[var].type.scalar;
  return "local variable '" + fn_.locals[var].name + "' changes type from " +
         std::string(numpy_name(have)) + " to " + std::string(numpy_name(concrete(got).scalar)) +
         "; convert explicitly, e.g. np." + std::string(numpy_name(have)) + "(...)";
}

void FunctionBuilder::assign(const std::string& name, ExprPtr value, Loc loc) {
  if (value->type.is_array()) fail("cannot assign an array to local variable '" + name + "'", loc);
  int var = declare(name, value->type, loc);
  Type have = fn_.locals[var].type;
  if (concrete(value->type) != have) {
    if (!value->type.weak || promote(have, value->type) != have) fail(type_change(var, value->type), loc);
    value = make_cast(value, have, loc);
  }
  current().push_back(make_assign(var, std::move(value), loc));
}

void FunctionBuilder::open(StmtKind kind, ExprPtr cond, Loc loc, std::vector<ExprPtr> args,
                           int var) {
  open_.push_back({kind, std::move(cond), loc, {}, false, std::move(args), var});
  blocks_.emplace_back();
}

FunctionBuilder::Open FunctionBuilder::close(StmtKind kind) {
  if (open_.empty() || open_.back().kind != kind)
    throw std::logic_error("FunctionBuilder: mismatched end of a block");
  Open o = std::move(open_.back());
  open_.pop_back();
  o.last = std::move(blocks_.back());
  blocks_.pop_back();
  return o;
}

void FunctionBuilder::begin_if(ExprPtr cond, Loc loc) {
  open(StmtKind::If, make_truth(std::move(cond), loc), loc);
}

void FunctionBuilder::begin_else() {
  Open& o = open_.back();
  o.then_body = std::move(current());
  current().clear();
  o.in_else = true;
}

void FunctionBuilder::end_if() {
  Open o = close(StmtKind::If);
  Block then_body = o.in_else ? std::move(o.then_body) : std::move(o.last);
  Block else_body = o.in_else ? std::move(o.last) : Block{};
  current().push_back(make_if(o.cond, std::move(then_body), std::move(else_body), o.loc));
}

void FunctionBuilder::begin_for(const std::string& name, ExprPtr start, ExprPtr stop, ExprPtr step,
                                Loc loc) {
  Type i64 = scalar_type(Scalar::I64);
  int var = declare(name, i64, loc);
  if (fn_.locals[var].type != i64) fail(type_change(var, i64), loc);
  // Checked now, so that a bad range points at the loop, not at its end.
  open(StmtKind::For, nullptr, loc, range_args(start, stop, step, loc), var);
}

void FunctionBuilder::end_for() {
  Open o = close(StmtKind::For);
  current().push_back(make_for(o.var, o.args[0], o.args[1], o.args[2], std::move(o.last), o.loc));
}

void FunctionBuilder::begin_while(ExprPtr cond, Loc loc) {
  open(StmtKind::While, make_truth(std::move(cond), loc), loc);
}

void FunctionBuilder::end_while() {
  Open o = close(StmtKind::While);
  current().push_back(make_while(o.cond, std::move(o.last), o.loc));
}

void FunctionBuilder::jump(StmtKind kind, Loc loc) {
  bool in_loop = false;
  for (const Open& o : open_) in_loop |= o.kind == StmtKind::For || o.kind == StmtKind::While;
  if (!in_loop) fail(std::string(kind == StmtKind::Break ? "'break'" : "'continue'") +
                         " outside a loop", loc);
  current().push_back(make_jump(kind, loc));
}

void FunctionBuilder::store(ExprPtr array, std::vector<ExprPtr> indices, ExprPtr value, Loc loc) {
  current().push_back(make_store(std::move(array), std::move(indices), std::move(value), loc));
}

void FunctionBuilder::atomic(Op op, ExprPtr array, std::vector<ExprPtr> indices, ExprPtr value,
                             Loc loc) {
  current().push_back(
      make_atomic(op, std::move(array), std::move(indices), std::move(value), loc));
}

ExprPtr FunctionBuilder::tid(int dim, Loc loc) const {
  if (dim < 0 || dim >= fn_.domain)
    fail("ember.tid(): index dimension " + std::to_string(dim) + " of a " +
             std::to_string(fn_.domain) + "-d domain",
         loc);
  return make_tid(dim, loc);
}

void FunctionBuilder::ret(ExprPtr value, Loc loc) {
  if (fn_.is_kernel()) {
    if (value) fail("a kernel returns nothing: write results into an array argument", loc);
    current().push_back(make_return(nullptr, loc));
    return;
  }
  if (!value) fail("return without a value: a vectorized function must return a number", loc);
  if (value->type.is_array()) fail("a vectorized function must return a scalar", loc);
  returns_.push_back(value->type);
  current().push_back(make_return(std::move(value), loc));
}

Function FunctionBuilder::finish() {
  if (!open_.empty()) fail("internal: unterminated block", open_.back().loc);
  fn_.body = std::move(blocks_.front());
  if (fn_.is_kernel()) return std::move(fn_);
  if (!always_returns(fn_.body)) {
    Loc at = fn_.body.empty() ? fn_.loc : fn_.body.back()->loc;
    fail("function '" + fn_.name + "' does not return a value on every path", at);
  }
  Type t = returns_.front();
  for (Type r : returns_) t = promote(t, r);
  fn_.result = concrete(t);
  return std::move(fn_);
}

}  // namespace ember::ir
