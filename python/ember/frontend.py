"""Python frontend: turns a decorated Python function into ember IR.

The function's source is read with `inspect`, parsed with `ast`, and each
node is translated into a call on the C++ `ember._core.FunctionBuilder`,
which does all typing and checking (NumPy 2 promotion, weak Python scalars).
This module only decides *what* the Python code means:

  - names: parameters, local variables, then closure values, globals and
    builtins, read once at compile time (a global number becomes a constant);
  - calls: a table maps the Python callables themselves (math.sqrt, np.clip,
    abs, np.float32 ...) to IR operations, so any import alias works;
  - everything else raises `CompileError` pointing at the offending code.

Locations passed to the builder are (absolute file line, 1-based column).
"""

import ast
import builtins
import functools
import inspect
import linecache
import math
import operator
import sys
from dataclasses import dataclass

import numpy as np

from . import _core, source
from .errors import CompileError, from_build_error, wrong_arg_count

__all__ = ["build_function", "check_signature"]

# dtypes the IR has; NumPy scalar types outside this set are rejected.
_DTYPES = frozenset(
    ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
     "float32", "float64"])

# The float type NumPy computes math on integers in (ember uses float32 where
# NumPy would use float16), mirroring ir::float_for.
_FLOAT_FOR = {"bool": "float32", "int8": "float32", "uint8": "float32",
              "int16": "float32", "uint16": "float32"}

_LOOPS = "loops are not supported in @vectorize"

# Names for the error "unsupported Python construct: ...".
_CONSTRUCTS = {
    ast.List: "list display", ast.Tuple: "tuple", ast.Dict: "dict display",
    ast.Set: "set display", ast.ListComp: "list comprehension",
    ast.SetComp: "set comprehension", ast.DictComp: "dict comprehension",
    ast.GeneratorExp: "generator expression", ast.Subscript: "subscript",
    ast.Slice: "slice", ast.Starred: "starred expression", ast.Lambda: "lambda",
    ast.NamedExpr: "assignment expression (:=)", ast.JoinedStr: "f-string",
    ast.FormattedValue: "f-string", ast.Await: "await", ast.Yield: "yield",
    ast.YieldFrom: "yield from",
    ast.For: f"for loop ({_LOOPS})", ast.AsyncFor: f"for loop ({_LOOPS})",
    ast.While: f"while loop ({_LOOPS})", ast.Break: "break", ast.Continue: "continue",
    ast.FunctionDef: "nested function definition",
    ast.AsyncFunctionDef: "nested function definition", ast.ClassDef: "class definition",
    ast.Try: "try statement", ast.With: "with statement", ast.AsyncWith: "with statement",
    ast.Raise: "raise statement", ast.Assert: "assert statement", ast.Delete: "del statement",
    ast.Global: "global statement", ast.Nonlocal: "nonlocal statement",
    ast.Import: "import statement (import modules at the top of the file)",
    ast.ImportFrom: "import statement (import modules at the top of the file)",
    ast.AnnAssign: "annotated assignment",
}
# Newer syntax, where this Python has it (ember supports 3.9+).
for _name, _what in (("Match", "match statement"), ("TryStar", "try statement")):
    if hasattr(ast, _name):
        _CONSTRUCTS[getattr(ast, _name)] = _what


def _construct(node):
    """The name of a node's construct for error messages."""
    return _CONSTRUCTS.get(type(node)) or type(node).__name__.lower()

_BINARY = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div",
           ast.FloorDiv: "floordiv", ast.Mod: "mod", ast.Pow: "pow", ast.BitAnd: "and",
           ast.BitOr: "or", ast.BitXor: "xor", ast.LShift: "shl", ast.RShift: "shr"}
_UNARY = {ast.USub: "neg", ast.Not: "not", ast.Invert: "invert"}
_COMPARE = {ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt",
            ast.GtE: "ge"}
# Python's own operators, for expressions of Python numbers only (2**63,
# N * N for a global N): Python computes those before NumPy sees them.
_PY_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
              ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
              ast.Pow: operator.pow, ast.BitAnd: operator.and_, ast.BitOr: operator.or_,
              ast.BitXor: operator.xor, ast.LShift: operator.lshift, ast.RShift: operator.rshift}
_PY_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_,
             ast.Invert: operator.invert}
_PY_NUMBER = (bool, int, float)  # exactly these types: NumPy scalars are not weak
_COMPARE_NAMES = {ast.Is: "'is' comparison", ast.IsNot: "'is not' comparison",
                  ast.In: "'in' comparison", ast.NotIn: "'not in' comparison"}


# --- the function table ---------------------------------------------------------

@dataclass(frozen=True)
class _Fn:
    """How a Python callable becomes IR.

    kind: the suffix of the `_Translator.call_<kind>` method that emits it;
    op: the IR op (or dtype for casts); nargs: (min, max), max None = any;
    to_float: Python's math module computes in float64, so integer and bool
    arguments are converted first (NumPy functions follow NumPy's rules,
    which the builder applies).
    numpy: the function returns a NumPy scalar for Python scalar arguments,
    so its result is strong (np.sqrt(2) * float32 is float64).
    """
    kind: str
    op: str = ""
    nargs: tuple = (1, 1)
    to_float: bool = False
    numpy: bool = False  # NumPy returns NumPy scalars: a result is never weak


