// Releasing the GIL around work that touches no Python object, in a way that
// survives the interpreter's exit: a daemon thread that retakes the GIL while
// Python finalizes is ended there (pthread_exit unwinds it), and that unwind
// must not cross a noexcept destructor, as pybind11's gil_scoped_release's
// is (std::terminate: "terminate called without an active exception").
#pragma once

#include <Python.h>
#include <pybind11/pybind11.h>

#include <cxxabi.h>
#include <unistd.h>

#include <cstdint>

#include "runtime/interrupt.h"

namespace ember {

// Calls with at least this many elements (or kernels with loops) can be
// interrupted with Ctrl-C (runtime/interrupt.h); shorter ones are not worth
// the two system calls.
inline constexpr int64_t kLongCall = int64_t{1} << 20;

// A long call's Ctrl-C guard (runtime/interrupt.h); a signal that came just
// before it was installed (during a compile, say) is raised now, before the
// work starts. Construct it with the GIL held, before releasing it.
class CtrlC {
 public:
  explicit CtrlC(bool long_call) : guard_(long_call) {
    if (long_call && PyErr_CheckSignals() < 0) throw pybind11::error_already_set();
  }

 private:
  runtime::InterruptGuard guard_;
};

// A thread that comes back while Python finalizes waits for the process to
// end (as Python 3.14's own threads do) rather than being ended by
// PyEval_RestoreThread: that unwind would drop the call's Python references
// without the GIL while the main thread frees objects (a debug build's
// pybind11 stops there: "dec_ref() is being called while the GIL is either
// not held or invalid"). A thread already waiting for the GIL when the
// finalization starts is ended inside PyEval_RestoreThread (Python 3.11 to
// 3.13 call pthread_exit there): that forced unwind is caught here and the
// thread waits the same way, so it never reaches the caller's references.
// (A forced unwind must be rethrown once its handler ends; this one never
// ends.)
class ReleaseGil {
 public:
  ReleaseGil() : state_(PyEval_SaveThread()) {}
  ~ReleaseGil() noexcept(false) {
    if (finalizing()) park();
    try {
      PyEval_RestoreThread(state_);
    } catch (abi::__forced_unwind&) {
      park();
    }
  }
  ReleaseGil(const ReleaseGil&) = delete;
  ReleaseGil& operator=(const ReleaseGil&) = delete;

 private:
  [[noreturn]] static void park() {
    for (;;) pause();
  }

  static bool finalizing() {
#if PY_VERSION_HEX >= 0x030D0000
    return Py_IsFinalizing();
#else
    return _Py_IsFinalizing();
#endif
  }

  PyThreadState* state_;
};

}  // namespace ember
