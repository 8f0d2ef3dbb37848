// Glue objects, linking and archives for ahead-of-time libraries (aot.h).
#include "codegen/aot.h"

#include <dlfcn.h>
#include <link.h>
#include <unistd.h>

#include <lld/Common/Driver.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Object/ArchiveWriter.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <stdexcept>

#include "codegen/lower.h"
#include "ir/types.h"

LLD_HAS_DRIVER(elf)

namespace ember::codegen {
namespace {

// A module for any x86-64 CPU of the host's triple, and its object code.
class ObjectModule {
 public:
  ObjectModule() : module_("ember_aot", ctx_), b_(ctx_) {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    std::string triple = llvm::sys::getProcessTriple(), error;
    const llvm::Target* target = llvm::TargetRegistry::lookupTarget(triple, error);
    if (!target) throw std::runtime_error("no LLVM target for " + triple + ": " + error);
    tm_.reset(target->createTargetMachine(triple, "x86-64", "", llvm::TargetOptions(),
                                          llvm::Reloc::PIC_));
    module_.setTargetTriple(triple);
    module_.setDataLayout(tm_->createDataLayout());
  }

  llvm::LLVMContext& ctx() { return ctx_; }
  llvm::Module& module() { return module_; }
  llvm::IRBuilder<>& b() { return b_; }
  llvm::PointerType* ptr() { return b_.getPtrTy(); }

  llvm::Function* define(const std::string& name, llvm::Type* result, std::vector<llvm::Type*> params,
                         bool hidden = false) {
    auto* f = llvm::Function::Create(llvm::FunctionType::get(result, params, false),
                                     llvm::Function::ExternalLinkage, name, module_);
    if (hidden) f->setVisibility(llvm::GlobalValue::HiddenVisibility);
    b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", f));
    return f;
  }

  llvm::FunctionCallee runtime(const char* name, llvm::Type* result, std::vector<llvm::Type*> params) {
    return module_.getOrInsertFunction(name, llvm::FunctionType::get(result, params, false));
  }

  std::string object() { return emit(*tm_, module_, llvm::CodeGenFileType::ObjectFile); }