_MATH_UNARY = {n: n for n in (
    "sqrt cbrt exp exp2 expm1 log2 log10 log1p sin cos tan asin acos atan sinh cosh tanh "
    "asinh acosh atanh erf erfc isnan isinf isfinite").split()}
_NP_UNARY = {n: n for n in (
    "sqrt cbrt exp exp2 expm1 log log2 log10 log1p sin cos tan sinh cosh tanh erf erfc "
    "floor ceil trunc rint isnan isinf isfinite signbit").split()}
_NP_UNARY.update(arcsin="asin", arccos="acos", arctan="atan", arcsinh="asinh",
                 arccosh="acosh", arctanh="atanh", abs="abs", absolute="abs",
                 negative="neg", invert="invert", logical_not="not")
_MATH_BINARY = {"atan2": "atan2", "pow": "pow", "hypot": "hypot", "fmod": "fmod",
                "copysign": "copysign"}
_NP_BINARY = {
    "arctan2": "atan2", "power": "pow", "hypot": "hypot", "fmod": "fmod",
    "copysign": "copysign", "minimum": "minimum", "maximum": "maximum", "add": "add",
    "subtract": "sub", "multiply": "mul", "divide": "div", "true_divide": "div",
    "floor_divide": "floordiv", "remainder": "mod", "mod": "mod", "bitwise_and": "and",
    "bitwise_or": "or", "bitwise_xor": "xor", "left_shift": "shl", "right_shift": "shr",
    "equal": "eq", "not_equal": "ne", "less": "lt", "less_equal": "le", "greater": "gt",
    "greater_equal": "ge"}


def _base_table():
    table = {
        builtins.abs: _Fn("unary", "abs"),
        builtins.round: _Fn("round"),
        builtins.min: _Fn("fold", "min", (2, None)),
        builtins.max: _Fn("fold", "max", (2, None)),
        builtins.pow: _Fn("binary", "pow", (2, 2)),
        int: _Fn("cast", "int64"),
        float: _Fn("cast", "float64"),
        bool: _Fn("truth"),
        math.log: _Fn("log", "log", (1, 2), to_float=True),
        math.fabs: _Fn("fabs", to_float=True),
        np.fabs: _Fn("fabs", numpy=True),
        np.square: _Fn("square", numpy=True),
        np.positive: _Fn("identity", numpy=True),
        np.clip: _Fn("clip", nargs=(3, 3), numpy=True),
        np.where: _Fn("where", nargs=(3, 3), numpy=True),
        np.round: _Fn("round", numpy=True),
        np.around: _Fn("round", numpy=True),
        np.logical_and: _Fn("logical", "and", (2, 2), numpy=True),
        np.logical_or: _Fn("logical", "or", (2, 2), numpy=True),
        np.logical_xor: _Fn("logical", "xor", (2, 2), numpy=True),
    }
    # math.floor/ceil/trunc keep integers integers (Python returns an int).
    for name in ("floor", "ceil", "trunc"):
        table[getattr(math, name)] = _Fn("unary", name)
    groups = ((math, _MATH_UNARY, "unary", (1, 1), True),
              (math, _MATH_BINARY, "binary", (2, 2), True),
              (np, _NP_UNARY, "unary", (1, 1), False),
              (np, _NP_BINARY, "binary", (2, 2), False))
    for module, names, kind, nargs, to_float in groups:
        for name, op in names.items():
            fn = getattr(module, name, None)  # math.cbrt/exp2 are Python 3.11+
            if fn is not None:
                table[fn] = _Fn(kind, op, nargs, to_float, numpy=module is np)
    return table


_TABLE = _base_table()


def _lookup_function(obj):
    """The _Fn for a Python callable, or None."""
    if isinstance(obj, type) and issubclass(obj, np.generic):
        name = np.dtype(obj).name
        if name == "bool":
            return _Fn("truth")
        return _Fn("cast", name) if name in _DTYPES else None
    special = sys.modules.get("scipy.special")  # optional: erf/erfc if scipy is in use
    if special is not None and hasattr(special, "erfc") and special.erf not in _TABLE:
        _TABLE[special.erf] = _Fn("unary", "erf")
        _TABLE[special.erfc] = _Fn("unary", "erfc")
    try:
        return _TABLE.get(obj)
    except TypeError:  # unhashable objects are not functions we know
        return None


# --- reading the source -------------------------------------------------------------

@dataclass
class _Source:
    """A parsed function plus what maps its nodes back to file positions."""
    filename: str
    node: ast.AST            # the FunctionDef or Lambda
    first_line: int          # absolute line of line 1 of the parsed text
    lines: list              # the parsed text's lines
    shifts: list             # characters of indentation removed from each line

    def loc(self, node):
        """(absolute line, 1-based character column) of an AST node."""
        i = node.lineno - 1
        line, col = self.lines[i], node.col_offset  # col_offset counts UTF-8 bytes
        if not line.isascii():
            col = len(line.encode("utf-8")[:col].decode("utf-8", "replace"))
        return self.first_line + i, self.shifts[i] + col + 1


def _dedent(lines):
    """Removes the first line's indentation from every line that has it.

    Unlike textwrap.dedent this survives continuation lines indented less
    than the def (legal inside brackets), and it reports what it removed so
    that columns stay exact.
    """
    indent = lines[0][: len(lines[0]) - len(lines[0].lstrip())]
    out = [ln[len(indent):] if ln.startswith(indent) else ln for ln in lines]
    return out, [len(a) - len(b) for a, b in zip(lines, out)]


