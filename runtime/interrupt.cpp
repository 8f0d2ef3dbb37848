// The SIGINT hook and the flag compiled code checks (interrupt.h).
#include "runtime/interrupt.h"

#include <signal.h>

#include <mutex>

extern "C" {
int32_t ember_interrupt_requested = 0;
}

namespace ember::runtime {
namespace {

int32_t* flag = &ember_interrupt_requested;
std::mutex mu;
int guards = 0;             // InterruptGuards alive
struct sigaction previous;  // the handler before ours (Python's)

void on_sigint(int sig, siginfo_t* info, void* context) {
  if (previous.sa_handler == SIG_IGN) return;
  __atomic_store_n(flag, 1, __ATOMIC_RELAXED);
  if (previous.sa_flags & SA_SIGINFO) {
    previous.sa_sigaction(sig, info, context);
  } else if (previous.sa_handler == SIG_DFL) {
    sigaction(SIGINT, &previous, nullptr);  // the default action: end the process
    raise(SIGINT);
  } else {
    previous.sa_handler(sig);
  }
}

}  // namespace

int32_t* interrupt_flag() { return flag; }

void share_interrupt_flag(int32_t* shared) { flag = shared; }

void check_interrupt() {
  if (interrupt_requested()) throw Interrupted();
}

InterruptGuard::InterruptGuard(bool active) : active_(active) {
  if (!active_) return;
  std::lock_guard<std::mutex> lock(mu);
  if (guards++ > 0) return;
  struct sigaction ours {};
  ours.sa_sigaction = on_sigint;
  ours.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&ours.sa_mask);
  sigaction(SIGINT, &ours, &previous);
}

InterruptGuard::~InterruptGuard() {
  if (!active_) return;
  std::lock_guard<std::mutex> lock(mu);
  if (--guards > 0) return;
  sigaction(SIGINT, &previous, nullptr);
  __atomic_store_n(flag, 0, __ATOMIC_RELAXED);
}

}  // namespace ember::runtime
