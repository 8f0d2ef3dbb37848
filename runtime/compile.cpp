// Compiles a frontend Function into a Kernel: pipeline, then codegen.
#include "runtime/compile.h"

#include <chrono>

#include "compiler/log.h"
#include "compiler/pipeline.h"
#include "ir/builder.h"

namespace ember::runtime {

std::shared_ptr<const Kernel> compile(ir::Function fn, codegen::Layout layout,
                                      codegen::Options options, std::optional<ir::Op> combine,
                                      bool native) {
  auto t0 = std::chrono::steady_clock::now();
  auto kernel = std::make_shared<Kernel>();
  kernel->optimized = compiler::optimize(fn);
  if (combine)
    options.reduction = codegen::Reduction{
        *combine, ir::reduce_result(*combine, kernel->optimized.result.scalar, fn.loc)};
  auto t1 = std::chrono::steady_clock::now();
  if (native) kernel->entry = codegen::compile(kernel->optimized, layout, options);
  auto t2 = std::chrono::steady_clock::now();
  using ms = std::chrono::duration<double, std::milli>;
  logger("runtime").debug("compiled {}: passes {:.2f} ms, codegen {:.2f} ms", fn.name,
                          ms(t1 - t0).count(), ms(t2 - t1).count());
  kernel->weak_int_uses = weak_int_uses(fn, kernel->optimized);
  kernel->written = written_params(kernel->optimized);
  kernel->loops = has_loops(kernel->optimized.body);
  kernel->source = std::move(fn);
  kernel->layout = std::move(layout);
  kernel->options = options;
  return kernel;
}

std::string llvm_ir(const Kernel& k, const std::string& cpu) {
  return codegen::llvm_ir(k.optimized, k.layout, k.options, cpu);
}

std::string assembly(const Kernel& k, const std::string& cpu) {
  return codegen::assembly(k.optimized, k.layout, k.options, cpu);
}

codegen::PtxCode ptx(const Kernel& k, const std::string& arch, int strided) {
  if (strided < 0 || strided > 64)
    throw std::invalid_argument("strided: 0 to 64 axes, got " + std::to_string(strided));
  codegen::Layout layout = k.layout;
  layout.strided = strided;
  return codegen::ptx(k.optimized, layout, k.options, arch);
}

std::string gpu_llvm_ir(const Kernel& k, const std::string& arch) {
  return codegen::gpu_llvm_ir(k.optimized, k.layout, k.options, arch);
}

}  // namespace ember::runtime
