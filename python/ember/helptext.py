"""What help() and IPython's `f?` show for a decorated function: pydoc
documents an instance by its __doc__ when it has one (else its class, whose
constructor says nothing about the user's function). The text is the
user's signature and docstring, then what ember made of it."""

import inspect
import textwrap

__all__ = ["doc"]

SUMMARIES = {
    "vectorize": "ember.vectorize: compiled to native code for each argument-type signature at "
                 "its first call (.signatures lists them, .inspect() shows the code), called like "
                 "a NumPy ufunc (broadcasting, out=, where=, dtype=, .reduce, .accumulate).",
    "reduce": "ember.reduce({op!r}): the function mapped over broadcast arrays, its values "
              "combined with {op} (axis=, keepdims=, out=, initial=, where=); the result does "
              "not depend on the thread count.",
    "kernel": "ember.kernel: runs once per index of a domain, name[shape](args...) or "
              ".launch(shape, args...), ember.tid() giving the index; .interpret(shape, "
              "args...) runs it through ember's IR interpreter.",
}


def doc(py_func, kind, **fields):
    """The __doc__ of `py_func` decorated as `kind` (a SUMMARIES key)."""
    try:
        head = f"{py_func.__name__}{inspect.signature(py_func)}"
    except (TypeError, ValueError):
        head = py_func.__name__
    parts = [head]
    if py_func.__doc__:
        parts.append(inspect.cleandoc(py_func.__doc__))
    code = py_func.__code__
    parts.append(textwrap.fill(SUMMARIES[kind].format(**fields) +
                               f" Defined at {code.co_filename}:{code.co_firstlineno}.", 76,
                               break_long_words=False, break_on_hyphens=False))
    return "\n\n".join(parts)
