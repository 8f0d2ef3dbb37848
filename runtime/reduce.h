// Runs a reduce Kernel: its map over broadcast operands, combined along some
// dimensions of the broadcast shape.
#pragma once

#include <span>

#include "runtime/launch.h"

namespace ember::runtime {

// out[kept index] = combine over the reduced indices of map(inputs[index]...)
// where `reduced[d]` marks the dimensions of `shape` (the inputs' broadcast
// shape) that are combined; `out` (dtype: the kernel's accumulator) has the
// other dimensions, in order. The input is cut into fixed units of work whose
// partial results are merged in order, so the result does not depend on the
// thread count. Touches no Python object (runs without the GIL).
void launch_reduce(const Kernel& kernel, std::span<const Operand> inputs, const Shape& shape,
                   const bool* reduced, const Operand& out);

}  // namespace ember::runtime