_NO_SOURCE_ADVICE = {
    "<stdin>": "code read from standard input (the interactive prompt of Python before 3.13, "
               "or python -) keeps no source: use Python 3.13's prompt, IPython or Jupyter, "
               "or put the function in a file",
    "<string>": "exec() of a string: ember looks for the text in the command line (python -c) "
                "and in the frames that called exec(), and found none; pass the text itself "
                "to exec(), or give it a name first: linecache.cache[name] = (len(src), None, "
                "src.splitlines(True), name); exec(compile(src, name, 'exec'))",
    "<magic-timeit>": "IPython's %%timeit runs the cell inside a function it makes: define "
                      "the function in a cell of its own, then time the call",
}


def _source_error(pyfunc, why):
    code = pyfunc.__code__
    advice = _NO_SOURCE_ADVICE.get(
        code.co_filename, "ember compiles a kernel from its Python source, so define it in a "
                          "file, a notebook cell, python -c or a string given to exec()")
    return CompileError(f"could not read the source of function '{code.co_name}' ({why}); "
                        + advice, code.co_filename, code.co_firstlineno)


def _check_held_text(pyfunc):
    """Code from exec() or compile() has a name ("<string>") that many texts
    share, and linecache may hold another one's text under it: compiling
    that would compile other code. The text must define this code."""
    code = pyfunc.__code__
    held = linecache.getlines(code.co_filename) if code.co_filename.startswith("<") else None
    if held and not source.defines("".join(held), code.co_filename, code):
        raise _source_error(pyfunc, f"the text Python keeps under the name {code.co_filename} is "
                                    "another exec's, and this function's text is gone")


def _parse_snippet(pyfunc):
    """The source lines inspect finds for `pyfunc`, parsed (None if they do not parse)."""
    try:
        lines, start = inspect.getsourcelines(pyfunc)
    except (OSError, TypeError) as e:
        raise _source_error(pyfunc, str(e)) from None
    text, shifts = _dedent(lines)
    try:
        tree = ast.parse("".join(text))
    except SyntaxError:
        return None
    return _Source(pyfunc.__code__.co_filename, tree, max(start, 1), text, shifts)


@functools.lru_cache(maxsize=32)
def _parse_text(text):
    # Parsing a large file for every specialization of a lambda costs more than compiling.
    return ast.parse(text)


def _parse_file(pyfunc):
    """The whole file holding `pyfunc`, parsed (for lambdas inside larger expressions)."""
    try:
        lines, _ = inspect.findsource(pyfunc)
        tree = _parse_text("".join(lines))
    except (OSError, TypeError, SyntaxError):
        return None
    return _Source(pyfunc.__code__.co_filename, tree, 1, lines, [0] * len(lines))


def _arg_names(args):
    return [a.arg for a in args.posonlyargs + args.args]


def _span(src, node):
    """((line, byte col), (end line, end byte col)) of a node, absolute, as co_positions."""
    lo, hi = node.lineno - 1, node.end_lineno - 1
    return ((src.first_line + lo, src.shifts[lo] + node.col_offset),
            (src.first_line + hi, src.shifts[hi] + node.end_col_offset))


def _find_lambda(src, code):
    """The Lambda node in `src` whose code object is `code`, or None."""
    want = list(code.co_varnames[: code.co_argcount])
    found = [n for n in ast.walk(src.node)
             if isinstance(n, ast.Lambda) and src.loc(n)[0] == code.co_firstlineno
             and _arg_names(n.args) == want]
    if len(found) > 1:
        # Several look-alikes on one line: keep those whose span holds the code's
        # instructions (positions are absolute lines and byte columns), innermost.
        positions = code.co_positions() if hasattr(code, "co_positions") else ()  # 3.11+
        spots = [p for p in positions if None not in p and (p[0], p[2]) != (p[1], p[3])]
        spans = {id(n): _span(src, n) for n in found}

        def covers(n):
            start, end = spans[id(n)]
            return all(start <= (p[0], p[2]) and (p[1], p[3]) <= end for p in spots)

        found = [n for n in found if covers(n)] or found
        found.sort(key=lambda n: (spans[id(n)][1][0] - spans[id(n)][0][0],
                                  spans[id(n)][1][1] - spans[id(n)][0][1]))
    return found[0] if found else None


def _parse(pyfunc):
    """Reads and parses the source of a function or lambda into a _Source."""
    if not inspect.isfunction(pyfunc):
        raise TypeError(f"ember can only compile Python functions, not {type(pyfunc).__name__}")
    code = pyfunc.__code__
    _check_held_text(pyfunc)
    wrapped = getattr(pyfunc, "__wrapped__", None)
    if wrapped is not None:  # inspect would read the wrapped function's source
        where = getattr(wrapped, "__code__", code)
        raise CompileError(
            f"'{code.co_name}' is a wrapper another decorator made around "
            f"'{getattr(wrapped, '__name__', wrapped)}' (functools.wraps); ember compiles the "
            "function itself: put the ember decorator directly above its def",
            where.co_filename, where.co_firstlineno)
    if code.co_name == "<lambda>":
        for src in (_parse_snippet(pyfunc), _parse_file(pyfunc)):
            node = _find_lambda(src, code) if src else None
            if node is not None:
                src.node = node
                return src
        raise _source_error(pyfunc, "the lambda could not be located in its source line")
    src = _parse_snippet(pyfunc)
    node = src.node.body[0] if src and src.node.body else None
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or node.name != code.co_name:
        raise _source_error(pyfunc, "its source does not parse as a function definition")
    if isinstance(node, ast.AsyncFunctionDef):
        raise _error(src, node, "unsupported Python construct: async function")
    src.node = node
    return src


