// Runs a compiled @kernel over its domain, split across the thread pool.
#pragma once

#include <cstdint>
#include <span>

#include "runtime/kernel.h"

namespace ember::runtime {

// args: one pointer per parameter, as codegen::KernelFn takes them. Domains
// too small to pay for threads run on the calling thread. With bounds checks,
// an out-of-range index throws ir::IndexError (the first in domain order
// among the pieces that failed); every piece that started still finishes.
void run_kernel(const Kernel& kernel, void* const* args, std::span<const int64_t> domain);

}  // namespace ember::runtime
