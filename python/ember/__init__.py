"""ember: a JIT kernel compiler for NumPy-style Python functions.

    @ember.vectorize
    def f(x, y):
        return x * y + 1.0

compiles `f` through LLVM to native code for the argument types it is called
with, broadcasting NumPy arrays the way a ufunc does.
"""

from .errors import CompileError
from .vectorize import Vectorized, vectorize

__all__ = ["CompileError", "Vectorized", "vectorize", "host_cpu"]
__version__ = "0.1.0"


def host_cpu():
    """The CPU ember compiles for, with the features LLVM enabled."""
    from . import _core
    return _core.host_cpu()
