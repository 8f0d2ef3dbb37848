// Kernel helpers the call path needs (no LLVM here).
#include "runtime/kernel.h"

#include <cstdint>

#include "compiler/pipeline.h"
#include "ir/builder.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "runtime/object_loader.h"

namespace ember::runtime {

std::string Kernel::ir_text() const { return ir::print(optimized_function()); }

namespace {

// `text` parsed, or `header` when there is no text (its file kept).
ir::Function whole(const ir::Function& header, const std::string& text) {
  if (text.empty()) return header;
  ir::Function fn = ir::parse(text);
  fn.file = header.file;
  return fn;
}

}  // namespace

ir::Function Kernel::source_function() const { return whole(source, source_text); }
ir::Function Kernel::optimized_function() const { return whole(optimized, optimized_text); }

std::string Kernel::source_ir_text() const { return ir::print(source_function()); }

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

std::shared_ptr<Kernel> prepare(const Specialization& spec, std::optional<ir::Function> optimized) {
  auto kernel = std::make_shared<Kernel>();
  kernel->optimized = optimized ? std::move(*optimized) : compiler::optimize(spec.fn);
  kernel->options = spec.options;
  if (spec.combine)
    kernel->options.reduction = codegen::Reduction{
        *spec.combine, ir::reduce_result(*spec.combine, kernel->optimized.result.scalar, spec.fn.loc)};
  kernel->weak_int_uses = weak_int_uses(spec.fn, kernel->optimized);
  kernel->written = written_params(kernel->optimized);
  kernel->loops = has_loops(kernel->optimized.body);
  kernel->source = spec.fn;
  kernel->layout = spec.layout;
  return kernel;
}

Specialization specialization_of(const Kernel& kernel) {
  codegen::Options options = kernel.options;
  options.reduction.reset();
  std::optional<ir::Op> combine;
  if (kernel.options.reduction) combine = kernel.options.reduction->op;
  return {kernel.source_function(), kernel.layout, options, combine};
}

void attach_code(Kernel& kernel, const std::string& prefix, std::string_view object,
                 std::string artifact) {
  auto code = std::make_shared<const LoadedObject>(object);
  std::vector<void*> at;
  for (const std::string& name :
       codegen::entry_symbols(prefix, kernel.source.is_kernel(), kernel.options.reduction.has_value())) {
    at.push_back(code->symbol(name));
    if (!at.back()) throw LoadError("object code without entry point '" + name + "'");
  }
  set_entries(kernel, at.data());
  kernel.code = std::move(code);
  kernel.artifact = std::move(artifact);
}

std::vector<WeakIntUse> weak_int_uses(const ir::Function& source, const ir::Function& optimized) {
  std::vector<WeakIntUse> uses;
  find_weak_int_uses(source, optimized.body, uses);
  return uses;
}

}  // namespace ember::runtime
