"""A function's source where Python keeps no file: ember compiles from the
source, which `inspect` reads through `linecache`. Where that finds
nothing, the decorators look for the text before giving up:

- `python -c CODE`: the command line (`sys.orig_argv`);
- `exec(text)`: the calling frames' string constants and local variables
  (the text passed to exec, or the variable holding it); this also finds
  the cell of IPython's `%%timeit`, which its magic holds;
- IPython's `%%time` cells: the cell, from IPython's input history;
- the Python 3.13+ REPL and notebook cells register their text in
  `linecache` themselves.

A candidate counts only if compiling it gives the function's own code
object (same name, first line, bytecode, constants and names). The text found goes into
`linecache`, under the function's file name, or under a new name
("<string> (exec 2)") when another text already has that one, in which
case the function is given a copy of its code naming that file. Error
messages, the disk cache's source index and pickling then read it like a
file's.
"""

import inspect
import linecache
import sys
import types

__all__ = ["recovered", "defines"]

_FRAMES = 40  # how far out from the decorator to look for exec's text


def _codes(code):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def defines(text, filename, target):
    """Whether compiling `text` gives code object `target` (as the function's)."""
    try:
        compiled = compile(text, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    # The constants and names too: `x + 1` and `x + 100` have the same bytecode.
    return any(c.co_name == target.co_name and c.co_firstlineno == target.co_firstlineno
               and c.co_code == target.co_code and c.co_consts == target.co_consts
               and c.co_names == target.co_names for c in _codes(compiled))


def _candidates(filename):
    """Texts that may hold the source of code from `filename`."""
    argv = getattr(sys, "orig_argv", [])
    if filename == "<string>" and "-c" in argv[:-1]:
        yield argv[argv.index("-c") + 1]
    if filename == "<timed exec>":  # IPython's %%time: the cell after its magic line
        ipython = sys.modules.get("IPython")
        shell = ipython.get_ipython() if ipython else None
        if shell is not None and shell.history_manager.input_hist_raw:
            cell = shell.history_manager.input_hist_raw[-1]
            yield cell.split("\n", 1)[1] if "\n" in cell else ""
    frame = sys._getframe(2)
    for _ in range(_FRAMES):
        if frame is None:
            break
        for value in list(frame.f_code.co_consts) + list(frame.f_locals.values()):
            if isinstance(value, str) and ("def " in value or "lambda" in value):
                yield value
        frame = frame.f_back


def _register(filename, text):
    """The file name under which linecache now holds `text`."""
    lines = text.splitlines(True)
    for n in range(1, 1000):
        name = filename if n == 1 else f"{filename} (exec {n})"
        held = linecache.cache.get(name)
        if held is None or held[2] == lines:
            linecache.cache[name] = (len(text), None, lines, name)
            return name
        if n == 1 and not linecache.getlines(filename):
            linecache.cache[name] = (len(text), None, lines, name)  # an entry with no lines
            return name
    raise RuntimeError(f"too many sources named {filename}")


def recovered(py_func):
    """`py_func`, or a copy of it whose source ember can read (see above);
    `py_func` itself when no source is found (the frontend then says what
    to do)."""
    code = getattr(py_func, "__code__", None)
    if code is None:
        return py_func
    pseudo = code.co_filename.startswith("<")  # "<string>", "<stdin>", ...: no file behind it
    if pseudo:
        held = linecache.cache.get(code.co_filename)
        if held and defines("".join(held[2]), code.co_filename, code):
            return py_func  # another exec's text may hold that name: it must be this one
    else:
        try:
            inspect.getsourcelines(py_func)
            return py_func
        except (OSError, TypeError):
            pass
    try:
        text = next((t for t in _candidates(code.co_filename)
                     if defines(t, code.co_filename, code)), None)
    except Exception:  # an odd frame or history: no source, as before
        return py_func
    if text is None:
        return py_func
    name = _register(code.co_filename, text)
    if name == code.co_filename:
        return py_func
    copy = types.FunctionType(code.replace(co_filename=name), py_func.__globals__,
                              py_func.__name__, py_func.__defaults__, py_func.__closure__)
    copy.__qualname__, copy.__module__ = py_func.__qualname__, py_func.__module__
    copy.__doc__, copy.__kwdefaults__ = py_func.__doc__, py_func.__kwdefaults__
    copy.__dict__.update(py_func.__dict__)
    return copy
