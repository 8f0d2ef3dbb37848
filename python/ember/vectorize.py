"""@ember.vectorize: a scalar Python function compiled into a NumPy-style ufunc.

The call path lives in C++ (`_core.Dispatcher`): it converts the arguments,
looks the specialization up by (dtype, weak, layout) of each argument and
launches it with the GIL released. Only on a miss does it come back here, to
`_compile`, which runs the frontend and the compiler for that key.
"""

import logging
import re
import time
import weakref
from typing import Any, Callable, Optional, Sequence, Union, overload

import numpy as np

from . import _core, cache, frontend, helptext, logs, pickling, protocol, source, stages
from .errors import CompileError, from_build_error

__all__ = ["vectorize", "Vectorized"]

frontend_log = logging.getLogger("ember.frontend")


def _type_name(dtype, weak):
    # Python scalars are "weak" (NEP 50): shown as the Python type they came from.
    if weak:
        return {"int64": "int", "uint64": "int", "float64": "float", "bool": "bool"}[dtype]
    return dtype


class Vectorized(_core.Dispatcher):
    """A compiled elementwise function; call it like a NumPy ufunc."""

    _native = True  # compile host code (False: the GPU subclass, PTX only)

    def __init__(self, py_func, signatures=(), fastmath=False, *, cache=True, _combine=""):
        py_func = source.recovered(py_func)  # python -c, exec(), %%time cells
        names = frontend.check_signature(py_func)
        super().__init__(py_func.__name__, len(names), weak_method(self, "_compile"),
                         bool(_combine))
        self._names = names
        self.py_func = py_func
        self.fastmath = bool(fastmath)
        self._combine = _combine  # an IR operator name for a reduction
        self.cache = bool(cache)  # the disk cache (ember/cache.py)
        self._frozen = {}  # the globals and closure values read at the first compile
        self._shipped = {}  # arg types -> (key, artifact) that came with a pickle
        self.__name__ = py_func.__name__
        self.__qualname__ = getattr(py_func, "__qualname__", py_func.__name__)
        kind, fields = self._help()
        self.__doc__ = helptext.doc(py_func, kind, **fields)
        self.__wrapped__ = py_func
        self._compiled = []  # (signature text, arg types, Kernel), in compile order
        self._frontend_ms = {}  # Kernel key -> the frontend's time (None: not run), for reports
        self._eager = list(signatures)  # what `ember aot build` exports
        for signature in signatures:
            self._specialize_text(signature)

    def _help(self):
        return "vectorize", {}  # helptext.SUMMARIES's entry, and its fields

    def _compile(self, arg_types):
        timing = {}

        def specialization():
            start = time.perf_counter()
            fn = frontend.build_function(self.py_func, [(d, w) for d, w, _ in arg_types],
                                         frozen=self._frozen)
            timing["frontend"] = (time.perf_counter() - start) * 1e3
            frontend_log.debug("%s: frontend %.2f ms", self.__name__, timing["frontend"])
            return _core.elementwise_specialization(fn, [s for _, _, s in arg_types],
                                                    self.fastmath, self._combine)

        what = f"{type(self).__name__} {self._combine} {self.fastmath} {arg_types!r}"
        args = ", ".join(_type_name(d, w) for d, w, _ in arg_types)
        kernel, text = compile_or_load(self, tuple(map(tuple, arg_types)), what, specialization,
                                       lambda kernel: f"{kernel.output_dtype}({args})")
        self._compiled.append((text, list(arg_types), kernel))
        self._frontend_ms[kernel.key] = timing.get("frontend")
        return kernel

    @property
    def signatures(self):
        """The specializations compiled so far, as 'result(arg, ...)' strings."""
        seen = []
        for text, _, _ in self._compiled:
            if text not in seen:
                seen.append(text)
        return seen

    def _specialize_text(self, signature):
        result, types = self._parse_signature(signature)
        kernel = self.specialize(types)
        if result and result != kernel.output_dtype:
            raise TypeError(f"signature {signature!r} declares a {result} result but "
                            f"{self.__name__}() returns {kernel.output_dtype} for these arguments")
        return kernel

    def _parse_signature(self, signature):
        """(declared result or None, [(dtype, weak, scalar layout), ...])."""
        if not isinstance(signature, str):
            raise TypeError(f"signature must be a string such as 'float32(float32, float32)', "
                            f"not {type(signature).__name__}")
        match = re.fullmatch(r"\s*(?:(\w+)\s*)?\(([^()]*)\)\s*", signature)
        if not match:
            raise ValueError(f"bad signature {signature!r}; expected e.g. "
                             "'float32(float32, float32)'")
        result, args = match.group(1), [a.strip() for a in match.group(2).split(",") if a.strip()]
        weak_names = {"int": "int64", "float": "float64"}
        types = [(weak_names.get(a, a), a in weak_names, False) for a in args]
        if len(types) != len(frontend.check_signature(self.py_func)):
            raise TypeError(f"signature {signature!r} has {len(types)} arguments but "
                            f"{self.__name__}() takes {len(frontend.check_signature(self.py_func))}")
        return result, types

    def inspect(self, stage=None, signature=None, arch=None):
        """The code of one specialization: a report, or the text of one stage.

        No stage: an ember.report.Report (shown in notebooks as HTML): every
        Python line with what it became and LLVM's remarks on it, and every
        stage. stage: "ir" (after the compiler's passes), "source-ir" (as the
        frontend built it), "llvm" (optimized LLVM IR), "asm" (assembly;
        both for the host, or for x86 CPU `arch` by LLVM's name, e.g.
        "znver4"), "ptx" (CUDA code for GPU architecture `arch`, e.g.
        "sm_90"; no GPU needed) or "cuda-llvm" (the GPU module's LLVM IR).
        signature: e.g. "float64(float64, float64)" or just
        "(float64, float64)"; compiled on demand. Default: the latest
        specialization.
        """
        if stage is not None:
            stages.check(stage)  # before compiling anything
        if signature is not None:
            kernel = self._specialize_text(signature)
        elif self._compiled:
            kernel = self._compiled[-1][2]
        else:
            raise ValueError(f"{self.__name__} has no compiled specialization yet: call it "
                             "first or pass signature='float64(float64, ...)'")
        if stage is None:
            from .report import Report
            text = next(t for t, _, k in self._compiled if k.key == kernel.key)
            return Report(self, kernel, text, self.signatures, arch)
        return stages.text(kernel, stage, arch)

    def __repr__(self):
        return f"<ember.vectorize {self.__qualname__} {self.signatures}>"

    def __bool__(self):
        return True  # len() counts specializations; a function is never false

    # NumPy's ufunc attributes (as numpy.ufunc has them; one output, no
    # gufunc signature, no identity for a map).
    nout = 1
    identity = None
    signature = None

    @property
    def nin(self):
        return len(self._names)

    @property
    def nargs(self):
        return self.nin + self.nout

    @property
    def types(self):
        """The compiled loops as NumPy writes them: 'dd->d' (Python numbers
        as the NumPy type they computed in)."""
        loops = [f"{''.join(np.dtype(d).char for d, _, _ in types)}->"
                 f"{np.dtype(text.split('(')[0]).char}" for text, types, _ in self._compiled]
        return list(dict.fromkeys(loops))  # each loop once, in compile order

    @property
    def ntypes(self):
        return len(self.types)

    def _protocol_call(self, *args, **kwargs):
        return protocol.call_map(self, args, kwargs)

    # numpy.ufunc's methods (python/ember/protocol.py): folds left to right,
    # as for a ufunc that is not reorderable.
    def reduce(self, array, axis=0, dtype=None, out=None, keepdims=False,
               initial=protocol._NO_VALUE, where=True):
        """Folds a binary function along one axis: f(f(a[0], a[1]), a[2])...
        (numpy.ufunc.reduce's arguments; where= needs initial=, as NumPy's
        functions without an identity do)."""
        return protocol.ufunc_reduce(self, array, axis, dtype, out, keepdims, initial, where)

    def accumulate(self, array, axis=0, dtype=None, out=None):
        """Every partial fold along one axis, as numpy.ufunc.accumulate."""
        return protocol.ufunc_accumulate(self, array, axis, dtype, out)

    def outer(self, a, b):
        """f(a_i, b_j) for every pair: shape a.shape + b.shape."""
        return protocol.ufunc_outer(self, a, b)

    def at(self, a, indices, b=None):
        """a[indices] = f(a[indices], b) in place, once per index (unbuffered)."""
        protocol.ufunc_at(self, a, indices, b)

    def __reduce__(self):
        return pickling.rebuild, (pickling.state(self),)

    def _pickle_options(self):
        return {"fastmath": self.fastmath, "cache": self.cache}

    def _specializations(self):
        return [(tuple(map(tuple, types)), kernel) for _, types, kernel in self._compiled]


