// The host target: LLVM optimization for the host CPU and the process-wide
// ORC JIT that turns lowered modules into a callable entry point.
#include <dlfcn.h>

#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>

#include "codegen/codegen.h"
#include "codegen/lower.h"
#include "compiler/log.h"

namespace ember::codegen {
namespace {

template <typename T>
T check(llvm::Expected<T> value, const char* what) {
  if (!value) throw std::runtime_error(std::string(what) + ": " + llvm::toString(value.takeError()));
  return std::move(*value);
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// The widest libmvec variant per register width a target machine can run.
VectorIsa vector_isa(const llvm::TargetMachine& tm) {
  if (!tm.getTargetTriple().isX86()) return {};  // libmvec's x86 variants only
  const llvm::MCSubtargetInfo* info = tm.getMCSubtargetInfo();
  auto has = [&](const char* f) { return info->checkFeatures(std::string("+") + f); };
  VectorIsa isa;
  if (has("sse4.2")) isa.levels.push_back({'b', 128});
  if (has("avx2")) isa.levels.push_back({'d', 256});
  else if (has("avx")) isa.levels.push_back({'c', 256});
  if (has("avx512f")) isa.levels.push_back({'e', 512});
  isa.fma = has("fma");
  return isa;
}

// LLVM's O3 pipeline for `tm` (vector math comes from the call-site variants
// lower.cpp attaches), then the vector math, loop fma and, on x86,
// scalar-conversion passes.
void optimize_for(llvm::TargetMachine& tm, const VectorIsa& isa, llvm::Module& m) {
  m.setDataLayout(tm.createDataLayout());
  m.setTargetTriple(tm.getTargetTriple().str());
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = true;
  tuning.SLPVectorization = true;
  llvm::PassBuilder pb(&tm, tuning);
  bool x86 = tm.getTargetTriple().isX86();
  pb.registerOptimizerLastEPCallback([x86, &isa](llvm::ModulePassManager& mpm, llvm::OptimizationLevel) {
    llvm::FunctionPassManager late;
    late.addPass(VectorMathPass(isa));
    late.addPass(LoopFmaPass());
    if (x86) late.addPass(X86TruncatePass());
    mpm.addPass(llvm::createModuleToFunctionPassAdaptor(std::move(late)));
  });
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3).run(m, mam);
}

std::string assembly_for(llvm::TargetMachine& tm, llvm::Module& m) {
  llvm::SmallString<4096> text;
  llvm::raw_svector_ostream os(text);
  llvm::legacy::PassManager pm;
  if (tm.addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::AssemblyFile))
    throw std::runtime_error("LLVM cannot emit assembly for this target");
  pm.run(m);
  return std::string(text.str());
}

class HostTarget {
 public:
  static HostTarget& get() {
    static HostTarget target;
    return target;
  }

  void optimize(llvm::Module& m) {
    std::lock_guard<std::mutex> lock(tm_mu_);
    optimize_for(*tm_, isa_, m);
  }

  std::string assembly(llvm::Module& m) {
    std::lock_guard<std::mutex> lock(tm_mu_);
    return assembly_for(*tm_, m);
  }

  // A machine for another CPU of the host's architecture (LLVM's -mcpu
  // names: znver4, skylake-avx512, x86-64-v3), for inspection only.
  std::unique_ptr<llvm::TargetMachine> machine_for(const std::string& cpu) {
    if (!tm_->getMCSubtargetInfo()->isCPUStringValid(cpu))
      throw std::invalid_argument("unknown CPU '" + cpu + "' for " + tm_->getTargetTriple().str() +
                                  " (LLVM's -mcpu names, e.g. znver4, skylake-avx512, x86-64-v3)");
    auto builder = check(llvm::orc::JITTargetMachineBuilder::detectHost(), "detect host");
    builder.setCPU(cpu);
    builder.getFeatures() = llvm::SubtargetFeatures();  // the CPU's own
    builder.setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
    return check(builder.createTargetMachine(), "target machine");
  }

  // Adds an optimized module and returns the addresses of `names`.
  std::vector<uint64_t> load(llvm::orc::ThreadSafeModule module,
                             const std::vector<std::string>& names) {
    // LLJIT was built without concurrent compilation: its one TargetMachine
    // must not generate code for two threads at once.
    std::lock_guard<std::mutex> lock(jit_mu_);
    auto& dylib = jit_->getMainJITDylib();
    if (auto err = jit_->addIRModule(dylib, std::move(module)))
      throw std::runtime_error("JIT: " + llvm::toString(std::move(err)));
    std::vector<uint64_t> addresses;
    for (const std::string& name : names)
      addresses.push_back(check(jit_->lookup(name), "JIT lookup").getValue());
    return addresses;
  }

