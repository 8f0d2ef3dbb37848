// A Kernel from the texts an artifact keeps, and the call path's facts as
// text (runtime/kernel.h). No ember passes here: the runtime inside an
// ahead-of-time library links this file.
#include <sstream>

#include "ir/builder.h"
#include "ir/parser.h"
#include "runtime/kernel.h"

namespace ember::runtime {
namespace {

// A function of `ir_text` (printed IR) with its signature alone.
ir::Function signature_only(const std::string& ir_text) {
  return ir::parse(ir_text.substr(0, ir_text.find('\n') + 1) + "}\n");
}

// The value of line "name: value" of a spec text.
std::string spec_line(const std::string& spec, const std::string& name) {
  size_t at = spec.rfind(name + ": ", 0) == 0 ? 0 : spec.find("\n" + name + ": ");
  if (at == std::string::npos) throw ArtifactError("artifact spec without '" + name + "'");
  at = spec.find(": ", at) + 2;
  return spec.substr(at, spec.find('\n', at) - at);
}

// The specialization a spec text describes, with the frontend's IR as its
// signature alone (all the call path needs of it: the parameters' weak
// types); `source` gets the whole IR text.
Specialization read_spec(const std::string& text, const std::string& file, std::string& source) {
  size_t ir_at = text.find("\nfunc ");
  if (ir_at == std::string::npos) ir_at = text.find("\nkernel ");
  if (ir_at == std::string::npos) throw ArtifactError("artifact spec without IR");
  source = text.substr(ir_at + 1);
  Specialization spec;
  spec.fn = signature_only(source);
  spec.fn.file = file;
  spec.layout = {flags_of(spec_line(text, "scalar layout")), flags_of(spec_line(text, "unit stride")),
                 std::stoi(spec_line(text, "strided axes"))};
  spec.options.fastmath = spec_line(text, "fastmath") == "1";
  spec.options.boundscheck = spec_line(text, "boundscheck") == "1";
  if (spec_line(text, "kind") == "reduce") {
    ir::Op op;
    if (!ir::op_from_name(spec_line(text, "combine"), &op))
      throw ArtifactError("artifact with an unknown combine");
    spec.combine = op;
  }
  return spec;
}

}  // namespace

std::string call_facts(const Kernel& kernel) {
  std::string text = "weak:";
  for (const WeakIntUse& use : kernel.weak_int_uses)
    text += " " + std::to_string(use.param) + "=" + std::string(ir::short_name(use.type));
  text += "\nwritten: " + flag_text(kernel.written);
  return text + "\nloops: " + (kernel.loops ? "1" : "0") + "\n";
}

void read_call_facts(Kernel& kernel, const std::string& text) {
  std::istringstream in(text);
  std::string word, written, loops;
  in >> word;  // "weak:"
  kernel.weak_int_uses.clear();
  while (in >> word && word != "written:") {
    size_t eq = word.find('=');
    std::optional<ir::Scalar> type =
        eq == std::string::npos ? std::nullopt : ir::scalar_from_short_name(word.substr(eq + 1));
    if (!type) throw std::invalid_argument("bad call facts: " + word);
    kernel.weak_int_uses.push_back({std::stoi(word.substr(0, eq)), *type});
  }
  in >> written >> word >> loops;  // the bits, "loops:", the flag
  if (word != "loops:") throw std::invalid_argument("bad call facts");
  kernel.written = flags_of(written);
  kernel.loops = loops == "1";
}

void set_entries(Kernel& kernel, void* const* at) {
  codegen::Entry& entry = kernel.entry;
  if (kernel.source.is_kernel()) {
    entry.kernel = reinterpret_cast<codegen::KernelFn>(at[0]);
    return;
  }
  entry.contig = reinterpret_cast<codegen::ContigFn>(at[0]);
  if (!kernel.options.reduction) return;
  entry.reduce.init = reinterpret_cast<decltype(entry.reduce.init)>(at[1]);
  entry.reduce.reduce = reinterpret_cast<decltype(entry.reduce.reduce)>(at[2]);
  entry.reduce.merge = reinterpret_cast<decltype(entry.reduce.merge)>(at[3]);
  entry.reduce.finish = reinterpret_cast<decltype(entry.reduce.finish)>(at[4]);
}

std::shared_ptr<Kernel> kernel_from_texts(const std::map<std::string, std::string>& fields,
                                          const std::string& file, const std::string& prefix) {
  try {
    std::string source;
    Specialization spec = read_spec(required(fields, prefix + "spec"), file, source);
    // The passes' IR as the artifact keeps it: its signature now, the rest
    // when asked for; the call path's facts from the artifact.
    const std::string& optimized = required(fields, prefix + "optimized");
    auto kernel = std::make_shared<Kernel>();
    kernel->optimized = signature_only(optimized);
    kernel->optimized.file = file;
    kernel->options = spec.options;
    if (spec.combine)
      kernel->options.reduction = codegen::Reduction{
          *spec.combine, ir::reduce_result(*spec.combine, kernel->optimized.result.scalar, spec.fn.loc)};
    kernel->source = spec.fn;
    kernel->layout = spec.layout;
    kernel->source_text = source;
    kernel->optimized_text = optimized;
    read_call_facts(*kernel, required(fields, prefix + "calls"));
    return kernel;
  } catch (const ir::ParseError& e) {
    throw ArtifactError(std::string("artifact IR: ") + e.what());
  } catch (const ir::CompileError& e) {
    throw ArtifactError(std::string("artifact IR: ") + e.what());
  } catch (const std::logic_error& e) {  // stoi, bad call facts
    throw ArtifactError(std::string("artifact spec: ") + e.what());
  }
}

}  // namespace ember::runtime
