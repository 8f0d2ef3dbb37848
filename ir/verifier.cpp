// Invariant checks of a Function at the Frontend or Strict level.
#include "ir/verifier.h"

#include <optional>
#include <string>
#include <unordered_set>

#include "ir/builder.h"

namespace ember::ir {
namespace {

std::string quoted(Op op) { return std::string("'") + op_name(op) + "'"; }

// Operators whose result type is bool whatever the operand type.
size_t arity(Op op) {
  switch (op) {
    case Op::Const:
    case Op::Param:
    case Op::Var:
    case Op::Tid: return 0;
    case Op::Shape: return 1;
    case Op::Select: return 3;
    default: return is_binary(op) ? 2 : 1;
  }
}

class Verifier {
 public:
  Verifier(const Function& fn, Level level) : fn_(fn), strict_(level == Level::Strict) {}

  std::vector<std::string> run() {
    // The builder declares locals concrete at every level (promote relies on it).
    for (const Variable& v : fn_.locals)
      if (v.type.weak)
        report(fn_.loc, "local '" + v.name + "' has weak type " + to_string(v.type) +
                            " (locals are never weak)");
    if (strict_) {
      for (const Variable& p : fn_.params) no_weak(p.type, fn_.loc, "parameter '" + p.name + "'");
      no_weak(fn_.result, fn_.loc, "the result of '" + fn_.name + "'");
    }
    block(fn_.body);
    if (!fn_.is_kernel() && !always_returns(fn_.body))
      report(fn_.loc, "function '" + fn_.name + "' does not return on every path");
    return std::move(problems_);
  }

 private:
  void report(Loc loc, const std::string& msg) {
    problems_.push_back(std::to_string(loc.line) + ":" + std::to_string(loc.col) + ": " + msg);
  }

  std::nullopt_t rejected(Loc loc, const std::string& msg) {
    report(loc, msg);
    return std::nullopt;
  }

  void no_weak(Type t, Loc loc, const std::string& what) {
    if (t.weak) report(loc, what + " has weak type " + to_string(t) + " at the Strict level");
  }

  // --- statements -----------------------------------------------------------

  void block(const Block& b) {
    for (const StmtPtr& s : b) {
      if (s)
        stmt(*s);
      else
        report(fn_.loc, "null statement");
    }
  }

  bool has_value(const Stmt& s) {
    switch (s.kind) {
      case StmtKind::For:
      case StmtKind::Break:
      case StmtKind::Continue: return false;
      case StmtKind::Return: return !fn_.is_kernel();
      default: return true;
    }
  }

  void condition(const Stmt& s, Type t, const char* what) {
    if (t != Type{Scalar::Bool, t.weak, 0})
      report(s.loc, std::string("'") + what + "' condition has type " + to_string(t) + ", not bool");
  }

  void stmt(const Stmt& s) {
    if (has_value(s) != (s.value != nullptr))
      return report(s.loc, s.value ? "unexpected statement value" : "statement without a value");
    if (s.value) expr(s.value);
    for (const ExprPtr& a : s.args)
      if (a) expr(a);
    Type t = s.value ? s.value->type : Type{};
    if (!fn_.is_kernel() && s.kind != StmtKind::Assign && s.kind != StmtKind::If &&
        s.kind != StmtKind::Return)
      return report(s.loc, "kernel statement in a scalar function");
    switch (s.kind) {
      case StmtKind::Assign: return assign(s, t);
      case StmtKind::If:
        condition(s, t, "if");
        block(s.then_body);
        block(s.else_body);
        return;
      case StmtKind::While:
        condition(s, t, "while");
        return loop_body(s.then_body);
      case StmtKind::For:
        if (s.args.size() != 3) return report(s.loc, "'for' needs start, stop and step");
        for (const ExprPtr& a : s.args)
          if (a->type != Type{Scalar::I64}) report(s.loc, "range bound of type " + to_string(a->type));
        assign(s, Type{Scalar::I64});
        return loop_body(s.then_body);
      case StmtKind::Break:
      case StmtKind::Continue:
        if (loops_ == 0) report(s.loc, "break or continue outside a loop");
        return;
      case StmtKind::Store:
      case StmtKind::Atomic: return access(s, t);
      case StmtKind::Return:
        if (fn_.is_kernel()) return;
        if (strict_ ? t != fn_.result : promote(t, fn_.result) != fn_.result)
          report(s.loc, "returned value of type " + to_string(t) +
                            (strict_ ? " is not " : " does not promote to ") + "the result type " +
                            to_string(fn_.result));
        return;
    }
  }

  void loop_body(const Block& b) {
    ++loops_;
    block(b);
    --loops_;
  }

  void access(const Stmt& s, Type t) {
    if (s.args.empty() || !s.args[0] || s.args[0]->op != Op::Param || !s.args[0]->type.is_array())
      return report(s.loc, "store or atomic without an array parameter");
    Type array = s.args[0]->type;
    if (s.args.size() != array.ndim + 1u) report(s.loc, "wrong number of indices");
    for (size_t k = 1; k < s.args.size(); ++k)
      if (s.args[k] && s.args[k]->type != Type{Scalar::I64}) report(s.loc, "index is not int64");
    if (t != Type{array.scalar}) report(s.loc, "stored value of type " + to_string(t) +
                                                   " into an array of " + to_string(array));
  }

