// Debug locations for inspection (lower.h's DebugLocations): the Python
// line and column of every instruction, so that the assembly carries .loc
// lines and LLVM's optimization remarks name lines. Line tables only: no
// variables or types. Code compiled to run carries none (the loader maps
// no debug sections); LLVM's code generation does not depend on them.
#include <llvm/BinaryFormat/Dwarf.h>
#include <llvm/IR/DIBuilder.h>
#include <llvm/IR/DebugInfoMetadata.h>

#include <filesystem>

#include "codegen/lower.h"

namespace ember::codegen {

DebugLocations::DebugLocations(llvm::Module& m, const ir::Function& fn)
    : m_(m), dib_(std::make_unique<llvm::DIBuilder>(m)), line_(fn.loc.line) {
  std::filesystem::path path(fn.file.empty() ? "<unknown>" : fn.file);
  file_ = dib_->createFile(path.filename().string(), path.parent_path().string());
  dib_->createCompileUnit(llvm::dwarf::DW_LANG_Python, file_, "ember", true, "", 0, "",
                          llvm::DICompileUnit::LineTablesOnly);
  m.addModuleFlag(llvm::Module::Warning, "Debug Info Version", llvm::DEBUG_METADATA_VERSION);
  m.addModuleFlag(llvm::Module::Warning, "Dwarf Version", 4);
}

DebugLocations::~DebugLocations() = default;

llvm::DISubprogram* DebugLocations::subprogram(llvm::Function* f) {
  if (llvm::DISubprogram* sp = f->getSubprogram()) return sp;
  auto* type = dib_->createSubroutineType(dib_->getOrCreateTypeArray({}));
  auto* sp = dib_->createFunction(file_, f->getName(), f->getName(), file_, line_, type, line_,
                                  llvm::DINode::FlagZero,
                                  llvm::DISubprogram::SPFlagDefinition | llvm::DISubprogram::SPFlagOptimized);
  f->setSubprogram(sp);
  return sp;
}

void DebugLocations::finish() {
  for (llvm::Function& f : m_) {
    if (f.isDeclaration()) continue;
    llvm::DISubprogram* sp = subprogram(&f);
    for (llvm::BasicBlock& bb : f)
      for (llvm::Instruction& i : bb)
        if (!i.getDebugLoc()) i.setDebugLoc(llvm::DILocation::get(m_.getContext(), line_, 0, sp));
  }
  dib_->finalize();
}

}  // namespace ember::codegen