_core.install_fast_call(Vectorized)


def weak_method(obj, name):
    """obj.<name>, reached through a weak reference: the C++ dispatcher keeps
    this callable, and a bound method would make a cycle through C++ that
    the garbage collector cannot see (a deleted function would never be
    freed, nor its compiled code)."""
    ref = weakref.ref(obj)

    def call(*args):
        return getattr(ref(), name)(*args)

    return call


def compile_or_load(fn, shipped_key, what, specialization, describe):
    """The Kernel of one specialization of ember function `fn` (a Vectorized
    or a Kernel) and its signature text (`describe(kernel)`), logged at INFO:
    the code that came with its pickle (`shipped_key`), else through the
    disk cache's source index (`what`: its argument types and options; no
    frontend), else `specialization()` (the frontend) and the cache, else
    compiled (host code when `fn._native`). A user error the compiler finds
    (uint8 + 300) becomes a CompileError at the function's line."""
    start = time.perf_counter()
    kernel = pickling.load_shipped(fn, shipped_key)
    shipped = kernel is not None
    if not shipped:
        logs.sync()
        try:
            kernel = _compile_or_load(fn.py_func, what, fn._frozen, specialization, fn._native,
                                      fn.cache and fn._native)
        finally:
            logs.forward()
    text = describe(kernel)
    logs.compiled(fn.__qualname__, text, kernel, fn._native, (time.perf_counter() - start) * 1e3,
                  shipped)
    return kernel, text


