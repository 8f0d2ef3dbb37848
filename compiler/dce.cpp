// dce: removes unreachable statements, dead assignments, empty ifs and unused locals.
#include "compiler/passes.h"
#include "compiler/rewrite.h"
#include "ir/builder.h"

namespace ember::compiler {
namespace {

using ir::Block;
using ir::StmtKind;
using ir::StmtPtr;

// A variable is live when some expression reads it, except the values assigned
// to that same variable: those only feed the variable itself.
void mark_live(const Block& b, std::vector<bool>& live) {
  for (const StmtPtr& s : b) {
    for_each_read(*s, [&](int v) {
      if (s->kind != StmtKind::Assign || v != s->var) live[v] = true;
    });
    mark_live(s->then_body, live);
    mark_live(s->else_body, live);
  }
}

// One sweep; sets `changed` when something went away. Expressions are pure,
// so dropping an unread assignment, a self-copy or an empty if loses nothing.
// Loops stay (a while loop may never end), stores and atomics too.
Block sweep(const Block& b, const std::vector<bool>& live, bool& changed) {
  Block out;
  for (size_t i = 0; i < b.size(); ++i) {
    const StmtPtr& s = b[i];
    bool self_copy = s->kind == StmtKind::Assign && s->value->op == ir::Op::Var &&
                     s->value->index == s->var;  // x = x, as simplify leaves x = add(x, 0)
    if (self_copy || (s->kind == StmtKind::Assign && !live[s->var])) {
      changed = true;
      continue;
    }
    if (s->kind == StmtKind::If) {
      Block then_body = sweep(s->then_body, live, changed);
      Block else_body = sweep(s->else_body, live, changed);
      if (then_body.empty() && else_body.empty()) {
        changed = true;
        continue;
      }
      out.push_back(ir::remake(*s, s->value, std::move(then_body), std::move(else_body)));
    } else if (s->kind == StmtKind::For || s->kind == StmtKind::While) {
      out.push_back(ir::remake(*s, s->value, sweep(s->then_body, live, changed), {}));
    } else {
      out.push_back(s);
    }
    // Nothing after a statement that returns on every path can run.
    if (ir::always_returns({out.back()})) {
      changed |= i + 1 < b.size();
      break;
    }
  }
  return out;
}

void mark_used(const Block& b, std::vector<bool>& used) {
  for (const StmtPtr& s : b) {
    if (s->kind == StmtKind::Assign || s->kind == StmtKind::For) used[s->var] = true;
    for_each_read(*s, [&](int v) { used[v] = true; });
    mark_used(s->then_body, used);
    mark_used(s->else_body, used);
  }
}

// Drops locals nothing refers to and renumbers the others in order.
ir::Function drop_unused_locals(const ir::Function& fn) {
  std::vector<bool> used(fn.locals.size());
  mark_used(fn.body, used);
  std::vector<int> new_index(fn.locals.size(), -1);
  int n = 0;
  for (size_t v = 0; v < fn.locals.size(); ++v)
    if (used[v]) new_index[v] = n++;
  if (n == static_cast<int>(fn.locals.size())) return fn;
  return renumber_locals(fn, new_index);
}

}  // namespace

ir::Function dce(const ir::Function& fn) {
  ir::Function out = fn;
  // Removing a statement can make the last reads of other variables go away.
  for (bool changed = true; changed;) {
    changed = false;
    std::vector<bool> live(fn.locals.size());
    mark_live(out.body, live);
    out.body = sweep(out.body, live, changed);
  }
  return drop_unused_locals(out);
}

}  // namespace ember::compiler
