"""Pickling ember functions by value (pickle, cloudpickle, multiprocessing, Dask).

A decorated function pickles as what a process without its file needs: the
function's source (the def without its decorators, or the lambda), where it
was (file and line, so that messages and line numbers stay the same), the
values of the free names it reads (as frozen at its first compile: numbers,
NumPy scalars and types, functions of math/NumPy by reference, modules by
name), its options, and the compiled artifacts of its specializations
(runtime/artifact.h). Unpickling rebuilds the function from the source once
per process (later unpickles of the same state return the same object), and
a specialization whose artifact this CPU can run is loaded instead of
compiled; one compiled for features the CPU lacks is compiled again.
"""

import ast
import builtins
import hashlib
import importlib
import inspect
import linecache
import pickle
import types

import numpy as np

from . import _core, frontend

__all__ = ["state", "rebuild"]

_FORMAT = 1
_rebuilt = {}  # digest of a state (artifacts left out) -> the object rebuilt from it
_virtual = {}  # file name -> the lines this process put into linecache for it


def _source(py_func):
    """(source text, absolute line of its first line) of the def (without
    decorators) or the lambda (as `__ember_lambda__ = ...`)."""
    src = frontend._parse(py_func)
    node = src.node
    if isinstance(node, ast.Lambda):
        return "__ember_lambda__ = " + ast.unparse(node) + "\n", src.loc(node)[0]
    first, last = node.lineno - 1, node.end_lineno
    lines = [" " * shift + line for line, shift in zip(src.lines[first:last], src.shifts[first:last])]
    text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    return text, src.first_line + first


def _shippable(value):
    """Whether `value` pickles as the frontend reads it (numbers, NumPy scalars
    and types, math and NumPy functions); modules travel by name instead."""
    if isinstance(value, (bool, int, float, np.generic)):
        return True
    if isinstance(value, type) and issubclass(value, np.generic):
        return True
    if isinstance(value, (types.BuiltinFunctionType, np.ufunc)) or inspect.isfunction(value):
        module = getattr(value, "__module__", None) or ""
        return module.split(".")[0] in ("math", "numpy", "builtins", "scipy", "cmath")
    return False


def _pack(value):
    if inspect.ismodule(value):
        return ("module", value.__name__)
    return ("value", value) if _shippable(value) else None


def _free_values(py_func, frozen):
    """Free name (or dotted name) -> (packed value, where) of what the
    frontend reads: the frozen values, else the current ones."""
    code = py_func.__code__
    values = {}
    for name in sorted(set(code.co_names) | set(code.co_freevars) | set(frozen)):
        if name in frozen:
            value, where = (frozen[name], "attribute") if "." in name else frozen[name]
        else:
            try:
                value, where = frontend.free_value(py_func, name)
            except LookupError:
                continue
        packed = _pack(value) if where != "builtin" else None
        if packed is not None:
            values[name] = (packed, where)
    return values


def state(obj):
    """What pickling `obj` (a Vectorized, Reduced or Kernel, any target) keeps."""
    py_func = obj.py_func
    source, line = _source(py_func)
    return {
        "format": _FORMAT,
        "class": (type(obj).__module__, type(obj).__qualname__),
        "name": py_func.__name__,
        "qualname": getattr(py_func, "__qualname__", py_func.__name__),
        "module": py_func.__module__,
        "filename": py_func.__code__.co_filename,
        "line": line,
        "source": source,
        "values": _free_values(py_func, obj._frozen),
        "options": obj._pickle_options(),
        "artifacts": [(types_key, kernel.key, kernel.artifact)
                      for types_key, kernel in obj._specializations() if kernel.artifact],
    }


def _unpack(packed, stubs):
    kind, value = packed
    if kind == "value":
        return value
    try:
        return importlib.import_module(value)
    except ImportError:  # not on this machine: a stand-in holding the frozen attributes
        return stubs.setdefault(value, types.ModuleType(value))


def _place(filename, lines, line):
    """The file name under which the frontend will find `lines` at `line`:
    the original file if this machine has it with those lines; else a
    virtual file in linecache (the original name, or a marked one where this
    machine has a different file or another function took those lines)."""
    for candidate in [filename] + [f"{filename} (pickled {i})" for i in range(1, 1000)]:
        current = _virtual.get(candidate)
        if current is None:
            real = linecache.getlines(candidate)
            if real:
                if real[line - 1:line - 1 + len(lines)] == lines:
                    return candidate
                continue
            current = []
        span = current[line - 1:line - 1 + len(lines)]
        if all(a == b or not a.strip() for a, b in zip(span, lines)):
            current += ["\n"] * max(0, line - 1 + len(lines) - len(current))
            current[line - 1:line - 1 + len(lines)] = lines
            _virtual[candidate] = current
            linecache.cache[candidate] = (sum(map(len, current)), None, current, candidate)
            return candidate
    raise pickle.UnpicklingError(f"too many versions of {filename} in one process")


def _function(st, values):
    """The Python function rebuilt from the source of `st`, its free names
    bound to `values` (as globals)."""
    source, line = st["source"], st["line"]
    filename = _place(st["filename"], source.splitlines(keepends=True), line)
    # The def (or lambda) on its original line; an indented def inside an
    # `if True:` keeps its columns.
    indented = source[:1].isspace()
    text = "\n" * (line - 1 - indented) + ("if True:\n" if indented else "") + source
    namespace = {"__name__": st["module"], "__builtins__": builtins}
    namespace.update({n: v for n, v in values.items() if "." not in n})
    exec(compile(text, filename, "exec"), namespace)
    fn = namespace["__ember_lambda__" if source.startswith("__ember_lambda__") else st["name"]]
    fn.__qualname__ = st["qualname"]
    return fn


def rebuild(st):
    """The ember function that `state()` described (pickle's reconstructor)."""
    if st.get("format") != _FORMAT:
        raise pickle.UnpicklingError(f"an ember function pickled in format {st.get('format')}, "
                                     f"this ember reads {_FORMAT}")
    shape = dict(st, artifacts=None)
    digest = hashlib.sha256(pickle.dumps(shape, protocol=4)).hexdigest()
    obj = _rebuilt.get(digest)
    if obj is None:
        stubs = {}
        values = {n: _unpack(packed, stubs) for n, (packed, _) in st["values"].items()}
        for name, value in values.items():  # dotted names' values, on the stand-ins
            head, _, attr = name.rpartition(".")
            if head in values and isinstance(values[head], types.ModuleType) and \
                    values[head] is stubs.get(values[head].__name__):
                setattr(values[head], attr, value)
        module_name, class_name = st["class"]
        cls = getattr(importlib.import_module(module_name), class_name)
        obj = cls(_function(st, values), **st["options"])
        for name, (_, where) in st["values"].items():
            obj._frozen[name] = values[name] if "." in name else (values[name], where)
        _rebuilt[digest] = obj
    for types_key, key, artifact in st["artifacts"]:
        obj._shipped.setdefault(types_key, (key, artifact))
    return obj


def load_shipped(obj, types_key):
    """The Kernel of a specialization that came with a pickled function, if
    this CPU can run it; else None (the caller compiles)."""
    shipped = obj._shipped.pop(types_key, None) if obj._shipped else None
    if shipped is None:
        return None
    key, artifact = shipped
    try:
        return _core.load_artifact_by_key(artifact, key, obj.py_func.__code__.co_filename)
    except _core.ArtifactError:
        return None

