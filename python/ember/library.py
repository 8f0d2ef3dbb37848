"""ember.load: the functions of a library that `ember aot build` made,
callable from Python as the decorated functions are, without LLVM.

    lib = ember.load("build/libpricing.so")
    lib.price(s, k, t)            # broadcasting, out=, scalars, NumPy's errors
    lib.dot(x, y)                 # a reduction: axis= too
    lib.blur[a.shape](out, a)     # a kernel

Each function runs the library's code for the ISA the library selected
(EMBER_ISA forces one). Arguments are converted to the first signature the
library has that every argument casts to safely (NumPy's "safe" casting;
Python numbers by kind); none: a TypeError listing the signatures.
"""

import functools
import os

import numpy as np

from . import _core

__all__ = ["load", "Library"]


def load(path: "str | os.PathLike[str]") -> "Library":
    """The functions of the ahead-of-time library at `path` (a .so)."""
    return Library(path)


class _Convert(Exception):
    """Raised by a dispatcher's compile callback when no signature takes the
    arguments' dtypes as they are: the call converts them and retries."""


def _casts(value, dtype):
    """Whether `value` converts to `dtype` without loss of kind or range."""
    if isinstance(value, bool):
        return dtype.kind == "b" or dtype.kind in "iuf"
    if isinstance(value, int):
        return dtype.kind in "iu" and np.can_cast(np.min_scalar_type(value), dtype) or \
            dtype.kind == "f"
    if isinstance(value, float):
        return dtype.kind == "f"
    return np.can_cast(np.asarray(value).dtype, dtype, "safe")


class _Loaded:
    """What the functions of a library share: their signatures and choice."""

    def _setup(self, name, exports, where):
        self.__name__ = self.__qualname__ = name
        # [(signature, [(dtype, ndim)], Kernel, a kernel's any-stride variant)], in the library's order
        self._exports = exports
        self._where = where

    @property
    def signatures(self):
        return [s for s, _, _, _ in self._exports]

    _in_place = False  # a kernel's arrays are written in place: never converted

    def _fits(self, value, dtype):
        if self._in_place and isinstance(value, np.ndarray):
            return value.dtype == dtype
        return _casts(value, dtype)

    def _pick(self, values):
        """The argument types of the signature that every value casts to,
        with the fewest arrays to convert (the first of those)."""
        fits = [types for _, types, _, _ in self._exports
                if len(types) == len(values) and all(self._fits(v, t) for v, (t, _) in zip(values, types))]
        if fits:
            return min(fits, key=lambda types: sum(isinstance(v, np.ndarray) and v.dtype != t
                                                   for v, (t, _) in zip(values, types)))
        given = ", ".join(type(v).__name__ if not hasattr(v, "dtype") else str(v.dtype)
                          for v in values)
        raise TypeError(f"{self.__name__}() of library {self._where} has no signature for "
                        f"({given}); it has: {'; '.join(self.signatures)}")


class LoadedFunction(_Loaded, _core.Dispatcher):
    """A @vectorize or @reduce function of a library."""

    def __init__(self, name, exports, where, reduce):
        self._setup(name, exports, where)
        _core.Dispatcher.__init__(self, name, len(exports[0][1]), self._compile, reduce)
        self._by_dtypes = {tuple(t for t, _ in types): kernel for _, types, kernel, _ in exports}

    def _compile(self, arg_types):
        kernel = self._by_dtypes.get(tuple(np.dtype(d) for d, _, _ in arg_types))
        if kernel is None:
            raise _Convert()
        return kernel

    def __call__(self, *args, **kwargs):
        try:  # arguments of a signature's dtypes run at once (the dispatcher keeps the key)
            return _core.Dispatcher.__call__(self, *args, **kwargs)
        except (_Convert, TypeError):  # a TypeError again below lists the signatures
            pass
        types = self._pick(args)
        args = [a if isinstance(a, np.ndarray) and a.dtype == t else np.asarray(a, dtype=t)
                for a, (t, _) in zip(args, types)]
        return _core.Dispatcher.__call__(self, *args, **kwargs)

    def _protocol_call(self, *args, **kwargs):
        raise TypeError(f"{self.__name__}() of a loaded library takes out= (or axis= for a "
                        f"reduction) only, got {sorted(kwargs)}")

    def __repr__(self):
        return f"<ember.load function {self.__name__} {self.signatures}>"


class LoadedKernel(_Loaded, _core.Launcher):
    """A @kernel of a library: launch it with k[domain](*args)."""

    _in_place = True

    def __init__(self, name, exports, where):
        self._setup(name, exports, where)
        _core.Launcher.__init__(self, name, len(exports[0][1]), self._compile)

    def _compile(self, arg_types, domain):
        for signature, types, kernel, general in self._exports:
            if kernel.source.domain == domain and \
                    [(np.dtype(d), n) for d, _, n, _ in arg_types] == types:
                unit = all(u or n == 0 for _, _, n, u in arg_types)
                return kernel if unit or general is None else general
        raise _Convert()

    def launch(self, domain, *args):
        try:  # arguments of a signature's types run at once
            return _core.Launcher.launch(self, domain, tuple(args))
        except (_Convert, TypeError):
            pass
        types = self._pick(args)
        args = [a if isinstance(a, np.ndarray) or n else t.type(a) for a, (t, n) in zip(args, types)]
        _core.Launcher.launch(self, domain, tuple(args))

    def __getitem__(self, domain):
        return functools.partial(self.launch, domain)

    def __repr__(self):
        return f"<ember.load kernel {self.__name__} {self.signatures}>"


class Library:
    """The functions of one library, as attributes; `isa`: the ISA it runs."""

    def __init__(self, path):
        fields, self.isa, kernels = _core.open_library(str(path))
        self.path = str(path)
        self.name = fields["library"]
        groups, self._gpu = {}, set()
        for e, kernel in enumerate(kernels):
            p = f"export.{e}."
            if fields[p + "target"] != "cpu":
                self._gpu.add(fields[p + "python"])
            if fields[p + "internal"] == "1" or fields[p + "target"] != "cpu":
                continue
            signature = fields[p + "signature"]
            general = kernels[int(fields[p + "general"])] if fields[p + "general"] else None
            groups.setdefault((fields[p + "python"], fields[p + "kind"]), []).append(
                (signature, [(np.dtype(d), n) for d, n in kernel.source.param_types], kernel,
                 general))
        self._functions = {}
        for (name, kind), exports in groups.items():
            if kind == "kernel":
                self._functions[name] = LoadedKernel(name, exports, self.path)
            else:
                self._functions[name] = LoadedFunction(name, exports, self.path, kind == "reduce")

    def __getattr__(self, name):
        try:
            return self.__dict__["_functions"][name]
        except KeyError:
            if name in self.__dict__.get("_gpu", ()):
                raise AttributeError(f"{name} of library {self.path} is a GPU export, for C "
                                     "callers (device pointers and a stream); from Python, use "
                                     "the module's target='cuda' function") from None
            raise AttributeError(f"library {self.__dict__.get('path')} has no function {name!r} "
                                 f"(it has: {', '.join(sorted(self.__dict__.get('_functions', {})))})"
                                 ) from None

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._functions))

    def __repr__(self):
        return f"<ember.Library {self.path} ({self.isa}): {', '.join(self._functions)}>"
