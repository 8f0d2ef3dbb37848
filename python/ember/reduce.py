"""@ember.reduce: a scalar Python function mapped over broadcast arrays, its
results combined with +, *, min or max.

It is a @vectorize kernel whose output goes to an accumulator instead of an
array (runtime/reduce.cpp): the same frontend, compiler, specialization cache
and call path, with `axis=` in place of `out=`.
"""

from typing import Any, Callable

from . import _core, protocol
from .vectorize import Signatures, Vectorized

__all__ = ["reduce", "Reduced"]

# The operators a reduction can combine with, and their IR names.
_OPS = {"+": "add", "*": "mul", "min": "minimum", "max": "maximum"}


class Reduced(Vectorized):
    """A compiled map-and-combine; call it like `np.sum(f(x, y), axis=...)`.

    The result has NumPy's accumulator dtype (sums and products of smaller
    integers are int64 / uint64) and does not depend on the thread count.
    """

    def __init__(self, py_func, op, fastmath=False, *, cache=True, signatures=()):
        self.op = op
        super().__init__(py_func, signatures, fastmath, cache=cache, _combine=_OPS[op])

    def _help(self):
        return "reduce", {"op": self.op}

    def __repr__(self):
        return f"<ember.reduce({self.op!r}) {self.__qualname__} {self.signatures}>"

    def _pickle_options(self):
        return {"op": self.op, "fastmath": self.fastmath, "cache": self.cache}

    def _no_ufunc_method(name):
        def method(self):
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}' "
                                 "(ufunc methods belong to @ember.vectorize functions)")
        return property(method)

    reduce = _no_ufunc_method("reduce")
    accumulate = _no_ufunc_method("accumulate")
    outer = _no_ufunc_method("outer")
    at = _no_ufunc_method("at")
    del _no_ufunc_method

    @property
    def identity(self):
        """The operator's identity, as numpy.add.identity (None for min/max)."""
        return {"+": 0, "*": 1}.get(self.op)

    def _protocol_call(self, *args, **kwargs):
        return protocol.call_reduce(self, args, kwargs)

    def _mapped(self):
        """The map alone, as a @vectorize (for where= and masked reductions)."""
        if getattr(self, "_map", None) is None:
            self._map = Vectorized(self.py_func, (), self.fastmath, cache=self.cache)
        return self._map


_core.install_fast_call(Reduced)


def reduce(op: str, signatures: Signatures = (), *, fastmath: bool = False, target: str = "cpu",
           cache: bool = True) -> Callable[[Callable[..., Any]], Reduced]:
    """Compile a scalar function into a reduction: `@ember.reduce("+")`, or
    `@ember.reduce("+", ["float64(float64, float64)"])` to compile eagerly
    (the result type is the accumulator's; `ember aot build` exports these).

    op: "+", "*", "min" or "max". The decorated function is called like a
    ufunc on broadcast arguments, and its results are combined over all of
    them (`axis=None`, the default) or over the dimensions `axis=` names (an
    int or a tuple of ints). cache: keep the compiled code in the disk cache.
    """
    if callable(op):
        raise TypeError("@ember.reduce needs an operator first: @ember.reduce(\"+\")")
    if op not in _OPS:
        raise ValueError(f"unknown reduction operator {op!r}; choose one of "
                         f"{', '.join(repr(o) for o in _OPS)}")

    from .vectorize import _target_class
    cls = _target_class(target, Reduced, "CudaReduced")
    if isinstance(signatures, str):
        signatures = [signatures]

    def wrap(f):
        if not callable(f):
            raise TypeError(f"@ember.reduce needs a function, got {type(f).__name__}")
        return cls(f, op, fastmath, cache=cache, signatures=signatures)

    return wrap
