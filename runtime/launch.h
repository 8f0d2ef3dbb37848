// Runs an elementwise Kernel over broadcast operands (NumPy's rules).
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/kernel.h"

namespace ember::runtime {

// A strided view of memory: what a NumPy array (or a boxed scalar) is.
struct Operand {
  char* data = nullptr;
  ir::Scalar dtype = ir::Scalar::F64;
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;  // bytes
};

// The broadcast shape of `operands`; throws std::invalid_argument naming
// the shapes when they do not broadcast.
std::vector<int64_t> broadcast_shape(const std::vector<Operand>& operands);

// out[idx] = kernel(inputs[idx]...) for every index of out.shape; the
// inputs broadcast to it. Touches no Python object (runs without the GIL).
void launch_elementwise(const Kernel& kernel, const std::vector<Operand>& inputs,
                        const Operand& out);

}  // namespace ember::runtime
