// Reference interpreter: a direct tree walk over a Strict-level Function.
#include "ir/interpreter.h"

#include <optional>
#include <stdexcept>
#include <string>

#include "ir/builder.h"
#include "ir/eval.h"

namespace ember::ir {
namespace {

struct Frame {
  std::vector<Literal> params;
  std::vector<Literal> locals;
};

Literal eval_expr(const Expr& e, const Frame& f) {
  auto arg = [&](int i) { return eval_expr(*e.args[i], f); };
  switch (e.op) {
    case Op::Const: return e.value;
    case Op::Param: return f.params.at(e.index);
    case Op::Var: return f.locals.at(e.index);
    case Op::Cast: return eval_cast(arg(0), e.args[0]->type.scalar, e.type.scalar);
    case Op::Select: return arg(arg(0).i ? 1 : 2);  // only the chosen side is evaluated
    default:
      Scalar t = e.args[0]->type.scalar;  // Strict: operands share one type
      if (is_unary(e.op)) return eval_unary(e.op, t, arg(0));
      return eval_binary(e.op, t, arg(0), arg(1));
  }
}

// Runs `b` statement by statement; the returned value once a return is reached.
std::optional<Literal> run(const Block& b, Frame& f) {
  for (const StmtPtr& s : b) {
    switch (s->kind) {
      case StmtKind::Assign: f.locals.at(s->var) = eval_expr(*s->value, f); break;
      case StmtKind::If:
        if (auto r = run(eval_expr(*s->value, f).i ? s->then_body : s->else_body, f)) return r;
        break;
      case StmtKind::Return: return eval_expr(*s->value, f);
    }
  }
  return std::nullopt;
}

}  // namespace

Literal interpret(const Function& fn, const std::vector<Literal>& args) {
  if (args.size() != fn.params.size())
    throw std::invalid_argument("interpret: '" + fn.name + "' takes " +
                                std::to_string(fn.params.size()) + " arguments, got " +
                                std::to_string(args.size()));
  Frame f{{}, std::vector<Literal>(fn.locals.size())};
  // Normalized so that a caller's sloppy literal (300 for a uint8) cannot leak through.
  for (size_t i = 0; i < args.size(); ++i)
    f.params.push_back(normalize(args[i], fn.params[i].type));
  std::optional<Literal> r = run(fn.body, f);
  if (!r) throw std::logic_error("interpret: '" + fn.name + "' ended without a return");
  return *r;
}

}  // namespace ember::ir
