// Releasing the GIL around work that touches no Python object, in a way that
// survives the interpreter's exit: a daemon thread that retakes the GIL while
// Python finalizes is ended there (pthread_exit unwinds it), and that unwind
// must not cross a noexcept destructor, as pybind11's gil_scoped_release's
// is (std::terminate: "terminate called without an active exception").
#pragma once

#include <Python.h>

namespace ember {

class ReleaseGil {
 public:
  ReleaseGil() : state_(PyEval_SaveThread()) {}
  ~ReleaseGil() noexcept(false) { PyEval_RestoreThread(state_); }
  ReleaseGil(const ReleaseGil&) = delete;
  ReleaseGil& operator=(const ReleaseGil&) = delete;

 private:
  PyThreadState* state_;
};

}  // namespace ember
