// The host target: LLVM optimization for the host CPU and the object code
// that runtime/object_loader.cpp maps (no LLVM JIT: freshly compiled code
// and cached artifacts are loaded the same way).
#include <pthread.h>

#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/IR/DiagnosticHandler.h>
#include <llvm/IR/DiagnosticInfo.h>
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
#include <cstdlib>
#include <mutex>
#include <sstream>

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

std::atomic<int64_t> runs{0};

// The host's features, less those EMBER_TEST_HIDE_FEATURES names (a test
// pretends to run on an older CPU): enabled ones first, so that disabling
// one also disables what implies it.
llvm::SubtargetFeatures host_features() {
  std::vector<std::string> hidden;
  if (const char* hide = std::getenv("EMBER_TEST_HIDE_FEATURES")) {
    std::stringstream in(hide);
    for (std::string name; std::getline(in, name, ',');) hidden.push_back(name);
  }
  llvm::SubtargetFeatures features;
  std::vector<std::string> off;
  for (const auto& feature : llvm::sys::getHostCPUFeatures()) {
    std::string name = feature.getKey().str();
    bool on = feature.getValue() && std::find(hidden.begin(), hidden.end(), name) == hidden.end();
    if (on) features.AddFeature(name, true);
    else off.push_back(name);
  }
  for (const std::string& name : off) features.AddFeature(name, false);
  for (const std::string& name : hidden) features.AddFeature(name, false);
  return features;
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
  ++runs;
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
    if (x86) {
      late.addPass(X86TruncatePass());
      late.addPass(LegalWidthPass());
    }
    mpm.addPass(llvm::createModuleToFunctionPassAdaptor(std::move(late)));
  });
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3).run(m, mam);
}

}  // namespace

std::string emit(llvm::TargetMachine& tm, llvm::Module& m, llvm::CodeGenFileType type) {
  llvm::SmallString<4096> text;
  llvm::raw_svector_ostream os(text);
  llvm::legacy::PassManager pm;
  if (tm.addPassesToEmitFile(pm, os, nullptr, type))
    throw std::runtime_error("LLVM cannot emit machine code for this target");
  pm.run(m);
  return std::string(text.str());
}

namespace {

std::string assembly_for(llvm::TargetMachine& tm, llvm::Module& m) {
  return emit(tm, m, llvm::CodeGenFileType::AssemblyFile);
}

// Position-independent code, so that the loader and the ahead-of-time
// linker may put it anywhere.
llvm::orc::JITTargetMachineBuilder machine_builder(const std::string& cpu) {
  auto builder = check(llvm::orc::JITTargetMachineBuilder::detectHost(), "detect host");
  if (cpu.empty()) {
    builder.getFeatures() = host_features();
  } else {
    builder.setCPU(cpu);
    builder.getFeatures() = llvm::SubtargetFeatures();  // the CPU's own
  }
  builder.setRelocationModel(llvm::Reloc::PIC_);
  builder.setCodeModel(llvm::CodeModel::Small);
  builder.setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  return builder;
}

// Optimizes `m` for `tm` and returns its object code.
ObjectCode object_for(llvm::TargetMachine& tm, const VectorIsa& isa, llvm::Module& m) {
  optimize_for(tm, isa, m);
  ObjectCode code;
  code.vector_bits = vector_register_bits(tm, isa, m);
  code.elf = emit(tm, m, llvm::CodeGenFileType::ObjectFile);
  code.triple = tm.getTargetTriple().str();
  code.cpu = tm.getTargetCPU().str();
  const llvm::MCSubtargetInfo* info = tm.getMCSubtargetInfo();
  for (const llvm::SubtargetFeatureKV& f : info->getAllProcessorFeatures())
    if (info->checkFeatures(std::string("+") + f.Key)) code.features.push_back(f.Key);
  return code;
}

class HostTarget {
 public:
  static HostTarget& get() {
    static HostTarget target;
    return target;
  }

