// The CUDA target: a lowered GPU module, libdevice linked in when it calls
// math functions, LLVM's O3 pipeline for NVPTX (NVVMReflect included), PTX
// text out. Nothing here needs a GPU or the CUDA driver.
#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/Linker/Linker.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Transforms/IPO/Internalize.h>
#include <llvm/Transforms/InstCombine/InstCombine.h>
#include <llvm/Transforms/Scalar/Scalarizer.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>

#include "codegen/codegen.h"
#include "codegen/lower.h"

namespace ember::codegen {
namespace {

constexpr const char* kTriple = "nvptx64-nvidia-cuda";

const llvm::Target& nvptx() {
  static const llvm::Target* target = [] {
    LLVMInitializeNVPTXTargetInfo();
    LLVMInitializeNVPTXTarget();
    LLVMInitializeNVPTXTargetMC();
    LLVMInitializeNVPTXAsmPrinter();
    std::string error;
    const llvm::Target* t = llvm::TargetRegistry::lookupTarget(kTriple, error);
    if (!t) throw std::runtime_error("LLVM has no NVPTX backend: " + error);
    return t;
  }();
  return *target;
}

int sm_number(const std::string& arch) {
  if (arch.rfind("sm_", 0) != 0 || arch.size() < 5) return -1;
  char* end = nullptr;
  long n = std::strtol(arch.c_str() + 3, &end, 10);
  return *end ? -1 : static_cast<int>(n);  // "sm_90a" and the like: not a plain number
}

std::unique_ptr<llvm::TargetMachine> machine(const std::string& arch) {
  std::vector<std::string> known = gpu_archs();
  if (std::find(known.begin(), known.end(), arch) == known.end())
    throw std::invalid_argument("unknown GPU architecture '" + arch + "'; ember targets " +
                                known.front() + " to " + known.back());
  llvm::TargetOptions options;
  // LLVM's default PTX ISA for the archs before sm_70 predates shfl.sync,
  // which reductions use: ask for PTX 6.0 (CUDA 9), which has it for sm_30 on.
  std::string features = sm_number(arch) < 70 ? "+ptx60" : "";
  return std::unique_ptr<llvm::TargetMachine>(
      nvptx().createTargetMachine(kTriple, arch, features, options, std::nullopt, std::nullopt,
                                  llvm::CodeGenOptLevel::Aggressive));
}

bool calls_libdevice(const llvm::Module& m) {
  for (const llvm::Function& f : m)
    if (f.isDeclaration() && f.getName().starts_with("__nv_")) return true;
  return false;
}

// libdevice's bitcode, read once per path and kept: each link below parses
// lazily only the functions the kernel calls (a few ms, not the whole file).
const llvm::MemoryBuffer& libdevice_file(const std::string& path) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<llvm::MemoryBuffer>> files;
  std::lock_guard<std::mutex> lock(mutex);
  std::unique_ptr<llvm::MemoryBuffer>& file = files[path];
  if (!file) {
    auto buffer = llvm::MemoryBuffer::getFile(path);
    if (!buffer) throw std::runtime_error("cannot read " + path + ": " + buffer.getError().message());
    file = std::move(*buffer);
  }
  return *file;
}

void link_libdevice(llvm::Module& m) {
  std::string path = libdevice_path();
  if (path.empty())
    throw std::runtime_error(
        "this kernel calls a math function, which on the GPU comes from libdevice (part of the "
        "CUDA toolkit), and no libdevice.10.bc was found: install the CUDA toolkit or set "
        "EMBER_LIBDEVICE to the file");
  auto lib = llvm::getLazyBitcodeModule(libdevice_file(path).getMemBufferRef(), m.getContext());
  if (!lib) throw std::runtime_error("cannot parse " + path + ": " + llvm::toString(lib.takeError()));
  (*lib)->setTargetTriple(m.getTargetTriple());
  (*lib)->setDataLayout(m.getDataLayout());
  if (llvm::Linker::linkModules(m, std::move(*lib), llvm::Linker::LinkOnlyNeeded))
    throw std::runtime_error("cannot link " + path);
}

// Lowered, linked and optimized for `arch`: only the entry (and a
// reduction's `<entry>_merge` and `<entry>_finish`) stays external.
std::unique_ptr<llvm::Module> gpu_module(const ir::Function& fn, const Layout& layout,
                                         const Options& options, llvm::TargetMachine& tm,
                                         llvm::LLVMContext& ctx, std::string& entry) {
  std::string prefix = "ember_";
  for (char ch : fn.name) prefix += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  entry = prefix + "_cuda";
  auto m = lower_gpu_module(fn, layout, options, ctx, prefix);
  m->setTargetTriple(kTriple);
  m->setDataLayout(tm.createDataLayout());
  // IEEE denormals, as on the CPU (libdevice asks through __nvvm_reflect).
  m->addModuleFlag(llvm::Module::Override, "nvvm-reflect-ftz", uint32_t{0});
  if (calls_libdevice(*m)) link_libdevice(*m);
  llvm::internalizeModule(*m, [&](const llvm::GlobalValue& g) {
    return g.getName().starts_with(entry);
  });
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb(&tm);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3).run(*m, mam);
  // GPU threads are scalar. The reductions' 16-lane vectors, left whole, meet
  // an NVPTX 19 instruction-selection bug (a float vector load widened to
  // double becomes `ld.v2.f32` into f64 registers, which ptxas rejects).
  llvm::ScalarizerPassOptions scalar;
  scalar.ScalarizeLoadStore = true;
  llvm::FunctionPassManager fpm;
  fpm.addPass(llvm::ScalarizerPass(scalar));
  fpm.addPass(llvm::InstCombinePass());
  llvm::createModuleToFunctionPassAdaptor(std::move(fpm)).run(*m, mam);
  return m;
}

