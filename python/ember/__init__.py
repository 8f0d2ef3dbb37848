"""ember: a JIT kernel compiler for NumPy-style Python functions.

    @ember.vectorize
    def f(x, y):
        return x * y + 1.0

compiles `f` through LLVM to native code for the argument types it is called
with, broadcasting NumPy arrays the way a ufunc does; `@ember.reduce("+")`
combines such a function's results (a dot product, a norm, a maximum);
`@ember.kernel` runs a function once per index of a domain (`ember.tid()`),
with array arguments, loops and atomics.
"""

import atexit
import sys

from . import _core, cache, cuda, logs
from .errors import CompileError, CudaError, CudaOutOfMemoryError
from .kernel import Kernel, atomic_add, atomic_max, atomic_min, kernel, tid
from .library import Library, load
from .logs import set_log_level
from .reduce import Reduced, reduce
from .vectorize import Vectorized, vectorize

__all__ = ["CompileError", "CudaError", "CudaOutOfMemoryError", "Kernel", "Reduced", "Vectorized", "atomic_add", "atomic_max",
           "atomic_min", "kernel", "reduce", "tid", "vectorize", "host_cpu", "set_num_threads",
           "get_num_threads", "set_log_level", "cache", "cuda", "load", "Library"]
__version__ = _core.versions()["ember"]  # pyproject.toml's, through CMake: one source

import numbers  # noqa: E402


def host_cpu() -> str:
    """The CPU ember compiles for, with the features LLVM enabled."""
    from . import _jit
    return _jit.host_cpu()


# At exit the interpreter frees ember's functions while a daemon thread may
# still run one's code: from then on compiled code stays mapped.
def _keep_code_mapped():
    # Both extensions map code: ember._jit what it compiles, ember._core what it loads.
    _core.keep_code_mapped()
    jit = sys.modules.get("ember._jit")
    if jit is not None:
        jit.keep_code_mapped()


atexit.register(_keep_code_mapped)

MAX_THREADS = 1024  # a sane cap: more threads than that only cost memory


def set_num_threads(n: int) -> None:
    """Use n threads (the calling one included) for large kernel calls,
    1 <= n <= ember.MAX_THREADS (an int or a NumPy integer)."""
    from . import _core
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"set_num_threads needs an integer, got {type(n).__name__} {n!r}")
    if not 1 <= int(n) <= MAX_THREADS:
        raise ValueError(f"set_num_threads needs 1 <= n <= {MAX_THREADS}, got {n!r}")
    _core.set_num_threads(int(n))


def get_num_threads() -> int:
    """Threads used for large kernel calls (EMBER_NUM_THREADS, default: all cores)."""
    from . import _core
    return _core.get_num_threads()
