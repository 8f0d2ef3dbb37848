"""@ember.kernel: one logical thread per index of a 1-, 2- or 3-d domain.

    @ember.kernel
    def scale(out, x, a):
        i = ember.tid()
        out[i] = a * x[i]

    scale[x.shape](out, x, 2.0)        # or scale.launch(x.shape, out, x, 2.0)

Arrays are passed in place (stores are visible to the caller). The call
path is C++ (`_core.Launcher`): it keys the specialization on the dtype and
rank of every argument and the domain's rank, and runs the kernel split
across the thread pool with the GIL released; only a miss comes back here.
Indices are unchecked unless `boundscheck=True` (then an out-of-range index
raises IndexError naming the array, the index and the shape).
"""

import functools
import re
import time
from typing import Any, Callable, Optional, overload


from . import _core, helptext, kernel_frontend, pickling, source, stages
from .errors import from_build_error
from .frontend import check_signature
from .vectorize import Signatures, compile_or_load, frontend_log, weak_method

__all__ = ["kernel", "Kernel", "tid", "atomic_add", "atomic_min", "atomic_max"]

def _outside(name):
    return RuntimeError(f"ember.{name}() can only be called inside an @ember.kernel function")


def tid() -> Any:
    """Inside a kernel: the index of the running logical thread (an int for a
    1-d domain, a tuple of ints for 2-d and 3-d)."""
    raise _outside("tid")


def atomic_add(array: Any, index: Any, value: Any) -> None:
    """Inside a kernel: array[index] += value, atomically (int32, int64,
    uint32, uint64, float32 and float64 arrays)."""
    raise _outside("atomic_add")


def atomic_min(array: Any, index: Any, value: Any) -> None:
    """Inside a kernel: array[index] = min(array[index], value), atomically."""
    raise _outside("atomic_min")


def atomic_max(array: Any, index: Any, value: Any) -> None:
    """Inside a kernel: array[index] = max(array[index], value), atomically."""
    raise _outside("atomic_max")


