"""Tests of the Python frontend: Python source -> IR, and its error messages.

Each test builds a Function straight from ember.frontend.build_function and
checks the IR text, the result dtype, or (where the interpreter binding is
there) the value it computes. Error tests check the message and that the
reported line is the line of the offending code in this file, found with
inspect relative to the function's source, never hard-coded.
"""

import functools
import inspect
import math
import pickle
from math import gamma, sqrt

import numpy as np
import numpy as xp
import pytest

from ember import _core, frontend
from ember.errors import CompileError, from_build_error

SCALE = 2.5
COUNT = 3
F32 = np.float32(1.5)
F64 = np.float64(0.5)
I8 = np.int8(3)
U64 = np.uint64(2**64 - 1)
FLAG = True
TABLE = [1, 2, 3]
HUGE = 2**70


class Config:
    scale = 2.0


CONFIG = Config()


def build(fn, *types):
    """build_function with types given as 'float32' (a NumPy value) or
    ('int64', True) (a Python scalar, weak)."""
    arg_types = [t if isinstance(t, tuple) else (t, False) for t in types]
    return frontend.build_function(fn, arg_types)


def text(fn, *types):
    return build(fn, *types).text()


def run(fn, types, *args):
    """Builds and interprets `fn`; skips when the interpreter is not bound."""
    if not hasattr(_core, "interpret"):
        pytest.skip("ember._core.interpret is not available")
    return _core.interpret(build(fn, *types), list(args))


def line_of(fn, marker):
    """Absolute line of the first line of `fn`'s source containing `marker`."""
    lines, start = inspect.getsourcelines(fn)
    for i, line in enumerate(lines):
        if marker in line:
            return start + i
    raise AssertionError(f"{marker!r} not in the source of {fn.__name__}")


def col_of(fn, marker):
    """1-based column of `marker` in the first line of `fn` containing it."""
    lines, start = inspect.getsourcelines(fn)
    return lines[line_of(fn, marker) - start].index(marker) + 1


def compile_error(fn, *types):
    with pytest.raises(CompileError) as info:
        build(fn, *types)
    return info.value


# --- operators ----------------------------------------------------------------------

