// Ctrl-C in long calls. While an InterruptGuard is alive, SIGINT also sets
// ember_interrupt_requested (then runs the handler that was installed:
// Python's, which records the signal). Running work checks the flag: the
// runtime between chunks of a map or reduce and between pieces of a kernel's
// domain, compiled code at the back-edge of every `while` loop of a @kernel
// and between blocks of 65,536 iterations of its `for` loops (lowering.h);
// stopped work throws Interrupted, which
// Python turns into the KeyboardInterrupt its handler raised. Nothing that
// was stopped is returned as a result.
#pragma once

#include <cstdint>
#include <stdexcept>

extern "C" {
// Nonzero: running kernels stop at their next check. Compiled code reads it
// by this name (codegen/lower_kernel.cpp).
extern int32_t ember_interrupt_requested;
}

namespace ember::runtime {

class Interrupted : public std::runtime_error {
 public:
  Interrupted() : std::runtime_error("interrupted by SIGINT") {}
};

// The flag compiled code reads: ember_interrupt_requested, unless another
// copy of this runtime in the process shared its own (share_interrupt_flag:
// ember._jit, which loads freshly compiled code, uses ember._core's).
int32_t* interrupt_flag();
void share_interrupt_flag(int32_t* flag);

inline bool interrupt_requested() {
  return __atomic_load_n(interrupt_flag(), __ATOMIC_RELAXED) != 0;
}

// Throws Interrupted when the flag is set.
void check_interrupt();

// Installs the SIGINT hook for the guard's lifetime when `active` (nested and
// concurrent guards share one installation; the last one out restores the
// previous handler and clears the flag). Costs two sigaction calls: guard
// long calls only.
class InterruptGuard {
 public:
  explicit InterruptGuard(bool active);
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  bool active_;
};

}  // namespace ember::runtime