class Kernel(_core.Launcher):
    """A compiled @ember.kernel; launch it with k[domain](*args)."""

    _native = True  # compile host code (False: the GPU subclass, PTX only)

    def __init__(self, py_func, boundscheck=False, fastmath=False, *, cache=True, signatures=()):
        py_func = source.recovered(py_func)  # python -c, exec(), %%time cells
        names = check_signature(py_func)
        super().__init__(py_func.__name__, len(names), weak_method(self, "_compile"))
        self._names = names
        self.py_func = py_func
        self.boundscheck = bool(boundscheck)
        self.fastmath = bool(fastmath)
        self.cache = bool(cache)  # the disk cache (ember/cache.py)
        self._frozen = {}  # the globals and closure values read at the first compile
        self._shipped = {}  # (arg types, domain rank) -> (key, artifact) from a pickle
        self.__name__ = py_func.__name__
        self.__qualname__ = getattr(py_func, "__qualname__", py_func.__name__)
        self.__doc__ = helptext.doc(py_func, "kernel")
        self.__wrapped__ = py_func
        self._compiled = []  # (signature text, Kernel), in compile order
        self._frontend_ms = {}  # Kernel key -> the frontend's time (None: not run), for reports
        self._by_types = {}  # (arg types, domain rank) -> Kernel: launches and inspect(args=)
        self._eager = list(signatures)  # what `ember aot build` exports
        for signature in signatures:
            self._compile(*self._parse_signature(signature))

    def _compile(self, arg_types, domain):
        key = (tuple(map(tuple, arg_types)), domain)
        if key not in self._by_types:
            self._by_types[key] = self._build(arg_types, domain)
        return self._by_types[key]

    def _parse_signature(self, signature):
        """(arg types, domain rank) of a signature such as
        "[2](float64[:, :], float64[:, :], float64)": the domain's rank in
        brackets (1 if left out), then each parameter's type, an array's with
        one ':' per dimension. Arrays are compiled for a contiguous last axis."""
        if not isinstance(signature, str):
            raise TypeError(f"signature must be a string such as '[1](float64[:], float64)', "
                            f"not {type(signature).__name__}")
        match = re.fullmatch(r"\s*(?:\[\s*([123])\s*(?:-d)?\s*\])?\s*\((.*)\)\s*", signature)
        items = re.findall(r"\s*(\w+)\s*(\[[^\]]*\])?\s*(?:,|$)", match.group(2)) if match else []
        def bare(text):
            return re.sub(r"[\s,]", "", text)
        if not match or bare("".join(d + b for d, b in items)) != bare(match.group(2)):
            raise ValueError(f"bad kernel signature {signature!r}; expected e.g. "
                             "'[2](float64[:, :], float64[:, :], float64)'")
        if len(items) != len(self._names):
            raise TypeError(f"signature {signature!r} has {len(items)} arguments but "
                            f"{self.__name__}() takes {len(self._names)}")
        weak_names = {"int": "int64", "float": "float64"}
        types = []
        for dtype, dims in items:
            ndim = dims.count(":") or dims.count("x")
            if dims and not ndim:
                raise ValueError(f"bad array type {dtype}{dims} in {signature!r}; write "
                                 f"{dtype}[:] or {dtype}[:, :]")
            types.append((weak_names.get(dtype, dtype), dtype in weak_names, ndim, bool(ndim)))
        return types, int(match.group(1) or 1)

    def _build(self, arg_types, domain):
        timing = {}

        def specialization():
            start = time.perf_counter()
            fn = kernel_frontend.build_kernel(self.py_func, [t[:3] for t in arg_types], domain,
                                              self._frozen)
            timing["frontend"] = (time.perf_counter() - start) * 1e3
            frontend_log.debug("%s: frontend %.2f ms", self.__name__, timing["frontend"])
            return _core.kernel_specialization(fn, self.boundscheck, self.fastmath,
                                               [bool(t[3]) for t in arg_types])

        what = (f"{type(self).__name__} {self.boundscheck} {self.fastmath} {domain} "
                f"{[tuple(t) for t in arg_types]!r}")
        # An array whose last axis is not contiguous has its own code: "strided".
        args = ", ".join(f"{d}[{'x' * n}{'' if unit else ' strided'}]" if n else d
                         for d, _, n, unit in arg_types)
        compiled, text = compile_or_load(self, (tuple(map(tuple, arg_types)), domain), what,
                                         specialization, lambda _: f"[{domain}-d]({args})")
        self._compiled.append((text, compiled))
        self._frontend_ms[compiled.key] = timing.get("frontend")
        return compiled

    def launch(self, domain, *args):
        """Runs the kernel once per index of `domain` (an int or a tuple of 1 to 3 ints)."""
        _core.Launcher.launch(self, domain, args)

    def __getitem__(self, domain):
        return functools.partial(self.launch, domain)

    def __call__(self, *args, **kwargs):
        raise TypeError(f"a kernel runs over a domain: {self.__name__}[shape](...) or "
                        f"{self.__name__}.launch(shape, ...)")

    def interpret(self, domain, *args):
        """Runs the kernel through ember's reference IR interpreter instead
        (slow; every index bounds-checked): the oracle of the tests."""
        types, rank = self.arg_types(domain, tuple(args))  # as a launch converts them
        fn = kernel_frontend.build_kernel(self.py_func, [t[:3] for t in types], rank,
                                          self._frozen)
        try:
            _core.interpret_kernel(fn, domain, tuple(args))
        except _core.BuildError as e:  # a user error the passes found, as a launch reports it
            raise from_build_error(e, self.py_func.__code__.co_filename) from None

    def _types(self, domain, args):
        """(arg types, domain rank) of a launch, as _compile takes them."""
        return self.arg_types(domain, args)

    @property
    def signatures(self):
        """The specializations compiled so far: '[domain rank](arg types)',
        as '[1-d](float64[x], float64[xx strided])' (a 1-d array with a
        contiguous axis, a 2-d one whose last axis is not contiguous)."""
        return [text for text, _ in self._compiled]

    def inspect(self, stage=None, arch=None, *, domain=None, args=None, signature=None):
        """The code of a specialization: with no stage, a report (an
        ember.report.Report: every Python line with what it became, LLVM's
        remarks, every stage; HTML in notebooks); "ir" (after the compiler's passes),
        "source-ir" (as the frontend built it), "llvm", "asm" (for the host,
        or for x86 CPU `arch` by LLVM's name, e.g. "znver4"), "ptx" (CUDA
        code for GPU architecture `arch`, e.g. "sm_90"; no GPU needed) or
        "cuda-llvm". By default the latest compiled specialization's; with
        `domain` and `args` (arrays and numbers, as k[domain](*args) takes
        them), that launch's, compiled without running it (so a
        target="cuda" kernel's PTX needs no GPU) and kept for the launch;
        with `signature` ("[2](float64[:, :], float64)"), that one's."""
        if stage is not None:
            stages.check(stage)  # before compiling anything
        if (domain is None) != (args is None):
            raise TypeError("inspect() takes domain= and args= together (the launch to "
                            "compile), or neither (the latest compiled specialization)")
        if signature is not None:
            compiled = self._compile(*self._parse_signature(signature))
        elif args is not None:
            compiled = self._compile(*self._types(domain, tuple(args)))
        elif not self._compiled:
            raise ValueError(f"{self.__name__} has no compiled specialization yet: launch it "
                             "first, or pass domain= and args=")
        else:
            compiled = self._compiled[-1][1]
        if stage is None:
            from .report import Report
            text = next(t for t, k in self._compiled if k.key == compiled.key)
            return Report(self, compiled, text, self.signatures, arch)
        return stages.text(compiled, stage, arch)

    def __repr__(self):
        return f"<ember.kernel {self.__qualname__} {self.signatures}>"

    def __bool__(self):
        return True  # len() counts specializations; a kernel is never false

    def __reduce__(self):
        return pickling.rebuild, (pickling.state(self),)

    def _pickle_options(self):
        return {"boundscheck": self.boundscheck, "fastmath": self.fastmath, "cache": self.cache}

    def _specializations(self):
        return list(self._by_types.items())


