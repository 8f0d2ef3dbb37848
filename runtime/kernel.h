// A compiled specialization: the optimized IR and its native entry point.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "codegen/codegen.h"
#include "ir/ir.h"

namespace ember::runtime {

// The integer types a Python int argument is converted to inside a kernel:
// NumPy 2 raises OverflowError when the value does not fit them
// (uint8_array + 300), so the call path checks the value against all of them.
struct WeakIntUse {
  int param;
  ir::Scalar type;
};

struct Kernel {
  ir::Function source;     // as the frontend built it
  ir::Function optimized;  // after the pipeline (Strict level)
  codegen::Layout layout;
  codegen::Options options;
  codegen::Entry entry;
  std::vector<WeakIntUse> weak_int_uses;

  std::string ir_text() const;
  std::string llvm_ir() const;
  std::string assembly() const;
};

// Whether integer `value` (as int64 bits; `is_unsigned` for a uint64 value)
// is a value of integer type `t`.
bool int_fits(int64_t value, bool is_unsigned, ir::Scalar t);

// Runs the pass pipeline and the JIT; logs the time of each stage at debug
// level ("runtime" logger).
std::shared_ptr<const Kernel> compile_elementwise(ir::Function fn, codegen::Layout layout,
                                                  codegen::Options options);

}  // namespace ember::runtime