def _error(src, node, message):
    line, col = src.loc(node)
    return CompileError(message, src.filename, line, col)


def _signature(src):
    """Parameter names of the parsed function; CompileError for what kernels lack."""
    args = src.node.args
    for arg, what in ((args.vararg, "*args"), (args.kwarg, "**kwargs")):
        if arg is not None:
            raise _error(src, arg, f"unsupported Python construct: {what} parameter "
                                   f"'{arg.arg}' (kernels take a fixed number of arguments)")
    if args.kwonlyargs:
        raise _error(src, args.kwonlyargs[0], "unsupported Python construct: keyword-only "
                                              f"parameter '{args.kwonlyargs[0].arg}'")
    if args.defaults:
        raise _error(src, args.defaults[0], "default argument values are not supported in "
                                            "kernels")
    return _arg_names(args)


def check_signature(pyfunc):
    """The parameter names of `pyfunc`; CompileError if it cannot be a kernel."""
    try:
        return _signature(_parse(pyfunc))
    except CompileError as e:
        error = e.with_traceback(None)
    raise error from None


# --- translation ------------------------------------------------------------------------

# What `resolve` returns for names that are values computed by the kernel.
_KERNEL_VALUE = object()
_NOT_A_NUMBER = object()  # an expression that is not made of Python numbers only


def _is_ember_function(obj):
    return type(obj).__module__.startswith("ember.")


def _too_large(op, *args):
    """Whether Python's int result of op(*args) has more than 2**16 bits."""
    if not all(isinstance(a, int) for a in args):
        return False
    if op is operator.lshift:
        return args[1] > 1 << 16
    if op is operator.pow:
        return args[1] > 0 and abs(args[0]).bit_length() * args[1] > 1 << 16
    return False


def _describe(obj):
    """'a list', 'None', 'a module' ... for error messages."""
    if obj is None:
        return "None"
    if isinstance(obj, np.ndarray):
        return "a NumPy array (pass arrays as arguments instead)"
    if inspect.ismodule(obj):
        return "a module"
    if callable(obj) and not isinstance(obj, type):
        return "a function"
    name = obj.__name__ if isinstance(obj, type) else type(obj).__name__
    if isinstance(obj, type):
        return f"the type '{name}'"
    return ("an " if name[0] in "aeiou" else "a ") + name