@overload
def kernel(func: Callable[..., Any], signatures: Signatures = (), *, boundscheck: bool = False,
           fastmath: bool = False, target: str = "cpu", cache: bool = True) -> "Kernel": ...
@overload
def kernel(func: Optional[Signatures] = None, signatures: Signatures = (), *,
           boundscheck: bool = False, fastmath: bool = False, target: str = "cpu",
           cache: bool = True) -> Callable[[Callable[..., Any]], "Kernel"]: ...
def kernel(func=None, signatures=(), *, boundscheck=False, fastmath=False, target="cpu",
           cache=True):
    """Compile a function run once per index of a domain (see the module doc).

    Use as `@ember.kernel` or `@ember.kernel(boundscheck=True, fastmath=True)`;
    `@ember.kernel(["[2](float64[:, :], float64[:, :], float64)"])` compiles
    eagerly (the domain's rank in brackets, one ':' per array dimension;
    `ember aot build` exports these).
    target: "cpu" (every core) or "cuda" (an NVIDIA GPU; see ember.gpu).
    cache: keep the compiled code in the disk cache (ember.cache).
    """
    from .vectorize import _target_class
    cls = _target_class(target, Kernel, "CudaKernel")
    if isinstance(func, (list, tuple, str)):
        func, signatures = None, func
    if isinstance(signatures, str):
        signatures = [signatures]

    def wrap(f):
        if not callable(f):
            raise TypeError(f"@ember.kernel needs a function, got {type(f).__name__}")
        return cls(f, boundscheck, fastmath, cache=cache, signatures=signatures)

    return wrap if func is None else wrap(func)
