// Traversal helpers shared by the passes (see rewrite.h).
#include "compiler/rewrite.h"

#include <bit>
#include <cstdint>

#include "ir/builder.h"

namespace ember::compiler {

using ir::Block;
using ir::Expr;
using ir::ExprPtr;
using ir::StmtPtr;

ExprPtr rebuilt(const ExprPtr& e, std::vector<ExprPtr> args) {
  if (args == e->args) return e;
  return ir::remake(*e, std::move(args));
}

ExprPtr rewrite(const ExprPtr& e, const ExprRewrite& f) {
  if (!e) return e;  // a statement without a value (for, break, a kernel's return)
  std::vector<ExprPtr> args;
  args.reserve(e->args.size());
  for (const ExprPtr& a : e->args) args.push_back(rewrite(a, f));
  return f(e, std::move(args));
}

Block rewrite(const Block& b, const ExprRewrite& f, const StmtRewrite& g) {
  Block out;
  for (const StmtPtr& s : b) {
    std::vector<ExprPtr> args;
    for (const ExprPtr& a : s->args) args.push_back(rewrite(a, f));
    StmtPtr made = ir::remake(*s, rewrite(s->value, f), std::move(args),
                              rewrite(s->then_body, f, g), rewrite(s->else_body, f, g));
    if (!g) {
      out.push_back(std::move(made));
      continue;
    }
    for (StmtPtr& r : g(std::move(made))) out.push_back(std::move(r));
  }
  return out;
}

ir::Function rewrite(const ir::Function& fn, const ExprRewrite& f, const StmtRewrite& g) {
  ir::Function out = fn;
  out.body = rewrite(fn.body, f, g);
  return out;
}

ir::Function renumber_locals(const ir::Function& fn, const std::vector<int>& new_index) {
  ir::Function out = fn;
  out.locals.clear();
  for (size_t v = 0; v < fn.locals.size(); ++v) {
    if (new_index[v] < 0) continue;
    if (out.locals.size() <= static_cast<size_t>(new_index[v])) out.locals.resize(new_index[v] + 1);
    out.locals[new_index[v]] = fn.locals[v];
  }
  auto var = [&](const ExprPtr& e, std::vector<ExprPtr> args) {
    if (e->op == ir::Op::Var) return ir::make_var(new_index.at(e->index), e->type, e->loc);
    return rebuilt(e, std::move(args));
  };
  auto assign = [&](StmtPtr s) -> Block {
    if (s->kind == ir::StmtKind::For)
      return {ir::make_for(new_index.at(s->var), s->args[0], s->args[1], s->args[2], s->then_body,
                           s->loc)};
    if (s->kind != ir::StmtKind::Assign) return {s};
    return {ir::make_assign(new_index.at(s->var), s->value, s->loc)};
  };
  out.body = rewrite(fn.body, var, assign);
  return out;
}

bool same_expr(const Expr& a, const Expr& b) {
  if (&a == &b) return true;
  if (a.op != b.op || a.type != b.type || a.index != b.index || a.value != b.value ||
      a.args.size() != b.args.size())
    return false;
  for (size_t k = 0; k < a.args.size(); ++k)
    if (!same_expr(*a.args[k], *b.args[k])) return false;
  return true;
}

std::size_t hash_expr(const Expr& e) {
  auto mix = [](std::size_t h, uint64_t v) {
    return h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
  };
  std::size_t h = static_cast<std::size_t>(e.op);
  h = mix(h, static_cast<uint64_t>(e.type.scalar) | uint64_t{e.type.weak} << 8 |
                 uint64_t{e.type.ndim} << 16);
  h = mix(h, static_cast<uint64_t>(e.index));
  h = mix(h, static_cast<uint64_t>(e.value.i));
  h = mix(h, std::bit_cast<uint64_t>(e.value.f));
  for (const ExprPtr& a : e.args) h = mix(h, hash_expr(*a));
  return h;
}

int expr_size(const Expr& e) {
  int n = 1;
  for (const ExprPtr& a : e.args) n += expr_size(*a);
  return n;
}

void for_each_read(const ir::Stmt& s, const std::function<void(int)>& f) {
  if (s.value) for_each_read(*s.value, f);
  for (const ExprPtr& a : s.args) for_each_read(*a, f);
}

bool reads_memory(const Expr& e) {
  if (e.op == ir::Op::Load) return true;
  for (const ExprPtr& a : e.args)
    if (reads_memory(*a)) return true;
  return false;
}

void for_each_read(const Expr& e, const std::function<void(int)>& f) {
  if (e.op == ir::Op::Var) f(e.index);
  for (const ExprPtr& a : e.args) for_each_read(*a, f);
}

}  // namespace ember::compiler