std::string default_arch(const std::string& arch) { return arch.empty() ? newest_gpu_arch() : arch; }

}  // namespace

std::string newest_gpu_arch() {
  std::string newest;
  for (const std::string& a : gpu_archs())
    if (sm_number(a) > sm_number(newest)) newest = a;
  return newest;
}

std::vector<std::string> gpu_archs() {
  static const std::vector<std::string> archs = [] {
    std::unique_ptr<llvm::MCSubtargetInfo> info(
        nvptx().createMCSubtargetInfo(kTriple, "sm_50", ""));
    std::vector<std::string> names;
    for (const llvm::SubtargetSubTypeKV& cpu : info->getAllProcessorDescriptions())
      if (llvm::StringRef(cpu.Key).starts_with("sm_") && std::atoi(cpu.Key + 3) >= 30)
        names.push_back(cpu.Key);  // sm_20 and sm_21 have no warp shuffles
    std::stable_sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
      return std::atoi(a.c_str() + 3) < std::atoi(b.c_str() + 3);
    });
    return names;
  }();
  return archs;
}

std::string libdevice_path() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("EMBER_LIBDEVICE")) return fs::exists(env) ? env : "";
  std::vector<std::string> roots;
  for (const char* var : {"CUDA_HOME", "CUDA_PATH"})
    if (const char* root = std::getenv(var)) roots.push_back(root);
  roots.push_back("/usr/local/cuda");
  for (const std::string& root : roots)
    if (fs::exists(root + "/nvvm/libdevice/libdevice.10.bc"))
      return root + "/nvvm/libdevice/libdevice.10.bc";
  const char* debian = "/usr/lib/nvidia-cuda-toolkit/libdevice/libdevice.10.bc";
  return fs::exists(debian) ? debian : "";
}

namespace {

// The PTX of `m`. Every GPU module must end here: LLVM 19's NVPTX backend
// caches each module's kernel annotations (reqntid, kernel) in a global map
// keyed by addresses, which only its PTX printer's finalization clears; a
// module freed before it leaves entries that a later module at the same
// address reads (seen: a reduction kernel without its .reqntid).
std::string emit_ptx(llvm::TargetMachine& tm, llvm::Module& m) {
  llvm::SmallString<8192> text;
  llvm::raw_svector_ostream os(text);
  llvm::legacy::PassManager pm;
  if (tm.addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::AssemblyFile))
    throw std::runtime_error("LLVM cannot emit PTX");
  pm.run(m);
  return std::string(text.str());
}

}  // namespace

PtxCode ptx(const ir::Function& fn, const Layout& layout, const Options& options,
            const std::string& arch) {
  PtxCode code;
  code.arch = default_arch(arch);
  auto tm = machine(code.arch);
  llvm::LLVMContext ctx;
  auto m = gpu_module(fn, layout, options, *tm, ctx, code.entry);
  code.ptx = emit_ptx(*tm, *m);
  return code;
}

std::string gpu_llvm_ir(const ir::Function& fn, const Layout& layout, const Options& options,
                        const std::string& arch) {
  auto tm = machine(default_arch(arch));
  llvm::LLVMContext ctx;
  std::string entry, text;
  auto m = gpu_module(fn, layout, options, *tm, ctx, entry);
  llvm::raw_string_ostream os(text);
  m->print(os, nullptr);
  emit_ptx(*tm, *m);  // clears the annotation cache (above)
  return os.str();
}

}  // namespace ember::codegen