 private:
  llvm::LLVMContext ctx_;
  llvm::Module module_;
  llvm::IRBuilder<> b_;
  std::unique_ptr<llvm::TargetMachine> tm_;
};

// The LLVM type of a C parameter, with the SysV ABI's extension attribute.
llvm::Type* c_type(ObjectModule& m, const std::string& name, llvm::Attribute::AttrKind& ext) {
  ext = llvm::Attribute::None;
  if (name == "ptr") return m.ptr();
  std::optional<ir::Scalar> s = ir::scalar_from_short_name(name);
  if (!s) throw std::invalid_argument("glue: unknown C parameter type " + name);
  if (*s == ir::Scalar::F32) return m.b().getFloatTy();
  if (*s == ir::Scalar::F64) return m.b().getDoubleTy();
  if (*s == ir::Scalar::Bool) {
    ext = llvm::Attribute::ZExt;
    return m.b().getInt1Ty();
  }
  int bits = ir::bits_of(*s);
  if (bits < 32) ext = ir::is_signed(*s) ? llvm::Attribute::SExt : llvm::Attribute::ZExt;
  return m.b().getIntNTy(bits);
}

// int NAME(params...): each argument in a slot, argv[k] = &slot k, then
// ember_aot_invoke(descriptor, exp, isa, form, argv).
void wrapper(ObjectModule& m, llvm::GlobalVariable* descriptor, const GlueFunction& g) {
  llvm::IRBuilder<>& b = m.b();
  std::vector<llvm::Type*> types;
  std::vector<llvm::Attribute::AttrKind> exts;
  for (const std::string& p : g.params) {
    exts.emplace_back();
    types.push_back(c_type(m, p, exts.back()));
  }
  llvm::Function* f = m.define(g.name, b.getInt32Ty(), types);
  auto* argv = b.CreateAlloca(llvm::ArrayType::get(m.ptr(), std::max<size_t>(types.size(), 1)));
  for (size_t k = 0; k < types.size(); ++k) {
    if (exts[k] != llvm::Attribute::None) f->addParamAttr(k, exts[k]);
    llvm::Value* value = f->getArg(k);
    if (value->getType()->isIntegerTy(1)) value = b.CreateZExt(value, b.getInt8Ty());  // a bool's byte
    llvm::Value* slot = b.CreateAlloca(value->getType());
    b.CreateStore(value, slot);
    b.CreateStore(slot, b.CreateConstGEP2_32(argv->getAllocatedType(), argv, 0, k));
  }
  auto invoke = m.runtime("ember_aot_invoke", b.getInt32Ty(),
                          {m.ptr(), b.getInt32Ty(), b.getInt32Ty(), b.getInt32Ty(), m.ptr()});
  b.CreateRet(b.CreateCall(invoke, {descriptor, b.getInt32(g.exp), b.getInt32(g.isa),
                                    b.getInt32(g.form), argv}));
}

// RESULT <stem>_NAME(params...) { return ember_aot_NAME(descriptor, params...); }
void forward(ObjectModule& m, llvm::GlobalVariable* descriptor, const std::string& stem,
             const char* name, llvm::Type* result, std::vector<llvm::Type*> params) {
  llvm::Function* f = m.define(stem + "_" + name, result, params);
  std::vector<llvm::Type*> with = {m.ptr()};
  with.insert(with.end(), params.begin(), params.end());
  std::vector<llvm::Value*> args = {descriptor};
  for (llvm::Argument& a : f->args()) args.push_back(&a);
  m.b().CreateRet(m.b().CreateCall(m.runtime(("ember_aot_" + std::string(name)).c_str(), result, with), args));
}

std::mutex lld_mu;  // lld keeps global state: one link at a time

// Directories of the C and C++ runtime libraries this process loaded, then
// the usual system ones.
std::vector<std::string> library_dirs() {
  std::vector<std::string> dirs;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* out) {
        std::string path = info->dlpi_name ? info->dlpi_name : "";
        for (const char* lib : {"/libc.so.6", "/libstdc++.so.6", "/libgcc_s.so.1", "/libm.so.6"})
          if (path.size() > std::strlen(lib) && path.ends_with(lib))
            static_cast<std::vector<std::string>*>(out)->push_back(
                std::filesystem::path(path).parent_path().string());
        return 0;
      },
      &dirs);
  for (const char* dir : {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64"})
    if (std::filesystem::exists(dir)) dirs.push_back(dir);
  return dirs;
}

}  // namespace

std::string glue_object(const Glue& glue) {
  ObjectModule m;
  llvm::IRBuilder<>& b = m.b();
  llvm::Module& mod = m.module();
  auto* table = new llvm::GlobalVariable(
      mod, llvm::ArrayType::get(b.getInt8Ty(), glue.table.size()), true,
      llvm::GlobalValue::PrivateLinkage,
      llvm::ConstantDataArray::getRaw(glue.table, glue.table.size(), b.getInt8Ty()), "ember_table");
  std::vector<llvm::Constant*> entries;
  for (const std::string& name : glue.entries)
    entries.push_back(name.empty() ? llvm::ConstantPointerNull::get(m.ptr())
                                   : llvm::cast<llvm::Constant>(
                                         mod.getOrInsertFunction(name, b.getVoidTy()).getCallee()));
  auto* entries_type = llvm::ArrayType::get(m.ptr(), entries.size());
  auto* entry_array = new llvm::GlobalVariable(mod, entries_type, true, llvm::GlobalValue::PrivateLinkage,
                                               llvm::ConstantArray::get(entries_type, entries),
                                               "ember_entries");
  auto* select = m.runtime("ember_aot_select", b.getInt32Ty(), {m.ptr()}).getCallee();
  auto* desc_type = llvm::StructType::get(m.ctx(), {m.ptr(), b.getInt64Ty(), m.ptr(), m.ptr(), m.ptr()});
  auto* descriptor = new llvm::GlobalVariable(
      mod, desc_type, false, llvm::GlobalValue::ExternalLinkage,
      llvm::ConstantStruct::get(desc_type, {table, b.getInt64(glue.table.size()), entry_array,
                                            llvm::ConstantPointerNull::get(m.ptr()),
                                            llvm::cast<llvm::Constant>(select)}),
      "ember_aot_library_" + glue.stem);
  for (const GlueFunction& g : glue.functions) wrapper(m, descriptor, g);
  forward(m, descriptor, glue.stem, "set_num_threads", b.getInt32Ty(), {b.getInt32Ty()});
  forward(m, descriptor, glue.stem, "info", m.ptr(), {});
  forward(m, descriptor, glue.stem, "last_error", m.ptr(), {});
  return m.object();
}

std::string shared_support_object(const std::string& stem) {
  ObjectModule m;
  llvm::IRBuilder<>& b = m.b();
  llvm::Module& mod = m.module();
  // void* __dso_handle = &__dso_handle, hidden: what C++ destructors of
  // static objects register under (crtbeginS.o's).
  auto* dso = new llvm::GlobalVariable(mod, m.ptr(), false, llvm::GlobalValue::ExternalLinkage,
                                       nullptr, "__dso_handle");
  dso->setInitializer(dso);
  dso->setVisibility(llvm::GlobalValue::HiddenVisibility);
  // pthread_atfork(a, b, c) = __register_atfork(a, b, c, __dso_handle), as
  // libc_nonshared.a defines it.
  llvm::Function* atfork = m.define("pthread_atfork", b.getInt32Ty(), {m.ptr(), m.ptr(), m.ptr()}, true);
  auto reg = m.runtime("__register_atfork", b.getInt32Ty(), {m.ptr(), m.ptr(), m.ptr(), m.ptr()});
  b.CreateRet(b.CreateCall(reg, {atfork->getArg(0), atfork->getArg(1), atfork->getArg(2),
                                 b.CreateLoad(m.ptr(), dso)}));
  // void* ember_aot_library = &ember_aot_library_<stem>.
  auto* desc = mod.getOrInsertGlobal("ember_aot_library_" + stem, b.getInt8Ty());
  new llvm::GlobalVariable(mod, m.ptr(), true, llvm::GlobalValue::ExternalLinkage,
                           llvm::cast<llvm::Constant>(desc), "ember_aot_library");
  return m.object();
}

void link_shared(const std::vector<std::string>& inputs, const std::string& output,
                 const std::vector<std::string>& exported) {
  std::string script_path = output + ".exports";
  {
    std::ofstream script(script_path);
    script << "{\n  global:\n";
    for (const std::string& name : exported) script << "    " << name << ";\n";
    script << "  local: *;\n};\n";
  }
  std::vector<std::string> args = {"ld.lld", "-shared", "-o", output, "-soname",
                                   std::filesystem::path(output).filename().string(),
                                   "--version-script", script_path, "--gc-sections",
                                   "--eh-frame-hdr", "--hash-style=gnu", "--build-id",
                                   "-z", "noexecstack", "-z", "relro", "-z", "now", "--as-needed"};
  std::set<std::string> seen;
  for (const std::string& dir : library_dirs())
    if (seen.insert(dir).second) args.push_back("-L" + dir);
  args.insert(args.end(), inputs.begin(), inputs.end());
  for (const char* lib : {"-l:libstdc++.so.6", "-l:libmvec.so.1", "-l:libm.so.6", "-l:libgcc_s.so.1",
                          "-l:libc.so.6", "-l:ld-linux-x86-64.so.2"})
    args.push_back(lib);
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  std::string out_text, err_text;
  llvm::raw_string_ostream out(out_text), err(err_text);
  lld::Result result;
  {
    std::lock_guard<std::mutex> lock(lld_mu);
    result = lld::lldMain(argv, out, err, {{lld::Gnu, &lld::elf::link}});
  }
  std::filesystem::remove(script_path);
  if (result.retCode != 0) throw std::runtime_error("linking " + output + " failed: " + err.str());
}

std::string archive(const std::vector<std::pair<std::string, std::string>>& members) {
  std::vector<llvm::NewArchiveMember> list;
  for (const auto& [name, bytes] : members) {
    llvm::NewArchiveMember member(llvm::MemoryBufferRef(bytes, name));
    list.push_back(std::move(member));
  }
  auto buffer = llvm::writeArchiveToBuffer(list, llvm::SymtabWritingMode::NormalSymtab,
                                           llvm::object::Archive::K_GNU, true, false);
  if (!buffer) throw std::runtime_error("archive: " + llvm::toString(buffer.takeError()));
  return std::string((*buffer)->getBuffer());
}

}  // namespace ember::codegen
