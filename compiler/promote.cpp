// promote: Frontend IR -> Strict IR; every implicit NumPy 2 conversion becomes a Cast.
#include <limits>
#include <optional>

#include "compiler/passes.h"
#include "compiler/rewrite.h"
#include "ir/builder.h"
#include "ir/eval.h"

namespace ember::compiler {
namespace {

using ir::ExprPtr;
using ir::Op;
using ir::Scalar;
using ir::Type;

// `x` as a value of `t`. Literals are converted at once with the interpreter's
// eval_cast, so that a Python literal reads as the type it adopted: add(x, 1:u8).
ExprPtr cast_to(const ExprPtr& x, Type t, ir::Loc loc) {
  if (x->type == t) return x;
  if (x->op == Op::Const)
    return ir::make_const(t, ir::eval_cast(x->value, x->type.scalar, t.scalar), x->loc);
  return ir::make_cast(x, t, loc);
}

// NumPy 2 refuses arithmetic between an integer array and a Python int it
// cannot hold (uint8 + 300, uint8 - -1): so does ember, at compile time.
void check_literal_fits(const ir::Expr& literal, Type t) {
  if (literal.op != Op::Const || !literal.type.weak || !ir::is_int(literal.type.scalar) ||
      !ir::is_int(t.scalar))
    return;
  ir::Literal v = ir::eval_cast(literal.value, literal.type.scalar, t.scalar);
  bool negative = ir::is_signed(literal.type.scalar) && literal.value.i < 0;
  bool fits = ir::eval_cast(v, t.scalar, literal.type.scalar) == literal.value &&
              negative == (ir::is_signed(t.scalar) && v.i < 0);
  std::string shown = ir::is_signed(literal.type.scalar)
                          ? std::to_string(literal.value.i)
                          : std::to_string(static_cast<uint64_t>(literal.value.i));
  if (!fits)
    throw ir::CompileError("Python int " + shown +
                               " is out of bounds for " + std::string(ir::numpy_name(t.scalar)) +
                               " (NumPy raises OverflowError)",
                           literal.loc);
}

// The comparison that holds for `b op a` when `a op b` is `op`.
Op mirrored(Op op) {
  switch (op) {
    case Op::Lt: return Op::Gt;
    case Op::Gt: return Op::Lt;
    case Op::Le: return Op::Ge;
    case Op::Ge: return Op::Le;
    default: return op;  // eq, ne
  }
}

// Result of `v op c` for every v of the type when c lies above (or below)
// all of its values.
bool out_of_range_result(Op op, bool above) {
  switch (op) {
    case Op::Lt:
    case Op::Le: return above;
    case Op::Gt:
    case Op::Ge: return !above;
    case Op::Eq: return false;
    default: return true;  // ne
  }
}

// NumPy 2 compares a Python int that does not fit the other operand's integer
// type by its true value (uint8 < 300 is true) instead of wrapping it; the
// answer does not depend on the other operand. Empty when the literal fits.
std::optional<bool> compare_out_of_range(const ir::Expr& e, Type t) {
  for (int side = 0; side < 2; ++side) {
    const ir::Expr& lit = *e.args[side];
    if (lit.op != Op::Const || !lit.type.weak || !ir::is_int(lit.type.scalar) ||
        !ir::is_int(t.scalar))
      continue;
    int bits = ir::bits_of(t.scalar);
    int64_t v = lit.value.i;
    bool above = false, below = false;
    if (ir::is_signed(t.scalar)) {
      int64_t hi =
          bits == 64 ? std::numeric_limits<int64_t>::max() : (int64_t{1} << (bits - 1)) - 1;
      above = v > hi;
      below = v < -hi - 1;
    } else {
      above = bits < 64 && v > static_cast<int64_t>((uint64_t{1} << bits) - 1);
      below = v < 0;
    }
    if (!above && !below) continue;
    // With the literal on the left, `c op x` is `x mirrored(op) c`.
    return out_of_range_result(side == 1 ? e.op : mirrored(e.op), above);
  }
  return std::nullopt;
}

// NumPy promotes int64 with uint64 to float64, which rounds large values;
// comparing exactly instead: a negative signed value is below every uint64,
// and a non-negative one converts to uint64 without loss. (A Python int
// argument against uint64 lands here too, compared by its true value.)
ExprPtr compare_signed_with_u64(Op op, ExprPtr a, ExprPtr b, ir::Loc loc) {
  bool signed_left = ir::is_signed(a->type.scalar);
  ExprPtr s = signed_left ? a : b;
  ExprPtr s_u64 = cast_to(s, Type{Scalar::U64}, loc);
  ExprPtr exact =
      signed_left ? ir::make_binary(op, s_u64, b, loc) : ir::make_binary(op, a, s_u64, loc);
  ExprPtr negative = ir::make_binary(Op::Lt, s, ir::make_int(0, s->type, loc), loc);
  // `s op u` is `u mirrored(op) s`, with s below every value of u.
  bool if_negative = out_of_range_result(signed_left ? mirrored(op) : op, /*above=*/false);
  return ir::make_select(negative, ir::make_bool(if_negative, loc), exact, loc);
}

bool is_weak_int(Type t) { return t.weak && ir::is_int(t.scalar); }

ExprPtr promote_compare(const ir::Expr& e, ExprPtr a, ExprPtr b) {
  Type ta = e.args[0]->type, tb = e.args[1]->type;
  Type t = ir::concrete(ir::promote(ta, tb));
  if (auto r = compare_out_of_range(e, t)) return ir::make_bool(*r, e.loc);
  // A Python int argument may not fit the other operand's type either: compare
  // in int64, which holds both (and exactly against uint64, below).
  bool weak_vs_int = (is_weak_int(ta) && e.args[0]->op != Op::Const && ir::is_int(tb.scalar)) ||
                     (is_weak_int(tb) && e.args[1]->op != Op::Const && ir::is_int(ta.scalar));
  if (weak_vs_int && t.scalar != Scalar::U64) t = Type{Scalar::I64};
  bool mixed = (ir::is_signed(a->type.scalar) && b->type.scalar == Scalar::U64) ||
               (a->type.scalar == Scalar::U64 && ir::is_signed(b->type.scalar));
  if (mixed) return compare_signed_with_u64(e.op, a, b, e.loc);
  return ir::make_binary(e.op, cast_to(a, t, e.loc), cast_to(b, t, e.loc), e.loc);
}

ExprPtr promote_node(const ExprPtr& node, std::vector<ExprPtr> args) {
  const ir::Expr& e = *node;
  // Weak (Python scalar) types only decided the node's type; the computation
  // happens in its concrete form (int64 / float64 / bool for weak-only math).
  Type t = ir::concrete(e.type);
  switch (e.op) {
    case Op::Const: return ir::make_const(t, e.value, e.loc);
    case Op::Param: return ir::make_param(e.index, t, e.loc);
    case Op::Var:  // locals are never weak
    case Op::Tid: return node;
    case Op::Load:
    case Op::Shape: return rebuilt(node, std::move(args));  // indices are int64 already
    case Op::Cast: return cast_to(args[0], t, e.loc);
    case Op::Select:
      return ir::make_select(args[0], cast_to(args[1], t, e.loc), cast_to(args[2], t, e.loc),
                             e.loc);
    default: break;
  }
  if (ir::is_comparison(e.op)) return promote_compare(e, args[0], args[1]);
  if (ir::is_binary(e.op)) {
    for (const ExprPtr& operand : e.args) check_literal_fits(*operand, t);
    return ir::make_binary(e.op, cast_to(args[0], t, e.loc), cast_to(args[1], t, e.loc), e.loc);
  }
  // Bool-result ops look at their operand as it is; every other unary op
  // computes in its result type (math on integers and bools in float_for).
  if (ir::has_bool_result(e.op)) return ir::make_unary(e.op, args[0], e.loc);
  return ir::make_unary(e.op, cast_to(args[0], t, e.loc), e.loc);
}

}  // namespace

ir::Function promote(const ir::Function& fn) {
  ir::Function out = fn;
  for (ir::Variable& p : out.params) p.type = ir::concrete(p.type);
  for (ir::Variable& v : out.locals) v.type = ir::concrete(v.type);
  out.result = ir::concrete(fn.result);
  // Stored values take the type of their destination.
  auto fix_stmt = [&out](ir::StmtPtr s) -> ir::Block {
    Type want;
    if (s->kind == ir::StmtKind::Assign)
      want = out.locals.at(s->var).type;
    else if (s->kind == ir::StmtKind::Return && s->value)
      want = out.result;
    else
      return {s};
    return {ir::remake(*s, cast_to(s->value, want, s->loc), {}, {})};
  };
  out.body = rewrite(fn.body, promote_node, fix_stmt);
  return out;
}

}  // namespace ember::compiler