  void optimize(llvm::Module& m) {
    std::lock_guard<std::mutex> lock(tm_mu_);
    optimize_for(machine(), isa_, m);
  }

  std::string assembly(llvm::Module& m) {
    std::lock_guard<std::mutex> lock(tm_mu_);
    return assembly_for(machine(), m);
  }

  // Optimizes `m` and returns its object code.
  ObjectCode object(llvm::Module& m) {
    std::lock_guard<std::mutex> lock(tm_mu_);
    return object_for(machine(), isa_, m);
  }

  // A machine for another CPU of the host's architecture (LLVM's -mcpu
  // names: znver4, skylake-avx512, x86-64-v3), for inspection only.
  std::unique_ptr<llvm::TargetMachine> machine_for(const std::string& cpu) {
    if (!tm_->getMCSubtargetInfo()->isCPUStringValid(cpu))
      throw std::invalid_argument("unknown CPU '" + cpu + "' for " + tm_->getTargetTriple().str() +
                                  " (LLVM's -mcpu names, e.g. znver4, skylake-avx512, x86-64-v3)");
    // A 32-bit CPU (i386, pentium) would abort LLVM's code generator.
    std::unique_ptr<llvm::MCSubtargetInfo> info(
        tm_->getTarget().createMCSubtargetInfo(tm_->getTargetTriple().str(), cpu, ""));
    if (tm_->getTargetTriple().isX86() && !info->checkFeatures("+64bit"))
      throw std::invalid_argument("CPU '" + cpu + "' cannot run 64-bit code, and ember compiles for " +
                                  tm_->getTargetTriple().str() + " (e.g. x86-64, x86-64-v3, znver4)");
    return check(machine_builder(cpu).createTargetMachine(), "target machine");
  }

  std::string cpu() const { return cpu_; }
  const VectorIsa& isa() const { return isa_; }

 private:
  HostTarget() {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
    auto builder = machine_builder("");
    tm_ = check(builder.createTargetMachine(), "target machine");
    cpu_ = builder.getCPU() + " (" + builder.getFeatures().getString() + ")";
    isa_ = vector_isa(*tm_);
    pthread_atfork(nullptr, nullptr, &HostTarget::after_fork_in_child);
  }

  // A forked child has none of the parent's other threads, one of which may
  // have held tm_mu_ or been inside the TargetMachine: the child takes a
  // fresh mutex and, at its next compile, a fresh machine (the old one, maybe
  // mid-update, is leaked on purpose).
  static void after_fork_in_child() {
    HostTarget& target = get();
    new (&target.tm_mu_) std::mutex();
    target.stale_ = true;
  }

  // The TargetMachine, with tm_mu_ held.
  llvm::TargetMachine& machine() {
    if (stale_) {
      (void)tm_.release();
      tm_ = check(machine_builder("").createTargetMachine(), "target machine");
      stale_ = false;
    }
    return *tm_;
  }

  std::unique_ptr<llvm::TargetMachine> tm_;
  std::mutex tm_mu_;
  bool stale_ = false;  // after fork(): machine() makes a new one
  std::string cpu_;
  VectorIsa isa_;
};

}  // namespace

ObjectCode compile_object(const ir::Function& fn, const Layout& layout, const Options& options,
                          const std::string& prefix, const std::string& cpu) {
  HostTarget& target = HostTarget::get();
  auto t0 = std::chrono::steady_clock::now();
  llvm::LLVMContext ctx;
  std::unique_ptr<llvm::TargetMachine> tm = cpu.empty() ? nullptr : target.machine_for(cpu);
  VectorIsa isa = tm ? vector_isa(*tm) : target.isa();
  auto module = lower_module(fn, layout, options, isa, ctx, prefix);
  double lowered = ms_since(t0);
  ObjectCode code = tm ? object_for(*tm, isa, *module) : target.object(*module);
  logger("codegen").debug("{}: lower {:.2f} ms, optimize and machine code {:.2f} ms", fn.name,
                          lowered, ms_since(t0) - lowered);
  return code;
}

