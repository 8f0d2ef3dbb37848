// cse: repeated subexpressions of a straight-line run of statements are computed once into a local.
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

#include "compiler/passes.h"
#include "compiler/rewrite.h"
#include "ir/builder.h"

namespace ember::compiler {
namespace {

using ir::Block;
using ir::Expr;
using ir::ExprPtr;
using ir::StmtKind;
using ir::StmtPtr;

// A statement of a run: its expression is evaluated before `writes` (-1 for
// the If/Return that may end the run) is assigned.
struct Item {
  StmtPtr stmt;
  ExprPtr value;
  int writes = -1;
};

struct Candidate {
  ExprPtr expr;
  size_t first = 0, last = 0;  // items holding the occurrences, a kill-free range
  int size = 0;
};

struct Hash {
  size_t operator()(const Expr* e) const { return hash_expr(*e); }
};
struct Same {
  bool operator()(const Expr* a, const Expr* b) const { return same_expr(*a, *b); }
};

// Every non-leaf subexpression (pre-order) with the item it occurs in. Array
// loads are left to LLVM, which knows which stores may change them.
void collect(const ExprPtr& e, size_t item, std::vector<std::pair<ExprPtr, size_t>>& out) {
  if (e->args.empty()) return;
  if (!reads_memory(*e)) out.emplace_back(e, item);
  for (const ExprPtr& a : e->args) collect(a, item, out);
}

// The largest expression occurring twice in a range of items where nothing it
// reads is reassigned (the earliest one among equals, for a stable output).
std::optional<Candidate> best_candidate(const std::vector<Item>& run) {
  std::vector<std::pair<ExprPtr, size_t>> occurrences;
  for (size_t i = 0; i < run.size(); ++i) collect(run[i].value, i, occurrences);
  std::unordered_map<const Expr*, std::vector<size_t>, Hash, Same> groups;
  std::vector<ExprPtr> order;  // first occurrences, for a deterministic choice
  for (const auto& [e, item] : occurrences) {
    auto [it, fresh] = groups.try_emplace(e.get());
    if (fresh) order.push_back(e);
    it->second.push_back(item);
  }
  std::optional<Candidate> best;
  for (const ExprPtr& key : order) {
    const std::vector<size_t>& items = groups[key.get()];
    std::set<int> reads;
    for_each_read(*key, [&](int v) { reads.insert(v); });
    int size = expr_size(*key);
    if (best && size <= best->size) continue;
    size_t start = 0;
    for (size_t k = 1; k <= items.size(); ++k) {
      bool killed = k < items.size() && [&] {
        for (size_t i = items[k - 1]; i < items[k]; ++i)
          if (reads.count(run[i].writes)) return true;
        return false;
      }();
      if (k < items.size() && !killed) continue;
      if (k - start >= 2) {  // occurrences start..k-1 can share one value
        best = Candidate{key, items[start], items[k - 1], size};
        break;
      }
      start = k;
    }
  }
  return best;
}

ExprPtr replace(const ExprPtr& e, const Expr& target, const ExprPtr& var) {
  if (same_expr(*e, target)) return ir::make_var(var->index, var->type, e->loc);
  std::vector<ExprPtr> args;
  for (const ExprPtr& a : e->args) args.push_back(replace(a, target, var));
  return rebuilt(e, std::move(args));
}

class Cse {
 public:
  explicit Cse(ir::Function& fn) : fn_(fn) {}

  Block block(const Block& b) {
    Block out;
    std::vector<Item> run;
    for (const StmtPtr& s : b) {
      if (s->kind == StmtKind::Assign) {
        run.push_back({s, s->value, s->var});
        continue;
      }
      // An If condition or a returned value is evaluated before anything else
      // of that statement, so it still belongs to the run. Loops, stores and
      // jumps end it.
      bool joins = s->kind == StmtKind::If || (s->kind == StmtKind::Return && s->value);
      if (joins) run.push_back({s, s->value, -1});
      flush(run, out);
      if (!joins) out.push_back(ir::remake(*s, s->value, block(s->then_body), block(s->else_body)));
    }
    flush(run, out);
    return out;
  }

 private:
  void flush(std::vector<Item>& run, Block& out) {
    // Each hoist removes at least one copy of a non-leaf expression: it ends.
    while (auto c = best_candidate(run)) {
      ExprPtr var = ir::make_var(new_local(c->expr->type), c->expr->type, c->expr->loc);
      for (size_t i = c->first; i <= c->last; ++i)
        run[i].value = replace(run[i].value, *c->expr, var);
      StmtPtr def = ir::make_assign(var->index, c->expr, run[c->first].stmt->loc);
      run.insert(run.begin() + c->first, Item{def, c->expr, var->index});
    }
    for (Item& it : run) {
      const ir::Stmt& s = *it.stmt;
      out.push_back(ir::remake(s, it.value, block(s.then_body), block(s.else_body)));
    }
    run.clear();
  }

  int new_local(ir::Type t) {
    std::set<std::string> taken;
    for (const ir::Variable& v : fn_.locals) taken.insert(v.name);
    std::string name;
    do name = "_cse" + std::to_string(next_++);
    while (taken.count(name));
    fn_.locals.push_back({name, t});
    return static_cast<int>(fn_.locals.size()) - 1;
  }

  ir::Function& fn_;
  int next_ = 0;
};

void definitions(const Block& b, int first_new, std::vector<int>& order) {
  for (const StmtPtr& s : b) {
    if ((s->kind == StmtKind::Assign || s->kind == StmtKind::For) && s->var >= first_new)
      order.push_back(s->var);
    definitions(s->then_body, first_new, order);
    definitions(s->else_body, first_new, order);
  }
}

// Outer expressions are hoisted first, so new locals are made in no useful
// order; number and name them by where they are defined, to read top-down.
ir::Function number_by_definition(const ir::Function& fn, int first_new) {
  std::vector<int> order;
  definitions(fn.body, first_new, order);
  std::vector<int> new_index(fn.locals.size());
  for (int v = 0; v < first_new; ++v) new_index[v] = v;
  for (size_t k = 0; k < order.size(); ++k) new_index[order[k]] = first_new + static_cast<int>(k);
  ir::Function out = renumber_locals(fn, new_index);
  // Names were made in index order: hand them out again in definition order.
  for (size_t v = first_new; v < fn.locals.size(); ++v) out.locals[v].name = fn.locals[v].name;
  return out;
}

}  // namespace

ir::Function cse(const ir::Function& fn) {
  ir::Function out = fn;
  out.body = Cse(out).block(fn.body);
  return number_by_definition(out, static_cast<int>(fn.locals.size()));
}

}  // namespace ember::compiler