def _stored_names(body):
    """Names assigned anywhere in the function: Python makes them local throughout."""
    return {n.id for stmt in body for n in ast.walk(stmt)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _first_store(body, name):
    """The first place (in source order) that assigns `name`."""
    stores = [n for stmt in body for n in ast.walk(stmt)
              if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and n.id == name]
    return min(stores, key=lambda n: (n.lineno, n.col_offset))


def _read_names(node):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


class _Translator(ast.NodeVisitor):
    """Walks one function's AST and drives the builder.

    Statement visitors return None; expression visitors return a `_core.Expr`.
    """

    def __init__(self, pyfunc, src, arg_types, domain=0, frozen=None):
        self.pyfunc = pyfunc
        self.src = src
        self.frozen = {} if frozen is None else frozen  # free name or dotted name -> value
        fn = src.node
        body = fn.body if isinstance(fn.body, list) else []
        self.locals = _stored_names(body)  # user variables, in the IR under their own names
        self.defined = set()               # locals assigned on every path so far
        self.returned = False              # the current block has returned
        self.params = {}                   # parameter name -> its Expr, when never reassigned
        self.ir_names = set(self.locals)   # every name in use in the IR
        self.numbers = {}                  # expression node -> its Python value, or _NOT_A_NUMBER
        name = "lambda" if isinstance(fn, ast.Lambda) else fn.name
        self.b = _core.FunctionBuilder(name, src.filename, *src.loc(fn), domain=domain)
        self._add_params(_signature(src), arg_types)

    # -- helpers

    def loc(self, node):
        return self.src.loc(node)

    def error(self, node, message):
        return _error(self.src, node, message)

    def fresh(self, base):
        """A name not yet used in the IR, for temporaries and renamed parameters."""
        k = 0
        while f"{base}_{k}" in self.ir_names:
            k += 1
        self.ir_names.add(f"{base}_{k}")
        return f"{base}_{k}"

    def expr(self, node):
        value = self.visit(node)
        if value is None:  # a statement-only node in expression position
            raise self.error(node, f"unsupported Python construct: {_construct(node)}")
        return value

    def block(self, stmts):
        for stmt in stmts:
            if self.returned:
                break  # unreachable code after a return is ignored, as Python never runs it
            self.visit(stmt)

    def generic_visit(self, node):
        raise self.error(node, f"unsupported Python construct: {_construct(node)}")

    # -- the function

    def _add_params(self, names, arg_types):
        if len(arg_types) != len(names):
            raise wrong_arg_count(self.pyfunc.__name__, len(names), len(arg_types))
        nodes = self.src.node.args.posonlyargs + self.src.node.args.args
        reassigned = []
        for name, node, (dtype, weak, ndim) in zip(names, nodes, arg_types):
            if ndim and name in self.locals:
                raise self.error(_first_store(self.src.node.body, name),
                                 f"array parameter '{name}' cannot be reassigned in a kernel "
                                 f"(assign to its elements, {name}[i] = ...)")
            if ndim:
                self.ir_names.add(name)
                self.params[name] = self.b.param(name, dtype, weak, *self.loc(node), ndim=ndim)
            elif name in self.locals:
                # Assigned in the body: the IR keeps a local of that name, so the
                # parameter itself gets another name, copied in on entry.
                expr = self.b.param(self.fresh(name), dtype, weak, *self.loc(node))
                reassigned.append((name, node, expr))
            else:
                self.ir_names.add(name)
                self.params[name] = self.b.param(name, dtype, weak, *self.loc(node))
        for name, node, expr in reassigned:
            self.b.assign(name, expr, *self.loc(node))
            self.defined.add(name)

    def build(self):
        fn = self.src.node
        if isinstance(fn, ast.Lambda):
            self.b.ret(self.expr(fn.body), *self.loc(fn.body))
        else:
            self.block(fn.body)
        return self.b.finish()

    # -- statements

    def visit_Pass(self, node):
        pass

    def visit_Expr(self, node):
        if isinstance(node.value, ast.Constant):
            return  # docstrings and other bare constants
        self.expr(node.value)  # no side effects in a kernel, but errors must surface

    def visit_Return(self, node):
        if node.value is None:
            raise self.error(node, "return without a value: a kernel must return a number")
        self.b.ret(self.expr(node.value), *self.loc(node))
        self.returned = True

    def visit_Assign(self, node):
        pairs = []
        for target in node.targets:
            pairs += self._pair_targets(target, node.value)
        self._assign(pairs, node)

    def visit_AugAssign(self, node):
        if not isinstance(node.target, ast.Name):
            raise self.error(node.target, "unsupported Python construct: augmented "
                                          f"assignment to {_construct(node.target)}")
        op = self._binary_op(node.op, node)
        value = self.b.binary(op, self.visit_Name(node.target),
                              self.expr(node.value), *self.loc(node))
        self._assign([(node.target, node.value, value)], node)

    def _pair_targets(self, target, value):
        """[(Name target, value node, None)] for `target = value`, tuples unpacked."""
        if isinstance(target, ast.Name):
            return [(target, value, None)]
        if isinstance(target, (ast.Tuple, ast.List)):
            if any(isinstance(t, ast.Starred) for t in target.elts):
                raise self.error(target, "unsupported Python construct: starred assignment")
            if not isinstance(value, (ast.Tuple, ast.List)) or len(value.elts) != len(
                    target.elts):
                raise self.error(value, "tuple assignment needs a tuple of "
                                        f"{len(target.elts)} values on the right-hand side")
            return [p for t, v in zip(target.elts, value.elts) for p in self._pair_targets(t, v)]
        raise self.error(target, f"unsupported Python construct: assignment to "
                                 f"{_construct(target)}")

    def _assign(self, pairs, node):
        """Assigns every pair, all right-hand sides evaluated first (Python semantics).

        An Expr reads variables when its statement runs, so a value that reads
        a variable assigned earlier in this same statement (`a, b = b, a`) is
        saved in a temporary first.
        """
        values = {}
        for target, value_node, value in pairs:
            if value is None and id(value_node) not in values:
                values[id(value_node)] = self.expr(value_node)
        plan, written, stored = [], set(), False
        for target, value_node, value in pairs:
            value = values[id(value_node)] if value is None else value
            reads_store = stored and any(isinstance(n, ast.Subscript) for n in ast.walk(value_node))
            if _read_names(value_node) & written or reads_store:
                temp = self.fresh(target.id if isinstance(target, ast.Name) else "item")
                self.b.assign(temp, value, *self.loc(value_node))
                value = self.b.read_var(temp, *self.loc(value_node))
            plan.append((target, value))
            if isinstance(target, ast.Name):
                written.add(target.id)
            else:
                stored = True  # an item assignment (kernels only)
        for target, value in plan:
            if not isinstance(target, ast.Name):
                self.store(target, value)
                continue
            self.b.assign(target.id, value, *self.loc(target))
            self.defined.add(target.id)

    def visit_If(self, node):
        # An elif chain (an if alone in the else of the one before) nests in
        # the IR as in Python's tree, but is walked in a loop: thousands of
        # branches would exceed Python's recursion limit.
        chain = [node]
        while len(chain[-1].orelse) == 1 and isinstance(chain[-1].orelse[0], ast.If):
            chain.append(chain[-1].orelse[0])
        before = set(self.defined)
        outcomes = []
        for i, link in enumerate(chain):
            self.defined = set(before)  # each test runs where the tests before it failed
            self.b.begin_if(self.expr(link.test), *self.loc(link))
            outcomes.append(self._branch(link.body, before))
            if i + 1 < len(chain) or link.orelse:
                self.b.begin_else()
        last = chain[-1]
        outcomes.append(self._branch(last.orelse, before) if last.orelse else (before, False))
        for _ in chain:
            self.b.end_if()
        # Only branches that fall through reach the code after the if.
        live = [d for d, returned in outcomes if not returned]
        self.defined = set.intersection(*live) if live else before
        self.returned = not live

    def _branch(self, stmts, before):
        self.defined, self.returned = set(before), False
        self.block(stmts)
        return self.defined, self.returned

    # -- names and values

    def visit_Name(self, node):
        name = node.id
        if name in self.locals:
            if name not in self.defined:
                why = ("is not assigned on every path to this point" if self.b.has_var(name)
                       else "is read before it is assigned")
                raise self.error(node, f"local variable '{name}' {why}")
            return self.b.read_var(name, *self.loc(node))
        if name in self.params:
            return self.params[name]
        obj, where = self.lookup(name, node)
        return self.value(obj, f"{where} '{name}'", node)

    def lookup(self, name, node):
        """(object, 'global' / 'closure variable' / 'builtin') a free name is bound
        to: as it was at the function's first compile (self.frozen keeps it)."""
        if name not in self.frozen:
            self.frozen[name] = self._lookup(name, node)
        return self.frozen[name]

    def _lookup(self, name, node):
        try:
            return free_value(self.pyfunc, name)
        except LookupError as e:
            raise self.error(node, str(e)) from None

    def value(self, obj, label, node):
        """A compile-time Python value as an IR constant."""
        line, col = self.loc(node)
        if isinstance(obj, np.generic) and obj.dtype.name in _DTYPES:
            # Checked first: np.float64 subclasses float, yet is not weak.
            if obj.dtype.kind == "b":
                return self.b.const_bool(bool(obj), line, col, weak=False)
            if obj.dtype.kind == "f":
                return self.b.const_float(float(obj), obj.dtype.name, False, line, col)
            return self.b.const_int(int(obj), obj.dtype.name, False, line, col)
        if isinstance(obj, bool):  # Python bools are weak too (NEP 50)
            return self.b.const_bool(obj, line, col, weak=True)
        if isinstance(obj, int):
            if -2**63 <= obj < 2**63:
                return self.b.const_int(obj, "int64", True, line, col)
            if 0 <= obj < 2**64:  # still a weak Python int, read as uint64 as NumPy 2 does
                return self.b.const_int(obj, "uint64", True, line, col)
            shown = f"{label} = {obj}" if "'" in label else f"{label} {obj}"
            hint = f" (as a float: {float(obj)!r})" if abs(obj) < 2**1000 else ""
            raise self.error(node, f"{shown} does not fit in int64 or uint64{hint}")
        if isinstance(obj, float):
            return self.b.const_float(obj, "float64", True, line, col)
        raise self.error(node, f"{label} is {_describe(obj)}; only numbers and NumPy scalars "
                               "can be used inside a kernel")

    def visit_Constant(self, node):
        if isinstance(node.value, (bool, int, float)):
            return self.value(node.value, "integer literal", node)
        what = {str: "string", bytes: "bytes", complex: "complex number"}.get(
            type(node.value), repr(node.value))
        raise self.error(node, f"unsupported Python construct: {what}")

    def visit_Attribute(self, node):
        return self.value(self.resolve(node), f"'{ast.unparse(node)}'", node)

    def resolve(self, node):
        """The Python object a name or dotted name (np.pi, math.sqrt) denotes at
        compile time, or _KERNEL_VALUE for a parameter or local variable."""
        if isinstance(node, ast.Name):
            if node.id in self.locals or node.id in self.params:
                return _KERNEL_VALUE
            return self.lookup(node.id, node)[0]
        base = self.resolve(node.value) if isinstance(node.value, (ast.Name, ast.Attribute)) \
            else _KERNEL_VALUE
        if not inspect.ismodule(base):
            raise self.error(node, f"unsupported Python construct: attribute "
                                   f"'{ast.unparse(node)}' (only attributes of modules, such "
                                   "as math.pi, can be used in a kernel)")
        dotted = ast.unparse(node)
        if dotted not in self.frozen:
            if not hasattr(base, node.attr):
                raise self.error(node, f"module '{ast.unparse(node.value)}' has no attribute "
                                       f"'{node.attr}'")
            self.frozen[dotted] = getattr(base, node.attr)
        return self.frozen[dotted]

    # -- operators

    def _binary_op(self, op, node):
        if type(op) not in _BINARY:
            raise self.error(node, "unsupported Python construct: matrix multiplication "
                                   "operator '@'")
        return _BINARY[type(op)]

    def python_number(self, node):
        """The value of an operator expression of Python numbers only (literals
        and names bound to them: -1, 2**63, N * N), computed by Python, as
        Python computes it before NumPy sees it; else _NOT_A_NUMBER."""
        if id(node) in self.numbers:
            return self.numbers[id(node)]
        value = _NOT_A_NUMBER
        if isinstance(node, ast.Constant):
            value = node.value if type(node.value) in _PY_NUMBER else _NOT_A_NUMBER
        elif isinstance(node, (ast.Name, ast.Attribute)):
            try:
                value = self.resolve(node)
            except CompileError:
                value = None  # reported where the name is compiled
            value = value if type(value) in _PY_NUMBER else _NOT_A_NUMBER
        elif isinstance(node, ast.UnaryOp):
            operand = self.python_number(node.operand)
            if operand is not _NOT_A_NUMBER:
                value = self._python_op(node, _PY_UNARY[type(node.op)], operand)
        elif isinstance(node, ast.BinOp) and type(node.op) in _PY_BINARY:
            left, right = self.python_number(node.left), self.python_number(node.right)
            if left is not _NOT_A_NUMBER and right is not _NOT_A_NUMBER:
                value = self._python_op(node, _PY_BINARY[type(node.op)], left, right)
        self.numbers[id(node)] = value
        return value

    def _python_op(self, node, op, *args):
        text = ast.unparse(node)
        if _too_large(op, *args):  # before Python spends minutes on it
            raise self.error(node, f"constant '{text}' is too large for any NumPy type")
        try:
            return op(*args)
        except (ArithmeticError, ValueError) as e:
            raise self.error(node, f"constant '{text}' fails in Python: {e}") from None

    def visit_BinOp(self, node):
        op = self._binary_op(node.op, node)
        number = self.python_number(node)
        if number is not _NOT_A_NUMBER:
            return self.value(number, f"constant '{ast.unparse(node)}'", node)
        if op == "pow":
            return self._power(self.expr(node.left), self.expr(node.right), node.right, node)
        return self.b.binary(op, self.expr(node.left), self.expr(node.right), *self.loc(node))

    def _power(self, base, exponent, exponent_node, node):
        """base ** exponent. NumPy takes an array to the power of the number
        0.5 as its square root (sqrt(-0.0) is -0.0 and sqrt(-inf) NaN, where
        IEEE pow gives 0.0 and inf); so does ember, for float operands."""
        if self.python_number(exponent_node) == 0.5 and not base.weak and \
                base.dtype in ("float32", "float64"):
            return self.b.unary("sqrt", base, *self.loc(node))
        return self.b.binary("pow", base, exponent, *self.loc(node))

    def visit_UnaryOp(self, node):
        number = self.python_number(node)
        if number is not _NOT_A_NUMBER:  # -1 is a literal, not neg(1)
            label = "integer literal" if isinstance(node.operand, ast.Constant) \
                else f"constant '{ast.unparse(node)}'"
            return self.value(number, label, node)
        if isinstance(node.op, ast.UAdd):
            return self.expr(node.operand)
        return self.b.unary(_UNARY[type(node.op)], self.expr(node.operand), *self.loc(node))

    def visit_Compare(self, node):
        loc = self.loc(node)
        left, result = self.expr(node.left), None
        for op, right_node in zip(node.ops, node.comparators):
            if type(op) not in _COMPARE:
                raise self.error(node, "unsupported Python construct: "
                                       f"{_COMPARE_NAMES[type(op)]}")
            right = self.expr(right_node)
            test = self.b.binary(_COMPARE[type(op)], left, right, *loc)
            result = test if result is None else self.b.binary("and", result, test, *loc)
            left = right
        return result

    def visit_BoolOp(self, node):
        # Python returns an operand, not a bool: `a and b` is `b if a else a`.
        loc = self.loc(node)
        result = self.expr(node.values[0])
        for value_node in node.values[1:]:
            value = self.expr(value_node)
            truth = self.b.truth(result, *loc)
            if isinstance(node.op, ast.And):
                result = self.b.select(truth, value, result, *loc)
            else:
                result = self.b.select(truth, result, value, *loc)
        return result

    def visit_IfExp(self, node):
        return self.b.select(self.expr(node.test), self.expr(node.body), self.expr(node.orelse),
                             *self.loc(node))

    # -- calls

    def visit_Call(self, node):
        name = ast.unparse(node.func)
        if node.keywords:
            kw = node.keywords[0]
            raise self.error(kw, f"keyword arguments are not supported in kernels "
                                 f"('{kw.arg or '**'}' in the call to {name})")
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.error(arg, "unsupported Python construct: starred argument")
            if isinstance(arg, (ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.DictComp)):
                raise self.error(arg, f"unsupported Python construct: {_construct(arg)}")
        if isinstance(node.func, ast.Subscript) and isinstance(node.func.value, ast.Name):
            launched = self.resolve(node.func.value)
            if _is_ember_function(launched):  # k[shape](...) inside a kernel
                raise self.error(node, self._unknown_call(launched, node.func.value.id, node))
        if not isinstance(node.func, (ast.Name, ast.Attribute)):
            self.expr(node.func)  # names the construct (lambda, subscript ...) if unsupported
            raise self.error(node, f"'{name}' is not a function")
        obj = self.resolve(node.func)
        if obj is _KERNEL_VALUE:
            raise self.error(node, f"'{name}' is a kernel variable, not a function")
        fn = _lookup_function(obj)
        if fn is None:
            raise self.error(node, self._unknown_call(obj, name, node))
        low, high = fn.nargs
        if not low <= len(node.args) <= (high if high is not None else len(node.args)):
            raise self.error(node, f"{name} takes {self._arity(fn.nargs)}, got {len(node.args)}")
        args = [self.expr(a) for a in node.args]
        if fn.to_float:
            args = [self.to_float(x, a) for x, a in zip(args, node.args)]
        result = getattr(self, "call_" + fn.kind)(fn, args, node)
        if fn.numpy and result.weak:
            result = self.b.cast(result, result.dtype, *self.loc(node))
        return result

    def _unknown_call(self, obj, name, node):
        if not callable(obj):
            return f"'{name}' is {_describe(obj)}, not a function"
        if _is_ember_function(obj):
            return (f"'{name}' is an ember function: kernels cannot call other kernels yet "
                    "(write its expression inline)")
        module = getattr(obj, "__module__", None) or ""
        if module.split(".")[0] not in ("math", "numpy", "builtins", "scipy"):
            return f"call to unknown function '{name}'"
        full = f"{module}.{getattr(obj, '__name__', '?')}"
        origin = f" ({full})" if "." not in name and module != "builtins" else ""
        return f"'{name}'{origin} is not supported in kernels"

    @staticmethod
    def _arity(nargs):
        low, high = nargs
        if high is None:
            return f"at least {low} arguments"
        if low == high:
            return f"{low} argument" + ("s" if low != 1 else "")
        return f"{low} or {high} arguments" if high == low + 1 else f"{low} to {high} arguments"

    def to_float(self, x, node, dtype="float64"):
        """`x` converted to float the way Python's math module does (ints -> float64)."""
        if x.dtype.startswith("float"):
            return x
        line, col = self.loc(node)
        # A Python int or bool stays a weak Python float (math.sqrt(2) * f32 is f32).
        return self.b.cast(x, dtype, line, col, weak=x.weak)

    def call_unary(self, fn, args, node):
        return self.b.unary(fn.op, args[0], *self.loc(node))

    def call_binary(self, fn, args, node):
        if fn.op == "pow" and not fn.to_float:  # np.power, not math.pow (C's pow, as Python)
            return self._power(*args, node.args[1], node)
        return self.b.binary(fn.op, args[0], args[1], *self.loc(node))

    def call_fold(self, fn, args, node):
        result = args[0]
        for x in args[1:]:
            result = self.b.binary(fn.op, result, x, *self.loc(node))
        return result

    def call_cast(self, fn, args, node):
        return self.b.cast(args[0], fn.op, *self.loc(node))

    def call_truth(self, fn, args, node):
        return self.b.truth(args[0], *self.loc(node))

    def call_identity(self, fn, args, node):
        return args[0]

    def call_round(self, fn, args, node):
        # round() and np.round keep integers (NumPy returns the same dtype).
        if args[0].dtype.startswith("float"):
            return self.b.unary("rint", args[0], *self.loc(node))
        return args[0]

    def call_log(self, fn, args, node):
        logs = [self.b.unary("log", x, *self.loc(node)) for x in args]
        return logs[0] if len(logs) == 1 else self.b.binary("div", *logs, *self.loc(node))

    def call_fabs(self, fn, args, node):
        x = args[0]
        if not fn.to_float:  # np.fabs: NumPy's float type for the integer
            x = self.to_float(x, node.args[0], _FLOAT_FOR.get(x.dtype, "float64"))
        return self.b.unary("abs", x, *self.loc(node))

    def call_square(self, fn, args, node):
        x = args[0]
        if x.dtype == "bool":  # NumPy's square has no bool loop: it squares int8
            x = self.b.cast(x, "int8", *self.loc(node))
        return self.b.binary("mul", x, x, *self.loc(node))

    def call_clip(self, fn, args, node):
        x, low, high = args
        return self.b.binary("minimum", self.b.binary("maximum", x, low, *self.loc(node)), high,
                             *self.loc(node))

    def call_where(self, fn, args, node):
        return self.b.select(*args, *self.loc(node))

    def call_logical(self, fn, args, node):
        a, b = (self.b.truth(x, *self.loc(node)) for x in args)
        return self.b.binary(fn.op, a, b, *self.loc(node))


def free_value(pyfunc, name):
    """(object, 'global' / 'closure variable' / 'builtin') that free name
    `name` of `pyfunc` is bound to now; LookupError saying why if none."""
    code = pyfunc.__code__
    if name in code.co_freevars:
        cell = pyfunc.__closure__[code.co_freevars.index(name)]
        try:
            return cell.cell_contents, "closure variable"
        except ValueError:
            raise LookupError(f"closure variable '{name}' is not assigned yet in its enclosing "
                              "function") from None
    if name in pyfunc.__globals__:
        return pyfunc.__globals__[name], "global"
    if hasattr(builtins, name):
        return getattr(builtins, name), "builtin"
    raise LookupError(f"name '{name}' is not defined")


def build_function(pyfunc, arg_types, translator=_Translator, domain=0, frozen=None):
    """Builds the IR of `pyfunc` for arguments of the given types.

    arg_types: one (dtype name, weak) pair per parameter, or (dtype name,
    weak, ndim) for a kernel's (ndim 0: a scalar); Python scalars are weak,
    NumPy arrays and scalars are not. Returns a `_core.Function`; raises
    CompileError for code a kernel cannot contain. `translator` and `domain`
    are @ember.kernel's (kernel_frontend.py). `frozen`: a dict the caller
    keeps per decorated function; the values of the globals, closure
    variables and module attributes read are kept there at the first build
    and reused by the later ones (every specialization sees the same values).
    """
    arg_types = [tuple(t) + (0,) * (3 - len(t)) for t in arg_types]
    src = None
    try:
        src = _parse(pyfunc)
        return translator(pyfunc, src, arg_types, domain, frozen).build()
    except _core.BuildError as e:
        error = from_build_error(e, src.filename)
    except CompileError as e:
        error = e.with_traceback(None)
    except RecursionError:
        message = ("an expression nests too deeply for ember's frontend (hundreds of "
                   "operators in one expression): split it with local variables")
        error = _error(src, src.node, message) if src else CompileError(message)
    # The user's mistake is in their code, not in the frontend's frames: keep
    # the traceback short (the message already points at the line).
    raise error from None
