// Reference interpreter: runs a Function on scalar arguments, or a kernel over
// its domain on arrays in memory. Slow and simple on purpose; compiled code is
// tested against it.
#pragma once

#include <cstdint>
#include <vector>

#include "ir/ir.h"

namespace ember::ir {

// Runs a Strict-level Function (after the `promote` pass: every conversion
// explicit). Arguments are literals of the parameter types; the result is a
// literal of fn.result. Local variables start at zero.
Literal interpret(const Function& fn, const std::vector<Literal>& args);

// An array argument of a kernel: elements of the parameter's dtype at
// data + sum(index[k] * strides[k]) bytes.
struct ArrayRef {
  void* data = nullptr;
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;  // in bytes
};

struct KernelArg {
  Literal scalar;  // for a scalar parameter
  ArrayRef array;  // for an array parameter
};

// A value of type `s` in NumPy's memory layout (bool: one byte), and back.
Literal load_literal(const void* p, Scalar s);
void store_literal(void* p, Scalar s, Literal v);

// Runs a Strict-level kernel once per index of `domain` (row-major order),
// reading and writing the arrays in place. Every index is checked: an index
// out of range throws IndexError before anything is written there. A range()
// step that is zero at run time runs no iteration.
void interpret_kernel(const Function& fn, const std::vector<KernelArg>& args,
                      const std::vector<int64_t>& domain);

}  // namespace ember::ir
