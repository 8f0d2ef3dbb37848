// constfold: evaluates constant operators (ir/eval.h) and keeps the taken side of constant ifs.
#include <algorithm>

#include "compiler/passes.h"
#include "compiler/rewrite.h"
#include "ir/builder.h"
#include "ir/eval.h"

namespace ember::compiler {
namespace {

using ir::ExprPtr;
using ir::Op;

bool is_const(const ExprPtr& x) { return x->op == Op::Const; }

// Folding uses the very functions the interpreter runs, so a folded program
// can never compute something else than the unfolded one.
ExprPtr fold_node(const ExprPtr& e, std::vector<ExprPtr> args) {
  if (e->op == Op::Select && is_const(args[0])) return args[0]->value.i ? args[1] : args[2];
  if (args.empty() || !std::all_of(args.begin(), args.end(), is_const)) return rebuilt(e, args);
  const ir::Expr& x = *args[0];
  ir::Literal v;
  if (e->op == Op::Cast)
    v = ir::eval_cast(x.value, x.type.scalar, e->type.scalar);
  else if (ir::is_unary(e->op))
    v = ir::eval_unary(e->op, x.type.scalar, x.value);
  else
    v = ir::eval_binary(e->op, x.type.scalar, x.value, args[1]->value);
  return ir::make_const(e->type, v, e->loc);
}

// An if on a constant condition becomes the statements of the taken branch.
ir::Block fold_stmt(ir::StmtPtr s) {
  if (s->kind != ir::StmtKind::If || !is_const(s->value)) return {s};
  return s->value->value.i ? s->then_body : s->else_body;
}

}  // namespace

ir::Function constant_fold(const ir::Function& fn) { return rewrite(fn, fold_node, fold_stmt); }

}  // namespace ember::compiler