BINARY_OPS = [
    (lambda x, y: x + y, "add("),
    (lambda x, y: x - y, "sub("),
    (lambda x, y: x * y, "mul("),
    (lambda x, y: x / y, "div("),
    (lambda x, y: x // y, "floordiv("),
    (lambda x, y: x % y, "mod("),
    (lambda x, y: x ** y, "pow("),
    (lambda x, y: x & y, "and("),
    (lambda x, y: x | y, "or("),
    (lambda x, y: x ^ y, "xor("),
    (lambda x, y: x << y, "shl("),
    (lambda x, y: x >> y, "shr("),
    (lambda x, y: x == y, "eq("),
    (lambda x, y: x != y, "ne("),
    (lambda x, y: x < y, "lt("),
    (lambda x, y: x <= y, "le("),
    (lambda x, y: x > y, "gt("),
    (lambda x, y: x >= y, "ge("),
]


@pytest.mark.parametrize("fn,op", BINARY_OPS, ids=[op for _, op in BINARY_OPS])
def test_binary_operators(fn, op):
    assert op in text(fn, "int32", "int32")


def test_unary_operators():
    assert "neg(" in text(lambda x: -x, "float32")
    assert "invert(" in text(lambda x: ~x, "int16")
    assert "not(" in text(lambda x: not x, "float64")
    plus = build(lambda x: +x, "uint8")
    assert plus.result_dtype == "uint8" and "return x" in plus.text()


def test_negative_literal_is_a_constant():
    assert "neg(" not in text(lambda x: x * -2, "float64")


@pytest.mark.parametrize("fn,types,dtype", [
    (lambda x: x * 2.0, ["float32"], "float32"),
    (lambda x, y: x / y, ["int64", "int64"], "float64"),
    (lambda x: x + 1, ["uint8"], "uint8"),
    (lambda x, y: x + y, [("int64", True), "float32"], "float32"),
    (lambda x, y: x + y, ["int8", "uint8"], "int16"),
    (lambda x: x < 1, ["float32"], "bool"),
], ids=["f32*2.0", "int/int", "u8+1", "weak+f32", "i8+u8", "compare"])
def test_result_dtypes(fn, types, dtype):
    assert build(fn, *types).result_dtype == dtype


def test_chained_comparison():
    ir = text(lambda a, b, c: a < b <= c, "float64", "float64", "float64")
    assert "and(" in ir and "lt(" in ir and "le(" in ir


def test_chained_comparison_values():
    f = lambda a, b, c: a < b < c
    assert run(f, ["int64"] * 3, 1, 2, 3)
    assert not run(f, ["int64"] * 3, 1, 3, 2)


def test_and_or_select():
    assert "select(" in text(lambda a, b: a and b, "float64", "float64")
    assert "select(" in text(lambda a, b: a or b, "float64", "float64")


def test_and_or_values_follow_python():
    both, either = (lambda a, b: a and b), (lambda a, b: a or b)
    types = ["float64", "float64"]
    assert run(both, types, 0.0, 5.0) == 0.0
    assert run(both, types, 3.0, 5.0) == 5.0
    assert run(either, types, 0.0, 5.0) == 5.0
    assert run(either, types, 3.0, 5.0) == 3.0
    assert run(lambda a, b, c: a and b and c, types + ["float64"], 1.0, 2.0, 3.0) == 3.0


def test_conditional_expression():
    f = lambda x: x if x > 0 else -x
    assert "select(" in text(f, "float32")
    assert run(f, ["float32"], -2.0) == 2.0


# --- statements ------------------------------------------------------------------------

def test_assignment_and_augmented_assignment():
    def f(x):
        """Docstrings are ignored."""
        y = x * 2
        y += 1
        y -= x
        y *= 3
        y /= 2
        pass
        return y

    ir = text(f, "float64")
    for op in ("mul(", "add(", "sub(", "div("):
        assert op in ir
    assert run(f, ["float64"], 2.0) == ((2 * 2 + 1 - 2) * 3) / 2


def test_tuple_assignment_swaps():
    def f(a, b):
        a, b = b, a
        return a - b * 10

    assert run(f, ["int64", "int64"], 1, 2) == 2 - 10


def test_chained_assignment_evaluates_once():
    def f(x):
        y = 1.0
        y = z = y + x
        return y * 100 + z

    assert run(f, ["float64"], 1.0) == 202.0


def test_reassigned_parameter():
    def f(x, c):
        if c > 0:
            x = x * 2
        return x

    assert build(f, "float32", "int32").result_dtype == "float32"
    assert run(f, ["float32", "int32"], 3.0, 1) == 6.0
    assert run(f, ["float32", "int32"], 3.0, -1) == 3.0


def test_if_elif_else_and_early_return():
    def sign(x):
        if x > 0:
            return 1.0
        elif x < 0:
            return -1.0
        else:
            if x == 0:
                return 0.0
        return x

    ir = text(sign, "float64")
    assert ir.count("if ") == 3 and "else" in ir
    assert [run(sign, ["float64"], v) for v in (5.0, -5.0, 0.0)] == [1.0, -1.0, 0.0]


def test_variable_assigned_on_both_branches():
    def f(x):
        if x > 0:
            y = x
        else:
            y = -x
        return y

    assert run(f, ["int64"], -4) == 4


def test_code_after_return_is_ignored():
    def f(x):
        return x
        while True:
            pass

    assert build(f, "float64").result_dtype == "float64"


# --- calls ------------------------------------------------------------------------------

def test_builtin_casts():
    assert build(lambda x: int(x), "float32").result_dtype == "int64"
    assert build(lambda x: float(x), "int8").result_dtype == "float64"
    assert build(lambda x: bool(x), "float64").result_dtype == "bool"


NUMPY_CASTS = [
    (lambda x: np.float32(x), "float32"),
    (lambda x: np.int8(x), "int8"),
    (lambda x: np.uint16(x), "uint16"),
    (lambda x: np.int64(x), "int64"),
    (lambda x: np.uint64(x), "uint64"),
]


@pytest.mark.parametrize("fn,dtype", NUMPY_CASTS, ids=[d for _, d in NUMPY_CASTS])
def test_numpy_type_casts(fn, dtype):
    assert build(fn, "float64").result_dtype == dtype
    assert "cast<" in text(fn, "float64")


def test_numpy_bool_cast():
    assert build(lambda x: np.bool_(x), "int32").result_dtype == "bool"


def test_abs_min_max_round():
    assert "abs(" in text(lambda x: abs(x), "int32")
    ir = text(lambda a, b, c: min(a, b, c), "float64", "float64", "float64")
    assert ir.count("min(") == 2
    assert "max(" in text(lambda a, b: max(a, b), "int8", "int8")
    assert "rint(" in text(lambda x: round(x), "float64")
    assert "pow(" in text(lambda a, b: pow(a, b), "float64", "float64")


MATH_UNARY = ["sqrt", "cbrt", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sin",
              "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh",
              "atanh", "erf", "erfc", "floor", "ceil", "trunc", "isnan", "isinf", "isfinite"]
NP_UNARY = {"sqrt": "sqrt", "cbrt": "cbrt", "exp": "exp", "exp2": "exp2", "expm1": "expm1",
            "log": "log", "log2": "log2", "log10": "log10", "log1p": "log1p", "sin": "sin",
            "cos": "cos", "tan": "tan", "arcsin": "asin", "arccos": "acos", "arctan": "atan",
            "sinh": "sinh", "cosh": "cosh", "tanh": "tanh", "arcsinh": "asinh",
            "arccosh": "acosh", "arctanh": "atanh", "floor": "floor", "ceil": "ceil",
            "trunc": "trunc", "rint": "rint", "round": "rint", "around": "rint",
            "isnan": "isnan", "isinf": "isinf", "isfinite": "isfinite", "signbit": "signbit",
            "abs": "abs", "absolute": "abs", "negative": "neg"}


def load_kernel(tmp_path, source):
    """Writes `source` (with math/numpy imported) to a module file and returns its f."""
    path = tmp_path / "kernels.py"
    path.write_text("import math\nimport numpy as np\n\n" + source)
    namespace = {"__name__": "kernels", "__file__": str(path)}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    return namespace["f"]


@pytest.mark.parametrize("name", MATH_UNARY)
def test_math_unary(name, tmp_path):
    if not hasattr(math, name):
        pytest.skip(f"math.{name} needs a newer Python")
    f = load_kernel(tmp_path, f"def f(x):\n    return math.{name}(x)\n")
    assert f"{name}(" in text(f, "float64")


@pytest.mark.parametrize("name,op", sorted(NP_UNARY.items()))
def test_numpy_unary(name, op, tmp_path):
    f = load_kernel(tmp_path, f"def f(x):\n    return np.{name}(x)\n")
    assert f"{op}(" in text(f, "float32")


@pytest.mark.parametrize("call,op", [
    ("math.atan2(x, y)", "atan2("), ("np.arctan2(x, y)", "atan2("),
    ("math.hypot(x, y)", "hypot("), ("np.hypot(x, y)", "hypot("),
    ("math.copysign(x, y)", "copysign("), ("np.copysign(x, y)", "copysign("),
    ("math.fmod(x, y)", "fmod("), ("np.fmod(x, y)", "fmod("),
    ("math.pow(x, y)", "pow("), ("np.power(x, y)", "pow("),
    ("np.minimum(x, y)", "minimum("), ("np.maximum(x, y)", "maximum("),
    ("math.log(x, y)", "div(log("), ("np.square(x)", "mul(x, x)"),
    ("np.where(x > y, x, y)", "select("), ("np.clip(x, y, 1.0)", "minimum(maximum("),
])
def test_math_and_numpy_calls(call, op, tmp_path):
    f = load_kernel(tmp_path, f"def f(x, y):\n    return {call}\n")
    assert op in text(f, "float64", "float64")



def test_math_functions_compute_in_float64_on_ints():
    ir = build(lambda x: math.sqrt(x), "int8")
    assert ir.result_dtype == "float64" and "cast<f64>" in ir.text()
    assert build(lambda x, y: math.pow(x, y), "int32", "int32").result_dtype == "float64"
    assert build(lambda x, y: math.fmod(x, y), "int32", "int32").result_dtype == "float64"
    assert build(lambda x: math.fabs(x), "int16").result_dtype == "float64"
    assert build(lambda x: math.sqrt(x), "float32").result_dtype == "float32"
    # A Python int stays a weak Python float: f32 * sqrt(2) is f32.
    assert build(lambda x: x * math.sqrt(2), "float32").result_dtype == "float32"


def test_math_rounding_keeps_integers():
    # Python's math.floor returns an int; NumPy 2's floor keeps integer dtypes.
    assert build(lambda x: math.floor(x), "int32").result_dtype == "int32"
    assert build(lambda x: math.ceil(x), "float32").result_dtype == "float32"


def test_large_python_int_is_a_weak_uint64():
    # NumPy 2 reads 2**63 .. 2**64-1 as uint64, still weak: it adopts its partner's type
    # (and does not fit uint8, which promote then rejects, as NumPy raises).
    assert build(lambda x: x + 18446744073709551615, "uint8").result_dtype == "uint8"
    assert build(lambda x: x + 18446744073709551615, "float32").result_dtype == "float32"
    assert build(lambda x: x + 18446744073709551615, "uint64").result_dtype == "uint64"


def test_numpy_elementwise_ufuncs():
    assert "and(" in text(lambda a, b: np.logical_and(a, b), "float64", "float64")
    assert "add(" in text(lambda a, b: np.add(a, b), "int8", "int8")
    assert "mul(" in text(lambda a, b: np.multiply(a, b), "int8", "int8")
    assert "return x" in text(lambda x: np.positive(x), "int8")


def test_numpy_functions_follow_numpy_rules():
    assert build(lambda x: np.sqrt(x), "int8").result_dtype == "float32"
    assert build(lambda x, y: np.power(x, y), "int32", "int32").result_dtype == "int32"
    assert build(lambda x, y: np.fmod(x, y), "int64", "int64").result_dtype == "int64"
    assert build(lambda x: np.fabs(x), "int16").result_dtype == "float32"
    assert build(lambda x: np.fabs(x), "int64").result_dtype == "float64"


def test_math_constants_are_weak():
    f = lambda x: x * math.pi + np.e - math.tau + np.pi
    assert build(f, "float32").result_dtype == "float32"
    assert "3.14159" in text(f, "float32")
    assert build(lambda x: np.minimum(x, math.inf), "float32").result_dtype == "float32"
    assert "nan" in text(lambda x: x + np.nan, "float64")


# --- names ------------------------------------------------------------------------------

def test_python_number_globals_are_weak():
    assert build(lambda x: x * SCALE + COUNT, "float32").result_dtype == "float32"
    assert build(lambda x: x * COUNT, "int16").result_dtype == "int16"
    assert build(lambda x: x & FLAG, "bool").result_dtype == "bool"


def test_numpy_scalar_globals_keep_their_type():
    assert build(lambda x: x * F32, "float64").result_dtype == "float64"
    assert build(lambda x: x * F64, "float32").result_dtype == "float64"  # not weak
    assert build(lambda x: x * F32, "int16").result_dtype == "float32"
    assert build(lambda x: x + I8, "int8").result_dtype == "int8"
    assert build(lambda x: x + I8, "float32").result_dtype == "float32"
    assert build(lambda x: x + U64, "uint8").result_dtype == "uint64"


def test_closure_values():
    factor = 3.0
    offset = np.float32(0.5)

    def f(x):
        return x * factor + offset

    assert build(f, "float32").result_dtype == "float32"
    assert "3.0" in text(f, "float32")


def test_from_import_and_module_alias():
    assert "sqrt(" in text(lambda x: sqrt(x), "float64")
    assert "sqrt(" in text(lambda x: xp.sqrt(x), "float64")
    assert build(lambda x: xp.float32(x), "int64").result_dtype == "float32"


def test_local_shadows_global():
    def f(x):
        SCALE = 10
        return x * SCALE

    assert "10:" in text(f, "int64")


# --- lambdas and source reading -------------------------------------------------------------

def test_lambda_picked_by_argument_names():
    pair = (lambda x: x + 1, lambda y: y * 2)
    assert "add(" in text(pair[0], "int64")
    assert "mul(" in text(pair[1], "int64")


def test_lambda_picked_among_look_alikes():
    pair = (lambda x: x + 1, lambda x: x * 2)
    assert "add(" in text(pair[0], "int64") and "mul(" not in text(pair[0], "int64")
    assert "mul(" in text(pair[1], "int64") and "add(" not in text(pair[1], "int64")


def test_lambda_inside_multiline_call():
    fns = dict(
        f=lambda x, y:
        x - y)
    assert "sub(" in text(fns["f"], "float64", "float64")


def identity_decorator(fn):
    return fn


@identity_decorator
@identity_decorator
def decorated(x):
    return [x]


def test_decorated_function_lines_are_absolute():
    e = compile_error(decorated, "float64")
    assert e.lineno == line_of(decorated, "return [x]")
    assert e.col == col_of(decorated, "[x]")


class Holder:
    @staticmethod
    def method(x):
        return (x +
  [1])  # noqa: E128 (continuation lines may be indented less than the def)


def test_indented_function_with_odd_continuation():
    e = compile_error(Holder.method, "float64")
    assert "list display" in e.message and e.lineno == line_of(Holder.method, "[1]")
    assert e.col == 3


def test_source_unavailable():
    namespace = {}
    exec("def f(x):\n    return x\n", namespace)
    e = compile_error(namespace["f"], "float64")
    assert "could not read the source" in e.message


def test_signature():
    assert frontend.check_signature(lambda a, b: a) == ["a", "b"]

    def f(x, y, z, /):
        return x

    assert frontend.check_signature(f) == ["x", "y", "z"]


def test_wrong_number_of_argument_types():
    with pytest.raises(TypeError):
        build(lambda a, b: a, "float64")


# --- errors ---------------------------------------------------------------------------------

def err_list(x):
    return [x, x]


def err_while(x):
    while x > 0:
        x -= 1
    return x


def err_for(x):
    for i in range(3):
        x += i
    return x


def helper(x):
    return x


def err_unknown_function(x):
    return helper(x)


def err_math_gamma(x):
    return math.gamma(x)


def err_undefined(x):
    return x + zz  # noqa: F821


def err_subscript(x):
    return x[0]


def err_attribute_of_value(x):
    return x.real


def err_attribute_of_object(x):
    return x * CONFIG.scale


def err_string(x):
    return "x"


def err_inner_lambda(x):
    return (lambda y: y)(x)


def err_nested_def(x):
    def g(y):
        return y
    return x


def err_yield(x):
    yield x


def err_try(x):
    try:
        return x
    except Exception:
        return x


def err_with(x):
    with open("f"):
        return x


def err_global(x):
    global SCALE
    return x


def err_nonlocal(x):
    def g():
        nonlocal x
    return x


def err_del(x):
    y = x
    del y
    return x


def err_assert(x):
    assert x > 0
    return x


def err_keyword(x):
    return np.clip(x, 0, a_max=1)


def err_starred(x):
    return max(*x)


def err_walrus(x):
    return (y := x)


def err_fstring(x):
    return f"{x}"


def err_no_return(x):
    y = x


def err_missing_return_path(x):
    if x > 0:
        return x


def err_arity(x):
    return np.clip(x, 0)


def err_arity_round(x):
    return np.round(x, 2)


def err_from_import(x):
    return gamma(x)


def err_augassign_attribute(x):
    CONFIG.scale += x
    return x


def err_global_list(x):
    return x + TABLE


def err_huge(x):
    return x + HUGE


def err_huge_literal(x):
    return x + 2**64 + 100000000000000000000000


def err_type_change(x, y):
    z = x
    z = y
    return z


def err_read_before_assignment(x):
    y = y + x  # noqa: F821
    return y


def err_one_branch(x):
    if x > 0:
        y = x
    return y


def err_is(x):
    return x is None


def err_bare_return(x):
    return


def err_tuple_return(x):
    return x, x


def err_bool_minus(a, b):
    return a - b


def err_matmul(x):
    return x @ x


def err_call_variable(x):
    return x(1)


def err_tuple_unpack(x):
    a, b = x
    return a


def err_module_value(x):
    return x + np


def err_varargs(*args):
    return 1


def err_kwargs(x, **kw):
    return x


def err_default(x, y=1):
    return x


ERRORS = [
    (err_list, "unsupported Python construct: list display", "[x, x]"),
    (err_while, "unsupported Python construct: while loop (loops are not supported", "while x"),
    (err_for, "unsupported Python construct: for loop", "for i"),
    (err_unknown_function, "call to unknown function 'helper'", "helper(x)"),
    (err_math_gamma, "'math.gamma' is not supported in kernels", "math.gamma"),
    (err_undefined, "name 'zz' is not defined", "zz"),
    (err_subscript, "unsupported Python construct: subscript", "x[0]"),
    (err_attribute_of_value, "attribute 'x.real'", "x.real"),
    (err_attribute_of_object, "attribute 'CONFIG.scale'", "CONFIG.scale"),
    (err_string, "unsupported Python construct: string", '"x"'),
    (err_inner_lambda, "unsupported Python construct: lambda", "lambda y"),
    (err_nested_def, "unsupported Python construct: nested function definition", "def g"),
    (err_yield, "unsupported Python construct: yield", "yield x"),
    (err_try, "unsupported Python construct: try statement", "try:"),
    (err_with, "unsupported Python construct: with statement", "with open"),
    (err_global, "unsupported Python construct: global statement", "global SCALE"),
    (err_nonlocal, "unsupported Python construct: nested function definition", "def g"),
    (err_del, "unsupported Python construct: del statement", "del y"),
    (err_assert, "unsupported Python construct: assert statement", "assert x"),
    (err_keyword, "keyword arguments are not supported", "a_max=1"),
    (err_starred, "unsupported Python construct: starred argument", "*x"),
    (err_walrus, "unsupported Python construct: assignment expression", "y := x"),
    (err_fstring, "unsupported Python construct: f-string", 'f"{x}"'),
    (err_no_return, "does not return a value on every path", "y = x"),
    (err_missing_return_path, "does not return a value on every path", "if x > 0"),
    (err_arity, "np.clip takes 3 arguments, got 2", "np.clip"),
    (err_arity_round, "np.round takes 1 argument, got 2", "np.round"),
    (err_global_list, "global 'TABLE' is a list; only numbers and NumPy scalars", "TABLE"),
    (err_huge, "global 'HUGE' = 1180591620717411303424 does not fit", "HUGE"),
    (err_from_import, "'gamma' (math.gamma) is not supported in kernels", "gamma(x)"),
    (err_augassign_attribute, "augmented assignment to attribute", "CONFIG.scale +="),
    (err_huge_literal, "does not fit in int64 or uint64", "100000000000000000000000"),
    (err_type_change, "local variable 'z' changes type from float32 to int64", "z = y"),
    (err_read_before_assignment, "local variable 'y' is read before it is assigned", "y = y"),
    (err_one_branch, "local variable 'y' is not assigned on every path", "return y"),
    (err_is, "unsupported Python construct: 'is' comparison", "x is None"),
    (err_bare_return, "return without a value", "return\n"),
    (err_tuple_return, "unsupported Python construct: tuple", "x, x"),
    (err_bool_minus, "'-' is not supported between two bools", "a - b"),
    (err_matmul, "matrix multiplication", "x @ x"),
    (err_call_variable, "'x' is a kernel variable, not a function", "x(1)"),
    (err_tuple_unpack, "tuple assignment needs a tuple of 2 values", "a, b = x"),
    (err_module_value, "global 'np' is a module", "np\n"),
    (err_varargs, "*args parameter 'args'", "*args"),
    (err_kwargs, "**kwargs parameter 'kw'", "**kw"),
    (err_default, "default argument values are not supported", "y=1"),
]


@pytest.mark.parametrize("fn,message,marker", ERRORS, ids=[f.__name__ for f, _, _ in ERRORS])
def test_errors(fn, message, marker):
    nargs = len(inspect.signature(fn).parameters)
    types = {"err_type_change": ["float32", "int64"], "err_bool_minus": ["bool", "bool"]}.get(
        fn.__name__, ["float64"] * nargs)
    e = compile_error(fn, *types)
    assert message in e.message
    assert e.filename == __file__
    assert e.lineno == line_of(fn, marker), str(e)
    assert str(e).startswith(f"{__file__}:{e.lineno}:{e.col}: {e.message}")


def test_builder_gets_absolute_locations():
    def f(x):
        y = x + 1.0
        return y

    ir = build(f, "float64").text(True)
    assert f"@{line_of(f, 'y = x')}:{col_of(f, 'y = x')}" in ir
    assert f"@{line_of(f, 'return y')}:{col_of(f, 'return y')}" in ir


def test_error_column_points_at_the_construct():
    e = compile_error(err_list, "float64")
    assert e.col == col_of(err_list, "[x, x]")
    e = compile_error(err_keyword, "float64")
    assert e.col == col_of(err_keyword, "a_max")


def test_error_text_has_source_line_and_caret():
    e = compile_error(err_list, "float64")
    head, line, caret = str(e).split("\n")
    assert head == f"{__file__}:{e.lineno}:{e.col}: unsupported Python construct: list display"
    assert line == "    return [x, x]"
    assert caret.index("^") == line.index("[")


def err_unicode(x):
    ñ = x
    return ñ + [1]


def test_error_column_counts_characters():
    e = compile_error(err_unicode, "float64")
    assert e.col == col_of(err_unicode, "[1]")
    head, line, caret = str(e).split("\n")
    assert caret.index("^") == line.index("[")


def test_build_errors_become_compile_errors_without_chaining():
    e = compile_error(err_type_change, "float32", "int64")
    assert isinstance(e, CompileError) and e.__cause__ is None and e.__suppress_context__
    assert e.source_line.strip() == "z = y"


def test_compile_error_helpers():
    error = _core.BuildError("boom", line_of(err_list, "[x, x]"), 12)
    e = from_build_error(error, __file__)
    assert (e.message, e.lineno, e.col) == ("boom", line_of(err_list, "[x, x]"), 12)
    assert e.source_line.strip() == "return [x, x]"
    copy = pickle.loads(pickle.dumps(e))
    assert str(copy) == str(e)
    assert str(CompileError("plain")) == "plain"


# --- expressions of Python numbers: computed by Python first --------------------------

BIG = 2**40

PYTHON_NUMBER_CASES = [  # (function, input dtype): NumPy applies each to an array directly
    (lambda x: x + 2**63, "float64"),            # a uint64-sized int, as a float
    (lambda x: x * (BIG * BIG // 2**30), "float64"),
    (lambda x: x + (True + True), "int64"),      # 2, not True
    (lambda x: x + ~True, "int64"),              # -2
    (lambda x: x + 2**-1, "float64"),            # 0.5: Python's int ** negative int
    (lambda x: x * (0.1 + 0.2), "float32"),      # rounded once, to float32, as NumPy does
    (lambda x: x + -(3 - 5) * 7 // 4 % 3, "int8"),
    (lambda x: x - (1 << 62) * 2, "uint64"),     # 2**63 as a uint64 operand
    (lambda x: x * (1e308 * 10), "float64"),     # inf, as in Python
]


@pytest.mark.parametrize("fn,dtype", PYTHON_NUMBER_CASES)
def test_expressions_of_python_numbers_are_computed_by_python(fn, dtype):
    import ember
    x = np.array([0, 1, 3, 100], dtype)
    with np.errstate(all="ignore"):
        expected = fn(x)
    got = ember.vectorize(fn)(x)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("fn,message", [
    (lambda x: x * 2**70, "constant '2 ** 70' = 1180591620717411303424 does not fit in int64 or "
                          "uint64 (as a float: 1.1805916207174113e+21)"),
    (lambda x: x * (BIG * BIG), "constant 'BIG * BIG' = 1208925819614629174706176 does not fit"),
    (lambda x: x + 1 // 0, "constant '1 // 0' fails in Python: integer division or modulo by zero"),
    (lambda x: x + 10.0 ** 400, "constant '10.0 ** 400' fails in Python"),
    (lambda x: x + 3 ** 100000, "constant '3 ** 100000' is too large for any NumPy type"),
    (lambda x: x + (1 << 2**20), "constant '1 << 2 ** 20' is too large"),
])
def test_python_number_errors_point_at_the_expression(fn, message):
    error = compile_error(fn, "float64")
    assert message in str(error)
    assert error.lineno == inspect.getsourcelines(fn)[1]


def test_big_literals_are_shown_as_written():
    import ember
    for fn, shown in [(lambda x: x & 0xFFFFFFFFFFFFFFFF, "18446744073709551615"),
                      (lambda x: x - 9223372036854775808, "9223372036854775808")]:
        with pytest.raises(CompileError, match=f"Python int {shown} is out of bounds for int64"):
            ember.vectorize(fn)(np.arange(3))


# --- x ** 0.5 as NumPy computes it -----------------------------------------------------

@pytest.mark.parametrize("fn", [lambda x: x ** 0.5, lambda x: np.power(x, 0.5),
                                lambda x: pow(x, 0.5), lambda x: x ** (1 / 2)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_square_root_powers_match_numpy(fn, dtype):
    """NumPy takes an array to the power of the number 0.5 as its square root:
    sqrt(-0.0) is -0.0 and sqrt(-inf) NaN, where C's pow gives 0.0 and inf."""
    import ember
    x = np.array([-np.inf, -0.0, 0.0, -4.0, 2.0, np.inf, np.nan], dtype)
    with np.errstate(all="ignore"):
        expected = fn(x)
        got = ember.vectorize(fn)(x)
    np.testing.assert_array_equal(got, expected)
    assert np.array_equal(np.signbit(got), np.signbit(expected))


def test_math_pow_keeps_c_pow():
    import ember
    x = np.array([-np.inf, -0.0])
    got = ember.vectorize(lambda x: math.pow(x, 0.5))(x)
    assert got.tolist() == [math.pow(-math.inf, 0.5), math.pow(-0.0, 0.5)] == [math.inf, 0.0]
    assert not np.signbit(got[1])


# --- constructs reported where they are -------------------------------------------------

def test_an_expression_too_deep_for_the_frontend(tmp_path):
    import ember
    f = load_kernel(tmp_path, "def f(x):\n    return " + " + ".join(["x"] * 1200) + "\n")
    with pytest.raises(CompileError, match="nests too deeply for ember's frontend") as info:
        ember.vectorize(f)(np.ones(3))
    assert info.value.lineno == 4
    f = load_kernel(tmp_path, "def f(x):\n    return " + " + ".join(["x"] * 200) + "\n")
    assert ember.vectorize(f)(np.ones(3)).tolist() == [200.0] * 3


def _logged(fn):
    @functools.wraps(fn)
    def wrapper(*args):
        return fn(*args)
    return wrapper


def test_a_wrapper_from_another_decorator_is_named():
    import ember

    def f(x):
        return x + 1
    with pytest.raises(CompileError, match="'wrapper' is a wrapper another decorator made "
                                           "around 'f' \\(functools.wraps\\)") as info:
        ember.vectorize(_logged(f))(np.ones(2))
    assert info.value.lineno == inspect.getsourcelines(f)[1]


def test_calls_of_ember_functions_and_comprehensions_are_named():
    import ember

    @ember.vectorize
    def g(x):
        return x + 1

    @ember.kernel
    def h(o):
        o[ember.tid()] = 1.0

    def calls_g(x):
        return g(x) * 2

    def launches_h(o):
        h[1](o)

    def max_of_generator(x):
        return max(x * k for k in (1, 2))

    assert "'g' is an ember function: kernels cannot call" in str(compile_error(calls_g,
                                                                                 "float64"))
    error = compile_error(max_of_generator, "float64")
    assert "unsupported Python construct: generator expression" in str(error)
    with pytest.raises(CompileError, match="'h' is an ember function") as info:
        ember.kernel(launches_h)[2](np.ones(2))
    assert info.value.lineno == line_of(launches_h, "h[1](o)")


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint16", "float32"])
def test_square_has_numpys_dtype(dtype):
    import ember
    x = np.array([0, 1, 1, 0], dtype)
    got, expected = ember.vectorize(lambda x: np.square(x))(x), np.square(x)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)
    assert ember.vectorize(lambda x: x + np.square(True))(x).dtype == (x + np.square(True)).dtype