  std::string next_prefix() { return "ember_k" + std::to_string(counter_++); }
  std::string cpu() const { return cpu_; }
  const VectorIsa& isa() const { return isa_; }

 private:
  HostTarget() {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
    // Vectorized math calls resolve to glibc's libmvec; load it for the JIT.
    dlopen("libmvec.so.1", RTLD_NOW | RTLD_GLOBAL);
    auto builder = check(llvm::orc::JITTargetMachineBuilder::detectHost(), "detect host");
    builder.setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
    tm_ = check(builder.createTargetMachine(), "target machine");
    cpu_ = builder.getCPU() + " (" + builder.getFeatures().getString() + ")";
    isa_ = vector_isa(*tm_);
    jit_ = check(llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(builder).create(), "JIT");
    jit_->getMainJITDylib().addGenerator(
        check(llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
                  jit_->getDataLayout().getGlobalPrefix()),
              "process symbols"));
  }

  std::unique_ptr<llvm::TargetMachine> tm_;
  std::mutex tm_mu_;
  std::unique_ptr<llvm::orc::LLJIT> jit_;
  std::mutex jit_mu_;
  std::atomic<int> counter_{0};
  std::string cpu_;
  VectorIsa isa_;
};

}  // namespace

Entry compile(const ir::Function& fn, const Layout& layout, const Options& options) {
  HostTarget& target = HostTarget::get();
  auto t0 = std::chrono::steady_clock::now();
  auto ctx = std::make_unique<llvm::LLVMContext>();
  std::string prefix = target.next_prefix();
  auto module = lower_module(fn, layout, options, target.isa(), *ctx, prefix);
  double lowered = ms_since(t0);
  target.optimize(*module);
  double optimized = ms_since(t0);
  std::vector<std::string> names = {prefix + (fn.is_kernel() ? "_kernel" : "_contig")};
  if (options.reduction)
    for (const char* fn_name : {"_init", "_reduce", "_merge", "_finish"})
      names.push_back(prefix + fn_name);
  auto addresses = target.load(llvm::orc::ThreadSafeModule(std::move(module), std::move(ctx)), names);
  logger("codegen").debug("{}: lower {:.2f} ms, optimize {:.2f} ms, machine code {:.2f} ms",
                          fn.name, lowered, optimized - lowered, ms_since(t0) - optimized);
  Entry entry;
  if (fn.is_kernel()) {
    entry.kernel = reinterpret_cast<KernelFn>(addresses[0]);
    return entry;
  }
  entry.contig = reinterpret_cast<ContigFn>(addresses[0]);
  if (options.reduction) {
    entry.reduce.init = reinterpret_cast<decltype(entry.reduce.init)>(addresses[1]);
    entry.reduce.reduce = reinterpret_cast<decltype(entry.reduce.reduce)>(addresses[2]);
    entry.reduce.merge = reinterpret_cast<decltype(entry.reduce.merge)>(addresses[3]);
    entry.reduce.finish = reinterpret_cast<decltype(entry.reduce.finish)>(addresses[4]);
  }
  return entry;
}

namespace {

// The optimized module of `fn` for the host or, when `cpu` is given, for that
// CPU: as LLVM IR, or as assembly.
std::string inspect(const ir::Function& fn, const Layout& layout, const Options& options,
                    const std::string& cpu, bool assembly) {
  auto print = [](llvm::Module& m) {
    std::string text;
    llvm::raw_string_ostream os(text);
    m.print(os, nullptr);
    return os.str();
  };
  HostTarget& host = HostTarget::get();
  llvm::LLVMContext ctx;
  if (cpu.empty()) {
    auto module = lower_module(fn, layout, options, host.isa(), ctx, fn.name);
    host.optimize(*module);
    return assembly ? host.assembly(*module) : print(*module);
  }
  std::unique_ptr<llvm::TargetMachine> tm = host.machine_for(cpu);
  VectorIsa isa = vector_isa(*tm);
  auto module = lower_module(fn, layout, options, isa, ctx, fn.name);
  optimize_for(*tm, isa, *module);
  return assembly ? assembly_for(*tm, *module) : print(*module);
}

}  // namespace

std::string llvm_ir(const ir::Function& fn, const Layout& layout, const Options& options,
                    const std::string& cpu) {
  return inspect(fn, layout, options, cpu, false);
}

std::string assembly(const ir::Function& fn, const Layout& layout, const Options& options,
                     const std::string& cpu) {
  return inspect(fn, layout, options, cpu, true);
}

std::string host_cpu() { return HostTarget::get().cpu(); }

}  // namespace ember::codegen