  void assign(const Stmt& s, Type t) {
    if (s.var < 0 || s.var >= static_cast<int>(fn_.locals.size()))
      return report(s.loc, "assignment to local variable " + std::to_string(s.var) + " of " +
                               std::to_string(fn_.locals.size()));
    const Variable& v = fn_.locals[s.var];
    if (strict_ ? t != v.type : concrete(t) != concrete(v.type))
      report(s.loc, "value of type " + to_string(t) + " assigned to local '" + v.name +
                        "' of type " + to_string(v.type));
  }

  // --- expressions ----------------------------------------------------------

  // A node shared by several parents (after CSE) is checked once.
  void expr(const ExprPtr& e) {
    if (!seen_.insert(e.get()).second) return;
    if (e->op == Op::Load ? e->args.empty() : e->args.size() != arity(e->op))
      return report(e->loc, quoted(e->op) + " has " + std::to_string(e->args.size()) +
                                " operands, not " + std::to_string(arity(e->op)));
    for (const ExprPtr& a : e->args)
      if (!a) return report(e->loc, quoted(e->op) + " has a null operand");
    for (const ExprPtr& a : e->args) expr(a);
    node_type(*e);
    if (strict_) strict_node(*e);
  }

  // The type builder.h gives this node.
  void node_type(const Expr& e) {
    try {
      if (auto want = expected_type(e); want && *want != e.type)
        report(e.loc, quoted(e.op) + " has type " + to_string(e.type) + ", builder.h gives " +
                          to_string(*want));
    } catch (const CompileError& err) {
      report(e.loc, quoted(e.op) + ": " + err.what());
    }
  }

  // nullopt where the node is wrong in a way already reported.
  std::optional<Type> expected_type(const Expr& e) {
    switch (e.op) {
      case Op::Const:
        if (e.type.is_array()) return rejected(e.loc, "array-typed constant");
        if (normalize(e.value, e.type) != e.value)
          report(e.loc, "constant value does not fit its type " + to_string(e.type));
        return e.type;
      case Op::Param: return declared(e, fn_.params, "parameter");
      case Op::Var: return declared(e, fn_.locals, "local variable");
      case Op::Cast:
        if (e.type.is_array() || e.args[0]->type.is_array())
          return rejected(e.loc, "cast from or to an array type");
        return e.type;
      case Op::Load:
        if (e.args[0]->op != Op::Param || e.args[0]->type.ndim + 1u != e.args.size())
          return rejected(e.loc, "'load' needs an array parameter and one index per dimension");
        for (size_t k = 1; k < e.args.size(); ++k)
          if (e.args[k]->type != Type{Scalar::I64}) report(e.loc, "'load' index is not int64");
        return Type{e.args[0]->type.scalar};
      case Op::Shape:
        if (!e.args[0]->type.is_array() || e.index < 0 || e.index >= e.args[0]->type.ndim)
          return rejected(e.loc, "'shape' of a dimension that does not exist");
        return Type{Scalar::I64};
      case Op::Tid:
        if (e.index < 0 || e.index >= fn_.domain)
          return rejected(e.loc, "'tid' dimension outside the kernel's domain");
        return Type{Scalar::I64};
      case Op::Select: {
        Type c = e.args[0]->type;
        if (c != Type{Scalar::Bool, c.weak, 0})
          report(e.loc, "'select' condition has type " + to_string(c) + ", not bool");
        return promote(e.args[1]->type, e.args[2]->type);
      }
      default:
        if (is_unary(e.op)) return unary_result(e.op, e.args[0]->type, e.loc);
        return binary_result(e.op, e.args[0]->type, e.args[1]->type, e.loc);
    }
  }

  std::optional<Type> declared(const Expr& e, const std::vector<Variable>& vars,
                               const std::string& what) {
    if (e.index < 0 || e.index >= static_cast<int>(vars.size()))
      return rejected(e.loc, what + " index " + std::to_string(e.index) + " out of range (" +
                                 std::to_string(vars.size()) + " declared)");
    return vars[e.index].type;
  }

  // After `promote`: every conversion is an explicit cast.
  void strict_node(const Expr& e) {
    no_weak(e.type, e.loc, quoted(e.op));
    if (is_binary(e.op)) {
      Type a = e.args[0]->type, b = e.args[1]->type;
      if (a != b)
        report(e.loc,
               "operands of " + quoted(e.op) + " differ: " + to_string(a) + " and " + to_string(b));
      else if (!has_bool_result(e.op) && e.type != a)
        report(e.loc, quoted(e.op) + " has type " + to_string(e.type) + " but operands of type " +
                          to_string(a));
    } else if (is_unary(e.op) && !has_bool_result(e.op) && e.args[0]->type != e.type) {
      report(e.loc, quoted(e.op) + " has type " + to_string(e.type) + " but an operand of type " +
                        to_string(e.args[0]->type));
    } else if (e.op == Op::Select) {
      for (int i : {1, 2})
        if (e.args[i]->type != e.type)
          report(e.loc, "'select' arm of type " + to_string(e.args[i]->type) +
                            " differs from its type " + to_string(e.type));
    }
  }

  const Function& fn_;
  bool strict_;
  std::vector<std::string> problems_;
  int loops_ = 0;
  std::unordered_set<const Expr*> seen_;
};

}  // namespace

std::vector<std::string> verify(const Function& fn, Level level) {
  return Verifier(fn, level).run();
}

}  // namespace ember::ir
