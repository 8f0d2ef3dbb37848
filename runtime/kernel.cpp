// Kernel helpers the call path needs (no LLVM here).
#include "runtime/kernel.h"

#include <cstdint>

#include "ir/printer.h"

namespace ember::runtime {

std::string Kernel::ir_text() const { return ir::print(optimized); }

namespace {

// Casts of weak (Python int) parameters to integer types, anywhere in `fn`.
void find_weak_int_uses(const ir::Function& source, const ir::Expr& e,
                        std::vector<WeakIntUse>& uses) {
  const ir::Expr* arg = e.args.empty() ? nullptr : e.args[0].get();
  if (e.op == ir::Op::Cast && arg->op == ir::Op::Param && ir::is_int(e.type.scalar)) {
    ir::Type param = source.params[arg->index].type;
    if (param.weak && ir::is_int(param.scalar) && e.type.scalar != param.scalar)
      uses.push_back({arg->index, e.type.scalar});
  }
  for (const ir::ExprPtr& a : e.args) find_weak_int_uses(source, *a, uses);
}

void find_weak_int_uses(const ir::Function& source, const ir::Block& block,
                        std::vector<WeakIntUse>& uses) {
  for (const ir::StmtPtr& s : block) {
    if (s->value) find_weak_int_uses(source, *s->value, uses);
    for (const ir::ExprPtr& a : s->args) find_weak_int_uses(source, *a, uses);
    find_weak_int_uses(source, s->then_body, uses);
    find_weak_int_uses(source, s->else_body, uses);
  }
}

void mark_written(const ir::Block& block, std::vector<bool>& written) {
  for (const ir::StmtPtr& s : block) {
    if (s->kind == ir::StmtKind::Store || s->kind == ir::StmtKind::Atomic)
      written.at(s->args[0]->index) = true;
    mark_written(s->then_body, written);
    mark_written(s->else_body, written);
  }
}

}  // namespace

bool has_loops(const ir::Block& body) {
  for (const ir::StmtPtr& s : body)
    if (s->kind == ir::StmtKind::For || s->kind == ir::StmtKind::While ||
        has_loops(s->then_body) || has_loops(s->else_body))
      return true;
  return false;
}

std::vector<bool> written_params(const ir::Function& fn) {
  std::vector<bool> written(fn.params.size());
  mark_written(fn.body, written);
  return written;
}

bool int_fits(int64_t value, bool is_unsigned, ir::Scalar t) {
  if (is_unsigned && value < 0) return t == ir::Scalar::U64;  // 2**63 and up
  if (!ir::is_signed(t)) {
    if (value < 0) return false;
    return ir::bits_of(t) == 64 || value < (int64_t{1} << ir::bits_of(t));
  }
  int64_t limit = ir::bits_of(t) == 64 ? INT64_MAX : (int64_t{1} << (ir::bits_of(t) - 1)) - 1;
  return value <= limit && value >= -limit - 1;
}

std::vector<WeakIntUse> weak_int_uses(const ir::Function& source, const ir::Function& optimized) {
  std::vector<WeakIntUse> uses;
  find_weak_int_uses(source, optimized.body, uses);
  return uses;
}

}  // namespace ember::runtime
