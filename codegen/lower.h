// IR -> LLVM IR for one elementwise kernel (target-independent part).
#pragma once

#include <memory>
#include <string>

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include "codegen/codegen.h"

namespace ember::codegen {

// A module holding `<prefix>_contig` and `<prefix>_strided` (see codegen.h)
// around an always-inlined scalar function made from `fn` (Strict level).
std::unique_ptr<llvm::Module> lower_elementwise(const ir::Function& fn, const Layout& layout,
                                                const Options& options, llvm::LLVMContext& ctx,
                                                const std::string& prefix);

}  // namespace ember::codegen
