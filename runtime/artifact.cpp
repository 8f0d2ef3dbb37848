// Compiled artifacts: the key, the file format and loading (runtime/artifact.h).
#include "runtime/artifact.h"

#include <cstdlib>

#include "ir/printer.h"
#include "runtime/cpu_features.h"
#include "runtime/kernel.h"
#include "runtime/object_loader.h"
#include "runtime/sha256.h"

namespace ember::runtime {
namespace {

// Every expression's line, in order: a bounds error reports the line of the
// index it checks, which the printed IR (statement lines only) omits.
void expression_lines(const ir::Expr& e, std::string& out) {
  out += std::to_string(e.loc.line) + " ";
  for (const ir::ExprPtr& a : e.args) expression_lines(*a, out);
}

void expression_lines(const ir::Block& block, std::string& out) {
  for (const ir::StmtPtr& s : block) {
    if (s->value) expression_lines(*s->value, out);
    for (const ir::ExprPtr& a : s->args) expression_lines(*a, out);
    expression_lines(s->then_body, out);
    expression_lines(s->else_body, out);
  }
}

}  // namespace

std::string Specialization::spec_text() const {
  std::string text = fn.is_kernel() ? "kind: kernel\n" : combine ? "kind: reduce\n" : "kind: map\n";
  if (combine) text += std::string("combine: ") + ir::op_name(*combine) + "\n";
  text += "fastmath: " + std::to_string(options.fastmath) + "\n";
  text += "boundscheck: " + std::to_string(options.boundscheck) + "\n";
  text += "scalar layout: " + flag_text(layout.scalar) + "\n";
  text += "unit stride: " + flag_text(layout.unit_stride) + "\n";
  text += "strided axes: " + std::to_string(layout.strided) + "\n";
  std::string lines;
  expression_lines(fn.body, lines);
  text += "expression lines: " + lines + "\n";
  return text + ir::print(fn, true);
}

Specialization elementwise_specialization(ir::Function fn, std::vector<bool> scalar_layout,
                                          bool fastmath, const std::string& combine) {
  Specialization spec{std::move(fn), {std::move(scalar_layout)}, {fastmath}, std::nullopt};
  ir::Op op;
  if (!combine.empty()) {
    if (!ir::op_from_name(combine, &op)) throw std::invalid_argument("unknown combine " + combine);
    spec.combine = op;
  }
  return spec;
}

Specialization kernel_specialization(ir::Function fn, bool boundscheck, bool fastmath,
                                     std::vector<bool> unit_stride) {
  return {std::move(fn), {{}, std::move(unit_stride)}, {fastmath, std::nullopt, boundscheck},
          std::nullopt};
}

std::string Specialization::key() const {
  std::string text = "ember artifact key 1\n";
  for (const auto& [name, value] : versions()) text += name + ": " + value + "\n";
  return sha256_hex(text + spec_text());
}

namespace {

// An artifact's fields, checked against this ember and this CPU, and
// against `key`.
class Checked {
 public:
  Checked(std::string_view bytes, const std::string& key) : fields_(read_artifact(bytes, key)) {
    std::string why = incompatibility(feature_list(field("features")));
    if (!why.empty()) throw ArtifactError("artifact " + why, true);
  }

  const std::string& field(const char* name) const { return required(fields_, name); }
  const std::map<std::string, std::string>& fields() const { return fields_; }

  // Maps the object code for `kernel` (its IR set), the Kernel of `key`.
  std::shared_ptr<const Kernel> attach(std::shared_ptr<Kernel> kernel, const std::string& key,
                                       std::string_view bytes) const {
    try {
      attach_code(*kernel, field("prefix"), field("object"), std::string(bytes));
    } catch (const LoadError& e) {
      throw ArtifactError(std::string("artifact: ") + e.what());
    }
    kernel->key = key;
    kernel->origin = "artifact";
    auto bits = fields_.find("vector_bits");
    if (bits != fields_.end()) kernel->vector_bits = std::atoi(bits->second.c_str());
    return kernel;
  }

 private:
  std::map<std::string, std::string> fields_;
};

}  // namespace

std::map<std::string, std::string> kernel_texts(const Kernel& kernel) {
  return {{"spec", specialization_of(kernel).spec_text()},
          {"optimized", ir::print(kernel.optimized_function(), true)},
          {"calls", call_facts(kernel)}};
}

std::shared_ptr<const Kernel> load(const Specialization& spec, std::string_view bytes) {
  std::string key = spec.key();
  Checked checked(bytes, key);
  auto kernel = prepare(spec);
  if (ir::print(kernel->optimized, true) != checked.field("optimized"))
    throw ArtifactError("artifact whose optimized IR differs from this ember's passes");
  return checked.attach(kernel, key, bytes);
}

std::shared_ptr<const Kernel> load(std::string_view bytes, const std::string& key,
                                   const std::string& file) {
  Checked checked(bytes, key);
  if (checked.field("reparses") != "1")
    throw ArtifactError("artifact whose IR texts do not parse back: the frontend must run", true);
  auto kernel = kernel_from_texts(checked.fields(), file);
  return checked.attach(kernel, key, bytes);
}

}  // namespace ember::runtime