def _compile_or_load(py_func, what, frozen, specialization, native, use_cache):
    source = cache.source_key(py_func, what) if use_cache else None
    found = cache.load_by_source(source, py_func, frozen)
    if found is not None:
        return found
    spec = specialization()

    def compile():
        from . import _jit  # LLVM loads at the first compile, not at import (nor on a hit)
        logs.sync()  # its loggers too, now that it is loaded
        return _jit.compile(spec, native)

    try:
        kernel = cache.kernel(spec, compile, use_cache)
    except _core.BuildError as e:
        raise from_build_error(e, py_func.__code__.co_filename) from None
    cache.remember(source, frozen, kernel)
    return kernel


def _target_class(target, cpu_class, gpu_name):
    """The class a decorator builds for `target` ("cpu" or "cuda")."""
    if target == "cpu":
        return cpu_class
    if target == "cuda":
        from . import gpu
        return getattr(gpu, gpu_name)
    raise ValueError(f"unknown target {target!r}; choose 'cpu' or 'cuda'")


Signatures = Union[str, Sequence[str]]  # "float32(float32, float32)", or a list of them


@overload
def vectorize(func: Callable[..., Any], signatures: Signatures = (), *, fastmath: bool = False,
              target: str = "cpu", cache: bool = True) -> "Vectorized": ...
@overload
def vectorize(func: Optional[Signatures] = None, signatures: Signatures = (), *,
              fastmath: bool = False, target: str = "cpu",
              cache: bool = True) -> Callable[[Callable[..., Any]], "Vectorized"]: ...
def vectorize(func=None, signatures=(), *, fastmath=False, target="cpu", cache=True):
    """Compile a scalar function into an elementwise, broadcasting kernel.

    Use as `@ember.vectorize`, `@ember.vectorize(fastmath=True)` or
    `@ember.vectorize(["float32(float32, float32)"])` to compile eagerly.
    target: "cpu" (every core) or "cuda" (an NVIDIA GPU; see ember.gpu).
    cache: keep the compiled code in the disk cache (ember.cache) for later
    processes.
    """
    cls = _target_class(target, Vectorized, "CudaVectorized")
    if isinstance(func, (list, tuple, str)):
        func, signatures = None, func
    if isinstance(signatures, str):
        signatures = [signatures]

    def wrap(f):
        if not callable(f):
            raise TypeError(f"@ember.vectorize needs a function, got {type(f).__name__}")
        return cls(f, signatures, fastmath, cache=cache)

    return wrap if func is None else wrap(func)
