// Runs an elementwise Kernel over broadcast operands (NumPy's rules).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "runtime/kernel.h"

namespace ember::runtime {

inline constexpr int kMaxDims = 32;  // dimensions of an operand
inline constexpr int kMaxArgs = 64;  // operands of one call, the output included

// A shape, inline so that the call path allocates nothing.
// Shape and Operand are plain structs without initializers: the call path
// keeps arrays of them on the stack and fills only what it uses.
struct Shape {
  int ndim;
  int64_t dims[kMaxDims];

  int64_t size() const;
  bool operator==(const Shape& o) const;
  std::string text() const;  // "(3, 4)" as NumPy prints it
};

// A strided view of memory: what a NumPy array (or a boxed scalar) is.
struct Operand {
  char* data;
  ir::Scalar dtype;
  Shape shape;
  int64_t strides[kMaxDims];  // bytes
};

// The broadcast shape of `operands`; throws std::invalid_argument naming
// the shapes when they do not broadcast.
Shape broadcast_shape(std::span<const Operand> operands);

// out[idx] = kernel(inputs[idx]...) for every index of out.shape; the
// inputs broadcast to it. Touches no Python object (runs without the GIL).
void launch_elementwise(const Kernel& kernel, std::span<const Operand> inputs,
                        const Operand& out);

}  // namespace ember::runtime