int64_t codegen_runs() { return runs.load(); }

namespace {

// Collects LLVM's optimization remarks, but the code generator's own
// (instruction counts, register allocation, ...), which say nothing about a
// Python line.
class RemarkCollector : public llvm::DiagnosticHandler {
 public:
  explicit RemarkCollector(std::vector<Remark>& out) : out_(out) {}
  bool isAnalysisRemarkEnabled(llvm::StringRef pass) const override { return wanted(pass); }
  bool isMissedOptRemarkEnabled(llvm::StringRef pass) const override { return wanted(pass); }
  bool isPassedOptRemarkEnabled(llvm::StringRef pass) const override { return wanted(pass); }
  bool isAnyRemarkEnabled() const override { return true; }

  bool handleDiagnostics(const llvm::DiagnosticInfo& info) override {
    auto* r = llvm::dyn_cast<llvm::DiagnosticInfoOptimizationBase>(&info);
    if (!r) return false;
    if (!wanted(r->getPassName())) return true;
    Remark remark{r->getPassName().str(), "analysis", "", r->getMsg()};
    if (r->isPassed()) remark.kind = "passed";
    if (r->isMissed()) remark.kind = "missed";
    if (auto* at = llvm::dyn_cast<llvm::DiagnosticInfoIROptimization>(r)) {
      remark.function = at->getFunction().getName().str();
      if (at->isLocationAvailable()) {
        remark.line = static_cast<int>(at->getLocation().getLine());
        remark.col = static_cast<int>(at->getLocation().getColumn());
      }
    }
    for (const Remark& seen : out_)  // passes that run twice say the same twice
      if (seen.pass == remark.pass && seen.kind == remark.kind && seen.line == remark.line &&
          seen.col == remark.col && seen.message == remark.message)
        return true;
    out_.push_back(std::move(remark));
    return true;
  }

 private:
  static bool wanted(llvm::StringRef pass) {
    return pass != "asm-printer" && pass != "regalloc" && pass != "prologepilog" &&
           pass != "size-info" && pass != "sdagisel" && pass != "stack-frame-layout" &&
           !pass.starts_with("machine");
  }
  std::vector<Remark>& out_;
};

std::string print(llvm::Module& m) {
  std::string text;
  llvm::raw_string_ostream os(text);
  m.print(os, nullptr);
  return os.str();
}

}  // namespace

Inspection inspection(const ir::Function& fn, const Layout& layout, const Options& options,
                      const std::string& cpu, bool debug) {
  HostTarget& host = HostTarget::get();
  Inspection out;
  llvm::LLVMContext ctx;
  ctx.setDiagnosticHandler(std::make_unique<RemarkCollector>(out.remarks));
  auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<llvm::TargetMachine> tm = cpu.empty() ? nullptr : host.machine_for(cpu);
  VectorIsa isa = tm ? vector_isa(*tm) : host.isa();
  auto module = lower_module(fn, layout, options, isa, ctx, fn.name, debug);
  out.lower_ms = ms_since(t0);
  if (tm) optimize_for(*tm, isa, *module);
  else host.optimize(*module);
  out.optimize_ms = ms_since(t0) - out.lower_ms;
  out.llvm_ir = print(*module);
  out.assembly = tm ? assembly_for(*tm, *module) : host.assembly(*module);
  out.codegen_ms = ms_since(t0) - out.lower_ms - out.optimize_ms;
  out.cpu = tm ? cpu : host.cpu().substr(0, host.cpu().find(' '));
  return out;
}

namespace {

// The optimized module of `fn` for the host or, when `cpu` is given, for that
// CPU: as LLVM IR, or as assembly.
std::string inspect(const ir::Function& fn, const Layout& layout, const Options& options,
                    const std::string& cpu, bool assembly) {
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
