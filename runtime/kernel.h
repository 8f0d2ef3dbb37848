// A compiled specialization: the optimized IR and its native entry point.
#pragma once

#include <memory>
#include <string>

#include "codegen/codegen.h"
#include "ir/ir.h"

namespace ember::runtime {

struct Kernel {
  ir::Function source;     // as the frontend built it
  ir::Function optimized;  // after the pipeline (Strict level)
  codegen::Layout layout;
  codegen::Options options;
  codegen::Entry entry;

  std::string ir_text() const;
  std::string llvm_ir() const;
  std::string assembly() const;
};

// Runs the pass pipeline and the JIT; logs the time of each stage at debug
// level ("runtime" logger).
std::shared_ptr<const Kernel> compile_elementwise(ir::Function fn, codegen::Layout layout,
                                                  codegen::Options options);

}  // namespace ember::runtime
