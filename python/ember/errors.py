"""User-facing compile errors: a message that points at the offending line.

Every error a user can cause while ember turns a Python function into a
kernel (unsupported syntax, unknown functions, type conflicts found by the C++
builder) is raised as `CompileError`. Its text is the familiar compiler form

    path/to/file.py:12:12: unsupported Python construct: list display
        return [x, y]
               ^

Line numbers are absolute lines of the file (1-based); columns are 1-based
character offsets into that line, so that editors can jump to them.
"""

import linecache

__all__ = ["CompileError", "CudaError", "CudaOutOfMemoryError", "from_build_error"]


def wrong_arg_count(name, nargs, given):
    """The TypeError of a call with `given` arguments to name() of `nargs`, in Python's words."""
    return TypeError(f"{name}() takes {nargs} argument{'' if nargs == 1 else 's'} but {given} "
                     f"{'was' if given == 1 else 'were'} given")


class CudaError(RuntimeError):
    """A CUDA driver call failed, or there is no usable driver.

    Attributes: name (the driver's error name, e.g. "CUDA_ERROR_NO_DEVICE",
    or "no CUDA driver"), code (its CUresult; -1 without a driver).
    """

    def __init__(self, message, name="", code=-1):
        super().__init__(message)
        self.name = name
        self.code = code


class CudaOutOfMemoryError(CudaError, MemoryError):
    """The GPU has not enough free memory for an allocation (the message says
    how much was asked for and how much is free)."""


class CompileError(Exception):
    """A kernel could not be compiled because of the user's code.

    Attributes: message (str), filename (str or None), lineno (int or None,
    1-based), col (int or None, 1-based), source_line (the raw line of the
    file, or None when it is not available).
    """

    def __init__(self, message, filename=None, lineno=None, col=None, source_line=None):
        super().__init__(message)
        self.message = message
        self.filename = filename
        self.lineno = lineno
        self.col = col
        if source_line is None and filename and lineno:
            source_line = linecache.getline(filename, lineno) or None
        self.source_line = source_line.rstrip("\r\n") if source_line else None

    def __str__(self):
        head = self.message
        if self.filename:
            where = [self.filename] + [str(v) for v in (self.lineno, self.col) if v]
            head = ":".join(where) + ": " + self.message
        if not self.source_line or not self.source_line.strip():
            return head
        return head + "\n" + _quote(self.source_line, self.col)

    def __reduce__(self):
        # Keep the location when the error crosses a process boundary (pickle).
        return (type(self), (self.message, self.filename, self.lineno, self.col, self.source_line))


def _quote(line, col):
    """The source line, indentation dropped, with a caret under column `col`."""
    text = line.lstrip()
    indent = len(line) - len(text)
    out = "    " + text
    if col:
        out += "\n    " + " " * max(col - 1 - indent, 0) + "^"
    return out


def from_build_error(error, filename):
    """Converts `ember._core.BuildError` (args: message, line, col) to CompileError."""
    message, lineno, col = (tuple(error.args) + (None, None, None))[:3]
    return CompileError(str(message), filename, lineno or None, col or None)
