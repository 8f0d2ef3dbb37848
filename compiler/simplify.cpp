// simplify: algebraic identities that hold bit for bit under IEEE 754 and wrapping integers.
#include <bit>
#include <cstdint>

#include "compiler/passes.h"
#include "compiler/rewrite.h"
#include "ir/builder.h"

namespace ember::compiler {
namespace {

using ir::Expr;
using ir::ExprPtr;
using ir::Op;

bool is_float_type(const ExprPtr& x) { return ir::is_float(x->type.scalar); }

// A literal equal to `v`; float literals compare bitwise, so 0.0 is not -0.0.
bool is_lit(const ExprPtr& x, double v) {
  if (x->op != Op::Const) return false;
  if (is_float_type(x)) return std::bit_cast<uint64_t>(x->value.f) == std::bit_cast<uint64_t>(v);
  return x->value.i == static_cast<int64_t>(v);
}

bool is_all_ones(const ExprPtr& x) {
  return x->op == Op::Const && !is_float_type(x) &&
         x->value.i == ir::normalize(ir::Literal{-1, 0.0}, x->type).i;
}

// The other operand of a binary node when one operand satisfies `pred`
// (either side: only used for commutative ops).
template <class Pred>
ExprPtr other_if(const Expr& e, Pred pred) {
  if (pred(e.args[1])) return e.args[0];
  if (pred(e.args[0])) return e.args[1];
  return nullptr;
}

bool same_operands(const Expr& e) { return same_expr(*e.args[0], *e.args[1]); }

bool is_rounding(Op op) {
  return op == Op::Floor || op == Op::Ceil || op == Op::Trunc || op == Op::Rint;
}

ExprPtr round_again(const Expr& e) {
  const ExprPtr& x = e.args[0];
  bool integral = !is_float_type(x) || is_rounding(x->op);
  return integral && x->type == e.type ? x : nullptr;
}

// op(x, x) is x for and, or, min, max, minimum, maximum: the same value on
// both sides, NaN and signed zeros included.
ExprPtr idempotent(const Expr& e) { return same_operands(e) ? e.args[0] : nullptr; }

// x op 0 is x for sub, shl and shr in every type they exist in (for floats
// x - (+0.0) is x + -0.0, see add).
ExprPtr zero_on_right(const Expr& e) { return is_lit(e.args[1], 0.0) ? e.args[0] : nullptr; }

// x op 1 is x for div (floats: exact like x * 1.0), pow (IEEE 754 pow(x, 1)
// is x) and integer floordiv (float x // 1 would be floor(x)).
ExprPtr one_on_right(const Expr& e) {
  bool ok = e.op != Op::FloorDiv || !is_float_type(e.args[0]);
  return ok && is_lit(e.args[1], 1.0) ? e.args[0] : nullptr;
}

// 0 op x and x op 0 are x for or and xor, bitwise.
ExprPtr zero_either_side(const Expr& e) {
  return other_if(e, [](const ExprPtr& x) { return is_lit(x, 0.0); });
}

// An integer or bool compared with itself: its value equals itself (floats
// are excluded because NaN != NaN).
ExprPtr compare_self(const Expr& e) {
  if (is_float_type(e.args[0]) || !same_operands(e)) return nullptr;
  bool equal_holds = e.op == Op::Eq || e.op == Op::Le || e.op == Op::Ge;
  return ir::make_bool(equal_holds, e.loc);
}

// Each rule gets a node whose operands are already simplified and returns its
// replacement, or null. Every replacement has the node's type (Strict IR:
// arithmetic operands share the result type). Operands are pure and total,
// so dropping or duplicating one never changes behavior.
struct Rule {
  Op op;
  ExprPtr (*apply)(const Expr& e);
};

const Rule kRules[] = {
    // A cast to the operand's own type converts nothing.
    {Op::Cast, [](const Expr& e) { return e.args[0]->type == e.type ? e.args[0] : nullptr; }},
    // Integers (and bools, where add is or): x + 0 wraps to x. Floats: x + -0.0
    // is x for every x, signed zeros included; x + 0.0 is not (-0.0 + 0.0 = 0.0).
    {Op::Add,
     [](const Expr& e) {
       return other_if(e,
                       [](const ExprPtr& x) { return is_lit(x, is_float_type(x) ? -0.0 : 0.0); });
     }},
    {Op::Sub, zero_on_right},
    // x - x is 0 for integers; for floats inf - inf and NaN - NaN are NaN.
    {Op::Sub,
     [](const Expr& e) {
       return !is_float_type(e.args[0]) && same_operands(e) ? ir::make_int(0, e.type, e.loc)
                                                            : nullptr;
     }},
    // x * 1 is x in every type: the exact product needs no rounding, and IEEE
    // keeps the sign of zero and infinities and propagates NaN.
    {Op::Mul,
     [](const Expr& e) { return other_if(e, [](const ExprPtr& x) { return is_lit(x, 1.0); }); }},
    // x * 0 is 0 for integers only: for floats NaN * 0, inf * 0 and -1 * 0 differ.
    {Op::Mul,
     [](const Expr& e) {
       return other_if(e, [](const ExprPtr& x) { return !is_float_type(x) && is_lit(x, 0.0); })
                  ? ir::make_int(0, e.type, e.loc)
                  : nullptr;
     }},
    {Op::Div, one_on_right},
    {Op::FloorDiv, one_on_right},
    // Integer x % 1 is 0 (float x % 1 is the fractional part).
    {Op::Mod,
     [](const Expr& e) {
       return !is_float_type(e.args[0]) && is_lit(e.args[1], 1.0) ? ir::make_int(0, e.type, e.loc)
                                                                  : nullptr;
     }},
    // Bitwise ops (integers and bools only); x & ~0 is x, x ^ x is 0.
    {Op::BitOr, zero_either_side},
    {Op::BitXor, zero_either_side},
    {Op::BitAnd, [](const Expr& e) { return other_if(e, is_all_ones); }},
    {Op::Shl, zero_on_right},
    {Op::Shr, zero_on_right},
    {Op::BitXor,
     [](const Expr& e) { return same_operands(e) ? ir::make_int(0, e.type, e.loc) : nullptr; }},
    {Op::BitAnd, idempotent},
    {Op::BitOr, idempotent},
    {Op::Min, idempotent},
    {Op::Max, idempotent},
    {Op::Minimum, idempotent},
    {Op::Maximum, idempotent},
    {Op::Pow, one_on_right},
    // pow(x, 0) is 1 for every x (IEEE 754 pow, NaN included; integer pow too).
    {Op::Pow,
     [](const Expr& e) {
       if (!is_lit(e.args[1], 0.0)) return ExprPtr();
       return is_float_type(e.args[0]) ? ir::make_float(1.0, e.type, e.loc)
                                       : ir::make_int(1, e.type, e.loc);
     }},
    // pow(x, 2) is x * x: one correctly rounded product, exactly what LLVM
    // turns pow(x, 2.0) into without fast-math. Not pow(x, 0.5) -> sqrt(x):
    // pow(-0.0, 0.5) is 0.0 but sqrt(-0.0) is -0.0, pow(-inf, 0.5) is inf.
    // A compound x now appears twice; cse computes it once again.
    {Op::Pow,
     [](const Expr& e) {
       return is_lit(e.args[1], 2.0) ? ir::make_binary(Op::Mul, e.args[0], e.args[0], e.loc)
                                     : nullptr;
     }},
    // not(not(b)) is b for a bool b (for an integer it would be b != 0).
    {Op::Not,
     [](const Expr& e) {
       const ExprPtr& x = e.args[0];
       return x->op == Op::Not && x->args[0]->type.scalar == ir::Scalar::Bool ? x->args[0]
                                                                              : nullptr;
     }},
    // Negation and bitwise inversion are involutions, wrapping included
    // (-(-INT_MIN) is INT_MIN).
    {Op::Neg,
     [](const Expr& e) { return e.args[0]->op == Op::Neg ? e.args[0]->args[0] : nullptr; }},
    {Op::Invert,
     [](const Expr& e) { return e.args[0]->op == Op::Invert ? e.args[0]->args[0] : nullptr; }},
    // Rounding an integer changes nothing (NumPy 2 keeps integer types), nor
    // does rounding a float that is already integral: -0.0, inf and NaN included.
    {Op::Floor, round_again},
    {Op::Ceil, round_again},
    {Op::Trunc, round_again},
    {Op::Rint, round_again},
    {Op::Eq, compare_self},
    {Op::Ne, compare_self},
    {Op::Lt, compare_self},
    {Op::Le, compare_self},
    {Op::Gt, compare_self},
    {Op::Ge, compare_self},
    // Both arms equal: the condition does not matter.
    {Op::Select,
     [](const Expr& e) { return same_expr(*e.args[1], *e.args[2]) ? e.args[1] : nullptr; }},
    // select(not c, a, b) is select(c, b, a) for a bool c: one op fewer.
    {Op::Select,
     [](const Expr& e) {
       const ExprPtr& c = e.args[0];
       if (c->op != Op::Not || c->args[0]->type.scalar != ir::Scalar::Bool) return ExprPtr();
       return ir::make_select(c->args[0], e.args[2], e.args[1], e.loc);
     }},
};

ExprPtr simplify_node(const ExprPtr& node, std::vector<ExprPtr> args) {
  ExprPtr e = rebuilt(node, std::move(args));
  // A replacement may itself match a rule (its operands are already simple).
  // No rule undoes another; the bound only guards against a future one that does.
  for (int round = 0; round < 8; ++round) {
    ExprPtr next;
    for (const Rule& r : kRules)
      if (!next && r.op == e->op) next = r.apply(*e);
    if (!next) break;
    e = next;
  }
  return e;
}

}  // namespace

ir::Function simplify(const ir::Function& fn) { return rewrite(fn, simplify_node); }

}  // namespace ember::compiler
