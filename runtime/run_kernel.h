// Runs a compiled @kernel over its domain, split across the thread pool.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "runtime/kernel.h"

namespace ember::runtime {

// args: one pointer per parameter, as codegen::KernelFn takes them. Domains
// too small to pay for threads run on the calling thread. With bounds checks,
// an out-of-range index throws ir::IndexError (the first in domain order
// among the pieces that failed); every piece that started still finishes.
void run_kernel(const Kernel& kernel, void* const* args, std::span<const int64_t> domain);

// The IndexError a bounds-checked run reported in `e` (codegen.h), for an
// array of `shape`; the GPU path reads `e` back from the device.
ir::IndexError kernel_index_error(const Kernel& kernel, const codegen::KernelError& e,
                                  const std::vector<int64_t>& shape);

}  // namespace ember::runtime
