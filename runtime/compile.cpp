// Compiles a Specialization into a Kernel: pipeline, then codegen's object
// code, loaded as a cached artifact would be.
#include "runtime/compile.h"

#include <chrono>

#include "compiler/log.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "runtime/cpu_features.h"

namespace ember::runtime {
namespace {

// Whether the parser reads `text` (printed IR) back to the same IR: then a
// later process may load the artifact from its texts alone (artifact.h).
bool reparses(const std::string& text) {
  try {
    return ir::print(ir::parse(text), true) == text;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

std::shared_ptr<const Kernel> compile(const Specialization& spec, bool native) {
  auto t0 = std::chrono::steady_clock::now();
  std::shared_ptr<Kernel> kernel = prepare(spec);
  kernel->key = spec.key();
  auto t1 = std::chrono::steady_clock::now();
  if (native) {
    std::string prefix = "ember_" + spec.fn.name + "_" + kernel->key.substr(0, 16);
    codegen::ObjectCode code =
        codegen::compile_object(kernel->optimized, spec.layout, kernel->options, prefix);
    std::map<std::string, std::string> fields = versions();
    std::string source = ir::print(spec.fn, true), optimized = ir::print(kernel->optimized, true);
    fields.insert({{"key", kernel->key}, {"cpu", code.cpu}, {"features", isa_feature_text(code.features)},
                   {"spec", spec.spec_text()}, {"optimized", optimized}, {"prefix", prefix},
                   {"object", code.elf}, {"calls", call_facts(*kernel)},
                   {"vector_bits", std::to_string(code.vector_bits)},
                   {"reparses", reparses(source) && reparses(optimized) ? "1" : "0"}});
    if (code.triple != fields["triple"])
      throw std::runtime_error("LLVM compiled for " + code.triple + ", ember was built for " +
                               fields["triple"]);
    attach_code(*kernel, prefix, code.elf, write_artifact(fields));
    kernel->vector_bits = code.vector_bits;
  }
  auto t2 = std::chrono::steady_clock::now();
  using ms = std::chrono::duration<double, std::milli>;
  kernel->origin = "compiled";
  kernel->passes_ms = ms(t1 - t0).count();
  kernel->codegen_ms = ms(t2 - t1).count();
  logger("runtime").debug("compiled {}: ember's passes {:.2f} ms, LLVM {:.2f} ms", spec.fn.name,
                          ms(t1 - t0).count(), ms(t2 - t1).count());
  return kernel;
}

codegen::ObjectCode object_for(const Kernel& k, const std::string& cpu, const std::string& prefix) {
  return codegen::compile_object(k.optimized_function(), k.layout, k.options, prefix, cpu);
}

std::string llvm_ir(const Kernel& k, const std::string& cpu) {
  return codegen::llvm_ir(k.optimized_function(), k.layout, k.options, cpu);
}

std::string assembly(const Kernel& k, const std::string& cpu) {
  return codegen::assembly(k.optimized_function(), k.layout, k.options, cpu);
}

codegen::Inspection inspection(const Kernel& k, const std::string& cpu, bool debug) {
  return codegen::inspection(k.optimized_function(), k.layout, k.options, cpu, debug);
}

codegen::PtxCode ptx(const Kernel& k, const std::string& arch, int strided) {
  if (strided < 0 || strided > 64)
    throw std::invalid_argument("strided: 0 to 64 axes, got " + std::to_string(strided));
  codegen::Layout layout = k.layout;
  layout.strided = strided;
  return codegen::ptx(k.optimized_function(), layout, k.options, arch);
}

std::string gpu_llvm_ir(const Kernel& k, const std::string& arch) {
  return codegen::gpu_llvm_ir(k.optimized_function(), k.layout, k.options, arch);
}

}  // namespace ember::runtime
