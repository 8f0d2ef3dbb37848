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

from . import cache, cuda
from .errors import CompileError, CudaError
from .kernel import Kernel, atomic_add, atomic_max, atomic_min, kernel, tid
from .reduce import Reduced, reduce
from .vectorize import Vectorized, vectorize

__all__ = ["CompileError", "CudaError", "Kernel", "Reduced", "Vectorized", "atomic_add", "atomic_max",
           "atomic_min", "kernel", "reduce", "tid", "vectorize", "host_cpu", "set_num_threads",
           "get_num_threads", "cache", "cuda"]
__version__ = "0.1.0"


def host_cpu():
    """The CPU ember compiles for, with the features LLVM enabled."""
    from . import _jit
    return _jit.host_cpu()


def set_num_threads(n):
    """Use n threads (the calling one included) for large kernel calls."""
    from . import _core
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads needs an int >= 1, got {n!r}")
    _core.set_num_threads(n)


def get_num_threads():
    """Threads used for large kernel calls (EMBER_NUM_THREADS, default: all cores)."""
    from . import _core
    return _core.get_num_threads()
