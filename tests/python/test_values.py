"""Values and result dtypes of every operator and function of the kernel
language, on every dtype, checked against NumPy 2 (the oracle for values).

Each case compiles one small function with @ember.vectorize, runs it on arrays
of edge values (0, -0.0, NaN, +-inf, dtype min/max, huge and tiny magnitudes,
shift amounts around the bit width ...) plus seeded random values, and
compares with the NumPy ufunc on the same arrays:

  - the result dtype must be NumPy's, except where NumPy computes in float16
    (math on bool/int8/uint8): ember computes in float32 (types.h), so the
    reference is NumPy's float32 computation on the inputs cast to float32;
  - integers and bools must be equal; floats must be bitwise equal (NaN where
    NumPy has NaN, the sign of zeros included) for exact and correctly
    rounded operations, and within a few ulp (ULP table) for transcendental
    functions, whose implementations differ from NumPy's.

Cases NumPy does not define are not generated (e.g. `-` on bool); documented
deviations are left out of the inputs: float->int casts of NaN/inf/out-of-
range values, and integer ** negative integer (NumPy raises).

The tables below give each kernel as the expression it returns; `kernel`
writes it as a def into a small temporary module, because ember compiles
from the function's source.
"""

import ast
import atexit
import importlib.util
import math
import operator
import os
import shutil
import tempfile

import numpy as np
import pytest

import ember

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float32", "float64"]
INT_DTYPES = [d for d in DTYPES if np.dtype(d).kind in "iu"]
FLOAT_DTYPES = ["float32", "float64"]

# Largest difference in ulp allowed between ember and NumPy for functions that
# are not correctly rounded (both sides have their own libm / SIMD code).
# Observed on an AVX2 host (glibc libmvec vs NumPy's SIMD loops): at most 2 ulp
# for float64 and 4 ulp (log) for float32.
ULP = {"float64": 4, "float32": 6}

_RNG_SEED = 20240611


# --- inputs ----------------------------------------------------------------------------

def edge_values(dtype):
    """The interesting values of `dtype`, without duplicates."""
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return np.array([False, True])
    if dt.kind in "iu":
        info = np.iinfo(dt)
        bits = dt.itemsize * 8
        cands = [0, 1, 2, 3, 5, 7, 10, 100, bits - 1, bits, bits + 1, 2 * bits,
                 info.max, info.max - 1, info.max // 2, info.max // 2 + 1,
                 info.min, info.min + 1, -1, -2, -3, -7, -100, -bits]
        vals = sorted({v for v in cands if info.min <= v <= info.max})
        return np.array(vals, dtype=dt)
    info = np.finfo(dt)
    cands = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 3.0, -7.0, 7.0, 0.1, -0.3,
             100.25, 1e10, -1e10, 2.0 ** 53 + 2, 1e300, -1e300, 5e-324, -5e-324, 1e-300,
             1e38, 3e38, 1e-40, -1e-45,
             float(info.max), -float(info.max), float(info.tiny), float(info.smallest_subnormal),
             math.inf, -math.inf, math.nan, -math.nan]
    with np.errstate(all="ignore"):
        arr = np.array(cands, dtype=dt)
    # unique by bit pattern (keeps -0.0 and both NaN signs)
    _, idx = np.unique(arr.view(np.uint64 if dt.itemsize == 8 else np.uint32), return_index=True)
    return arr[np.sort(idx)]


def random_values(dtype, n, rng):
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return rng.integers(0, 2, n).astype(bool)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        half = n // 2
        wide = rng.integers(info.min, info.max, n - half, dtype=dt, endpoint=True)
        small = rng.integers(max(info.min, -20), min(info.max, 20), half, endpoint=True).astype(dt)
        return np.concatenate([wide, small])
    k = n // 3
    mags = 10.0 ** rng.uniform(-30 if dt == np.float32 else -300, 30 if dt == np.float32 else 300,
                               k)
    spread = rng.choice([-1.0, 1.0], k) * mags
    moderate = rng.uniform(-12, 12, k)
    unit = rng.uniform(-1.2, 1.2, n - 2 * k)
    return np.concatenate([spread, moderate, unit]).astype(dt)


def unary_inputs(dtype):
    rng = np.random.default_rng(_RNG_SEED)
    parts = [edge_values(dtype), random_values(dtype, 240, rng)]
    if np.dtype(dtype).kind == "f":
        eps = float(np.finfo(dtype).eps)
        parts.append(np.array([1 - eps, 1 + eps, -1 + eps, -1 - eps, 1e-8, -1e-8, 0.999, -0.999,
                               math.pi, -math.pi, math.pi / 2, 710.0, -745.0, 89.0, -104.0,
                               20.0, -20.0], dtype=dtype))
        parts.append(np.linspace(-10, 10, 81).astype(dtype))
    return np.concatenate(parts)


def binary_inputs(dtype_a, dtype_b, seed=0):
    """Every pair of edge values, plus random pairs."""
    ea, eb = edge_values(dtype_a), edge_values(dtype_b)
    a, b = (x.ravel() for x in np.meshgrid(ea, eb, indexing="ij"))
    rng = np.random.default_rng(_RNG_SEED + seed)
    ra, rb = random_values(dtype_a, 150, rng), random_values(dtype_b, 150, rng)
    return np.concatenate([a, ra]), np.concatenate([b, rb])


# --- comparison ------------------------------------------------------------------------

def ulp_distance(x, y):
    """|x - y| in units in the last place (for finite floats of one dtype)."""
    it, ut = (np.int64, np.uint64) if x.dtype == np.float64 else (np.int32, np.uint32)
    with np.errstate(all="ignore"):
        def key(v):  # monotone integer image; -0.0 and 0.0 both map to 0
            i = np.ascontiguousarray(v).view(it)
            return np.where(i < 0, np.iinfo(it).min - i, i).astype(it)
        d = key(x).view(ut) - key(y).view(ut)
        return np.minimum(d, -d)


def mismatches(got, want, ulp=0, zero_sign=True):
    """Mask of the elements where `got` is not `want` (see the module docstring)."""
    if want.dtype.kind != "f":
        return got != want
    gnan, wnan = np.isnan(got), np.isnan(want)
    bad = gnan != wnan
    both = ~gnan & ~wnan
    if ulp == 0:
        bad |= both & (got != want)
    else:
        inf = np.isinf(got) | np.isinf(want)
        bad |= both & inf & (got != want)
        finite = both & ~inf
        bad |= finite & (ulp_distance(np.where(finite, got, 0), np.where(finite, want, 0)) > ulp)
    if zero_sign:
        zeros = both & (got == 0) & (want == 0)
        bad |= zeros & (np.signbit(got) != np.signbit(want))
    return bad


def check(got, want, inputs, what, ulp=0, zero_sign=True):
    """Asserts ember's `got` equals NumPy's `want`; the message lists bad inputs."""
    assert isinstance(got, np.ndarray), f"{what}: result is {type(got).__name__}, not an array"
    assert got.dtype == want.dtype, f"{what}: result dtype {got.dtype}, NumPy: {want.dtype}"
    assert got.shape == want.shape, f"{what}: result shape {got.shape}, NumPy: {want.shape}"
    bad = mismatches(got, want, ulp, zero_sign)
    if bad.any():
        idx = np.flatnonzero(bad)
        rows = []
        for i in idx[:12]:
            args = ", ".join(repr(x[i].item()) for x in inputs)
            extra = ""
            if ulp and want.dtype.kind == "f" and np.isfinite(got[i]) and np.isfinite(want[i]):
                extra = f"  ({int(ulp_distance(got[i:i + 1], want[i:i + 1])[0])} ulp)"
            rows.append(f"  f({args}) = {got[i].item()!r}, NumPy: {want[i].item()!r}{extra}")
        tol = f" (tolerance {ulp} ulp)" if ulp else ""
        raise AssertionError(f"{what}: {len(idx)} of {bad.size} elements differ{tol}:\n"
                             + "\n".join(rows))


def test_checker_detects_differences():
    """The comparison itself must be able to fail: NaN vs number, signed zeros,
    1 ulp in exact mode, more than the tolerance in ulp mode, dtypes."""
    want = np.array([1.0, np.nan, -0.0, 1e300, np.inf, 5e-324])
    assert not mismatches(want.copy(), want).any()
    for i, bad in enumerate([np.nextafter(1.0, 2.0), 0.0, 0.0, np.inf, -np.inf, -5e-324]):
        got = want.copy()
        got[i] = bad
        assert mismatches(got, want).tolist() == [j == i for j in range(6)], (i, bad)
    assert not mismatches(got, want, zero_sign=False)[2]
    near = np.array([1.0 + 3 * np.finfo(float).eps, -1e-310])
    far = np.array([1.0, -1e-310 - 6 * 5e-324])
    assert mismatches(near, far, ulp=2).tolist() == [True, True]
    assert mismatches(near, far, ulp=6).tolist() == [False, False]
    assert ulp_distance(np.array([-0.0, 5e-324], np.float64), np.array([5e-324, -5e-324])
                        ).tolist() == [1, 2]
    with pytest.raises(AssertionError, match="dtype"):
        check(np.zeros(2, np.float32), np.zeros(2), (), "x")
    with pytest.raises(AssertionError, match=r"f\(3\) = 1, NumPy: 2"):
        check(np.array([1]), np.array([2]), (np.array([3]),), "x")


def numpy_ref(ref, *args):
    """NumPy's result; where NumPy computes in float16, its float32 computation."""
    with np.errstate(all="ignore"):
        want = np.asarray(ref(*args))
        if want.dtype == np.float16:
            args32 = [x.astype(np.float32) if isinstance(x, np.ndarray) and x.dtype.kind in "biu"
                      else x for x in args]
            want = np.asarray(ref(*args32))
            assert want.dtype == np.float32
    return want


def numpy_defines(ref, *dtypes):
    """Whether NumPy has a loop for `ref` on these dtypes (TypeError otherwise)."""
    try:
        with np.errstate(all="ignore"):
            ref(*[np.ones(2, dtype=d) for d in dtypes])
    except TypeError:
        return False
    return True


# Kernels are `def` functions written to small temporary modules: ember reads a
# kernel's source, and a def in its own file is much cheaper to find and parse
# than a lambda inside this large file.
_KERNEL_DIR = tempfile.mkdtemp(prefix="ember_test_values_")
atexit.register(shutil.rmtree, _KERNEL_DIR, True)
_KERNELS = {}
# Parameters a kernel expression may use, in the order the test passes them.
_PARAMS = ["c", "a", "x", "b", "y", "lo", "hi"]


def kernel(expr):
    """@ember.vectorize of `def k(<params>): return <expr>` (one per expression)."""
    if expr not in _KERNELS:
        used = {n.id for n in ast.walk(ast.parse(expr)) if isinstance(n, ast.Name)}
        params = ", ".join(p for p in _PARAMS if p in used)
        name = f"k{len(_KERNELS)}"
        path = os.path.join(_KERNEL_DIR, f"{name}.py")
        with open(path, "w") as f:
            f.write(f"import math\nimport numpy as np\n\n\ndef {name}({params}):\n"
                    f"    return {expr}\n")
        spec = importlib.util.spec_from_file_location(f"ember_test_values_{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _KERNELS[expr] = ember.vectorize(getattr(module, name))
    return _KERNELS[expr]


def run(expr, *args):
    with np.errstate(all="ignore"):
        return kernel(expr)(*args)


# --- binary operators and functions -------------------------------------------------------

def py_min(a, b):
    """Python's min(a, b): the first argument unless the second is smaller."""
    return np.where(b < a, b, a)


def py_max(a, b):
    return np.where(b > a, b, a)


# name: (kernel, NumPy reference, kind); kind: "exact" or "ulp". np.minimum/maximum
# are exact, the sign of zeros included: ember follows NumPy's loops (a tie between
# -0.0 and 0.0 gives the second operand).
BINARY = {
    "add": ("a + b", operator.add, "exact"),
    "sub": ("a - b", operator.sub, "exact"),
    "mul": ("a * b", operator.mul, "exact"),
    "truediv": ("a / b", operator.truediv, "exact"),
    "floordiv": ("a // b", operator.floordiv, "exact"),
    "mod": ("a % b", operator.mod, "exact"),
    "pow": ("a ** b", operator.pow, "ulp"),
    "and": ("a & b", operator.and_, "exact"),
    "or": ("a | b", operator.or_, "exact"),
    "xor": ("a ^ b", operator.xor, "exact"),
    "lshift": ("a << b", operator.lshift, "exact"),
    "rshift": ("a >> b", operator.rshift, "exact"),
    "eq": ("a == b", operator.eq, "exact"),
    "ne": ("a != b", operator.ne, "exact"),
    "lt": ("a < b", operator.lt, "exact"),
    "le": ("a <= b", operator.le, "exact"),
    "gt": ("a > b", operator.gt, "exact"),
    "ge": ("a >= b", operator.ge, "exact"),
    "min": ("min(a, b)", py_min, "exact"),
    "max": ("max(a, b)", py_max, "exact"),
    "np.minimum": ("np.minimum(a, b)", np.minimum, "exact"),
    "np.maximum": ("np.maximum(a, b)", np.maximum, "exact"),
    "np.arctan2": ("np.arctan2(a, b)", np.arctan2, "ulp"),
    "np.power": ("np.power(a, b)", np.power, "ulp"),
    "np.hypot": ("np.hypot(a, b)", np.hypot, "ulp"),
    "np.fmod": ("np.fmod(a, b)", np.fmod, "exact"),
    "np.copysign": ("np.copysign(a, b)", np.copysign, "exact"),
}


# Genuine ember bugs found by these tests are kept here as strict xfails
# until fixed: (name, *dtypes) -> reason.
KNOWN_BUGS = {}


def case(name, *dtypes):
    """pytest.param for (name, *dtypes), strict xfail where KNOWN_BUGS lists it."""
    bug = KNOWN_BUGS.get((name,) + dtypes)
    marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
    return pytest.param(name, *dtypes, id="-".join((name,) + dtypes), marks=marks)


def _binary_cases():
    return [case(name, dtype) for name, (_, ref, _) in BINARY.items() for dtype in DTYPES
            if numpy_defines(ref, dtype, dtype)]


def _no_negative_int_powers(name, dtype, b):
    # integer ** negative integer: NumPy raises, ember documents 0 / +-1
    if name in ("pow", "np.power") and np.dtype(dtype).kind == "i":
        return np.where(b < 0, np.bitwise_and(b, 7), b)
    return b


@pytest.mark.parametrize("name,dtype", _binary_cases())
def test_binary(name, dtype):
    fn, ref, kind = BINARY[name]
    a, b = binary_inputs(dtype, dtype)
    b = _no_negative_int_powers(name, dtype, b)
    got = run(fn, a, b)
    want = numpy_ref(ref, a, b)
    check(got, want, (a, b), f"{name}({dtype}, {dtype})",
          ulp=ULP[want.dtype.name] if kind == "ulp" and want.dtype.kind == "f" else 0)


def test_integer_negative_powers_follow_the_documented_rule():
    """NumPy raises for integer ** negative integer; ember (ir/eval.cpp) defines it as
    the truncated exact value: 1 for 1, +-1 for -1, 0 otherwise (0 ** -n included)."""
    a = np.array([1, -1, -1, 2, -2, 0, 7, 1], dtype=np.int32)
    b = np.array([-1, -1, -2, -1, -3, -1, -5, -2147483648], dtype=np.int32)
    assert run("a ** b", a, b).tolist() == [1, -1, 1, 0, 0, 0, 0, 1]
    assert run("a ** b", a.astype(np.int8), np.maximum(b, -128).astype(np.int8)).tolist() == [
        1, -1, 1, 0, 0, 0, 0, 1]


def test_math_on_small_integers_is_float32():
    """Where NumPy computes in float16 (math on bool/int8/uint8), ember uses float32,
    with the values of NumPy's float32 computation (types.h)."""
    for dtype in ("bool", "int8", "uint8"):
        a = unary_inputs(dtype)
        assert np.sqrt(np.ones(1, dtype)).dtype == np.float16  # the case this rule is about
        got = run("np.sqrt(a)", a)
        assert got.dtype == np.float32
        with np.errstate(invalid="ignore"):
            want = np.sqrt(a.astype(np.float32))
        check(got, want, (a,), f"np.sqrt({dtype})")
    for dtype in ("int16", "uint16"):  # NumPy itself uses float32 here
        assert run("np.sqrt(a)", np.ones(2, dtype)).dtype == np.sqrt(np.ones(2, dtype)).dtype


def test_integer_edge_cases():
    """The cases NumPy 2 defines with a warning: division by zero and INT_MIN // -1."""
    fd, mod = BINARY["floordiv"][0], BINARY["mod"][0]
    for dtype in INT_DTYPES:
        info = np.iinfo(dtype)
        a = np.array([7, 0, info.min, info.max, info.min, info.min, -7 if info.min else 7],
                     dtype=dtype)
        b = np.array([0, 0, 0, 0, -1 if info.min else 1, 1, 2], dtype=dtype)
        with np.errstate(all="ignore"):
            check(run(fd, a, b), a // b, (a, b), f"floordiv({dtype})")
            check(run(mod, a, b), a % b, (a, b), f"mod({dtype})")
    # spelled out, so that a change in NumPy cannot hide a change in ember
    got = run(fd, np.array([5, -5, -128], np.int8), np.array([0, 0, -1], np.int8))
    assert got.tolist() == [0, 0, -128]
    got = run(mod, np.array([5, -5, -128, -7], np.int8), np.array([0, 0, -1, 2], np.int8))
    assert got.tolist() == [0, 0, 0, 1]


def test_shift_by_width_or_more():
    shl, shr = BINARY["lshift"][0], BINARY["rshift"][0]
    for dtype in INT_DTYPES:
        bits = np.dtype(dtype).itemsize * 8
        signed = np.dtype(dtype).kind == "i"
        a = np.array([1, 3, -1 if signed else 5, -8 if signed else 8] * 4, dtype=dtype)
        b = np.repeat(np.array([bits - 1, bits, bits + 1, 200 % (2 ** (bits - 1))],
                               dtype=dtype), 4)
        with np.errstate(all="ignore"):
            check(run(shl, a, b), np.left_shift(a, b), (a, b), f"lshift({dtype})")
            check(run(shr, a, b), np.right_shift(a, b), (a, b), f"rshift({dtype})")
    a, b = np.array([-8, 8, 1], np.int32), np.array([40, 40, 32], np.int32)
    assert run(shr, a, b).tolist() == [-1, 0, 0]
    assert run(shl, a, b).tolist() == [0, 0, 0]


def test_float_division_edges():
    div, fd, mod = BINARY["truediv"][0], BINARY["floordiv"][0], BINARY["mod"][0]
    a = np.array([1.0, -1.0, 0.0, -0.0, np.nan, np.inf, 5.0, -5.0, 5.0, -5.0, 1e308, 5e-324])
    b = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.0, -0.0, 3.0, 3.0, 1e-308, 1e300])
    with np.errstate(all="ignore"):
        for fn, ref, name in ((div, np.true_divide, "/"), (fd, np.floor_divide, "//"),
                              (mod, np.remainder, "%")):
            for dtype in FLOAT_DTYPES:
                x, y = a.astype(dtype), b.astype(dtype)
                check(run(fn, x, y), ref(x, y), (x, y), f"{name} ({dtype})")


# --- unary operators and functions ----------------------------------------------------------

# name: (kernel, NumPy reference, kind)
UNARY = {
    "neg": ("-a", np.negative, "exact"),
    "pos": ("+a", np.positive, "exact"),
    "invert": ("~a", np.invert, "exact"),
    "not": ("not a", np.logical_not, "exact"),
    "abs": ("abs(a)", np.abs, "exact"),
    "np.abs": ("np.abs(a)", np.abs, "exact"),
    "np.sqrt": ("np.sqrt(a)", np.sqrt, "exact"),
    "np.cbrt": ("np.cbrt(a)", np.cbrt, "ulp"),
    "np.exp": ("np.exp(a)", np.exp, "ulp"),
    "np.exp2": ("np.exp2(a)", np.exp2, "ulp"),
    "np.expm1": ("np.expm1(a)", np.expm1, "ulp"),
    "np.log": ("np.log(a)", np.log, "ulp"),
    "np.log2": ("np.log2(a)", np.log2, "ulp"),
    "np.log10": ("np.log10(a)", np.log10, "ulp"),
    "np.log1p": ("np.log1p(a)", np.log1p, "ulp"),
    "np.sin": ("np.sin(a)", np.sin, "ulp"),
    "np.cos": ("np.cos(a)", np.cos, "ulp"),
    "np.tan": ("np.tan(a)", np.tan, "ulp"),
    "np.arcsin": ("np.arcsin(a)", np.arcsin, "ulp"),
    "np.arccos": ("np.arccos(a)", np.arccos, "ulp"),
    "np.arctan": ("np.arctan(a)", np.arctan, "ulp"),
    "np.sinh": ("np.sinh(a)", np.sinh, "ulp"),
    "np.cosh": ("np.cosh(a)", np.cosh, "ulp"),
    "np.tanh": ("np.tanh(a)", np.tanh, "ulp"),
    "np.arcsinh": ("np.arcsinh(a)", np.arcsinh, "ulp"),
    "np.arccosh": ("np.arccosh(a)", np.arccosh, "ulp"),
    "np.arctanh": ("np.arctanh(a)", np.arctanh, "ulp"),
    "np.floor": ("np.floor(a)", np.floor, "exact"),
    "np.ceil": ("np.ceil(a)", np.ceil, "exact"),
    "np.trunc": ("np.trunc(a)", np.trunc, "exact"),
    "np.rint": ("np.rint(a)", np.rint, "exact"),
    "np.fabs": ("np.fabs(a)", np.fabs, "exact"),
    "np.isnan": ("np.isnan(a)", np.isnan, "exact"),
    "np.isinf": ("np.isinf(a)", np.isinf, "exact"),
    "np.isfinite": ("np.isfinite(a)", np.isfinite, "exact"),
    "np.signbit": ("np.signbit(a)", np.signbit, "exact"),
}


def _unary_cases():
    return [pytest.param(name, dtype, id=f"{name}-{dtype}")
            for name, (fn, ref, kind) in UNARY.items() for dtype in DTYPES
            if numpy_defines(ref, dtype)]


@pytest.mark.parametrize("name,dtype", _unary_cases())
def test_unary(name, dtype):
    fn, ref, kind = UNARY[name]
    a = unary_inputs(dtype)
    got = run(fn, a)
    want = numpy_ref(ref, a)
    check(got, want, (a,), f"{name}({dtype})",
          ulp=ULP[want.dtype.name] if kind == "ulp" and want.dtype.kind == "f" else 0)


def _as_math_float(a):
    """The float Python's math module computes in: float32 stays, the rest -> float64."""
    return a if a.dtype == np.float32 else a.astype(np.float64)


def _scalar_ref(pyfunc):
    """A NumPy-style reference from a scalar float64 function (math.erf ...): computed in
    float64 and rounded to the input's float type."""
    def ref(x):
        out = np.array([pyfunc(float(v)) for v in x.ravel()], dtype=np.float64)
        return out.astype(x.dtype).reshape(x.shape)
    return ref


def _math_erfc(x):
    return math.erfc(x)


# math-module functions: Python computes them in float; ember keeps float32 float32.
# name: (kernel, reference on the float input, kind)
MATH_UNARY = {
    "math.sqrt": ("math.sqrt(a)", np.sqrt, "exact"),
    "math.cbrt": ("math.cbrt(a)", np.cbrt, "ulp"),
    "math.exp": ("math.exp(a)", np.exp, "ulp"),
    "math.exp2": ("math.exp2(a)", np.exp2, "ulp"),
    "math.expm1": ("math.expm1(a)", np.expm1, "ulp"),
    "math.log": ("math.log(a)", np.log, "ulp"),
    "math.log2": ("math.log2(a)", np.log2, "ulp"),
    "math.log10": ("math.log10(a)", np.log10, "ulp"),
    "math.log1p": ("math.log1p(a)", np.log1p, "ulp"),
    "math.sin": ("math.sin(a)", np.sin, "ulp"),
    "math.cos": ("math.cos(a)", np.cos, "ulp"),
    "math.tan": ("math.tan(a)", np.tan, "ulp"),
    "math.asin": ("math.asin(a)", np.arcsin, "ulp"),
    "math.acos": ("math.acos(a)", np.arccos, "ulp"),
    "math.atan": ("math.atan(a)", np.arctan, "ulp"),
    "math.sinh": ("math.sinh(a)", np.sinh, "ulp"),
    "math.cosh": ("math.cosh(a)", np.cosh, "ulp"),
    "math.tanh": ("math.tanh(a)", np.tanh, "ulp"),
    "math.asinh": ("math.asinh(a)", np.arcsinh, "ulp"),
    "math.acosh": ("math.acosh(a)", np.arccosh, "ulp"),
    "math.atanh": ("math.atanh(a)", np.arctanh, "ulp"),
    "math.erf": ("math.erf(a)", _scalar_ref(math.erf), "ulp"),
    "math.erfc": ("math.erfc(a)", _scalar_ref(_math_erfc), "ulp"),
    "math.fabs": ("math.fabs(a)", np.fabs, "exact"),
    "math.isnan": ("math.isnan(a)", np.isnan, "exact"),
    "math.isinf": ("math.isinf(a)", np.isinf, "exact"),
    "math.isfinite": ("math.isfinite(a)", np.isfinite, "exact"),
}
# Functions that exist only in the math module are tested on every dtype; the
# rest share their IR operation with the np.* function tested above, so a
# representative set of dtypes checks the math-module conversion.
MATH_ONLY = ("math.erf", "math.erfc", "math.fabs")
MATH_DTYPES = ["int8", "float32", "float64"]


def _math_cases():
    return [pytest.param(name, dtype, id=f"{name}-{dtype}") for name in MATH_UNARY
            for dtype in (DTYPES if name in MATH_ONLY else MATH_DTYPES)]


@pytest.mark.parametrize("name,dtype", _math_cases())
def test_math_unary(name, dtype):
    fn, ref, kind = MATH_UNARY[name]
    a = unary_inputs(dtype)
    got = run(fn, a)
    want = numpy_ref(ref, _as_math_float(a))
    check(got, want, (a,), f"{name}({dtype})",
          ulp=ULP[want.dtype.name] if kind == "ulp" and want.dtype.kind == "f" else 0)


# math.floor/ceil/trunc follow np.floor (NumPy 2: integers stay integers)
MATH_ROUNDING = {
    "math.floor": ("math.floor(a)", np.floor),
    "math.ceil": ("math.ceil(a)", np.ceil),
    "math.trunc": ("math.trunc(a)", np.trunc),
    "round": ("round(a)", np.round),
    "np.round": ("np.round(a)", np.round),
}


@pytest.mark.parametrize("name,dtype", [case(name, dtype) for name in MATH_ROUNDING
                                        for dtype in ("int8", "uint64", "int64", "float32",
                                                      "float64")])
def test_rounding_functions(name, dtype):
    fn, ref = MATH_ROUNDING[name]
    a = unary_inputs(dtype)
    check(run(fn, a), numpy_ref(ref, a), (a,), f"{name}({dtype})")


def test_rint_rounds_half_to_even():
    a = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5, 4.5, 2.4999999999999996, -0.4])
    for name in ("np.rint", "np.round", "round"):
        fn = UNARY["np.rint"][0] if name == "np.rint" else MATH_ROUNDING[name][0]
        got = run(fn, a)
        np.testing.assert_array_equal(got, [0.0, 2.0, 2.0, -0.0, -2.0, -2.0, 4.0, 4.0, 2.0, -0.0])
        assert np.signbit(got[3]) and np.signbit(got[9])


MATH_BINARY = {
    "math.pow": ("math.pow(a, b)", np.power, "ulp"),
    "pow()": ("pow(a, b)", np.power, "ulp"),
    "math.atan2": ("math.atan2(a, b)", np.arctan2, "ulp"),
    "math.hypot": ("math.hypot(a, b)", np.hypot, "ulp"),
    "math.fmod": ("math.fmod(a, b)", np.fmod, "exact"),
    "math.copysign": ("math.copysign(a, b)", np.copysign, "exact"),
    "math.log(x, base)": ("math.log(a, b)", lambda x, y: np.log(x) / np.log(y),
                          "ulp"),
}


@pytest.mark.parametrize("name", list(MATH_BINARY))
@pytest.mark.parametrize("dtype", ["int32", "float32", "float64"])
def test_math_binary(name, dtype):
    fn, ref, kind = MATH_BINARY[name]
    a, b = binary_inputs(dtype, dtype, seed=1)
    if name == "pow()":  # the builtin is the ** operator, integers included
        b = _no_negative_int_powers("pow", dtype, b)
        want = numpy_ref(ref, a, b)
    else:
        want = numpy_ref(ref, _as_math_float(a), _as_math_float(b))
    got = run(fn, a, b)
    check(got, want, (a, b), f"{name}({dtype}, {dtype})",
          ulp=ULP[want.dtype.name] if kind == "ulp" and want.dtype.kind == "f" else 0)


# --- selection ------------------------------------------------------------------------------

SELECT = {
    "np.where": "np.where(c, x, y)",
    "ifexp": "x if c else y",
}


@pytest.mark.parametrize("name", list(SELECT))
@pytest.mark.parametrize("dtype", DTYPES)
def test_select(name, dtype):
    x, y = binary_inputs(dtype, dtype, seed=2)
    c = np.random.default_rng(3).integers(0, 2, x.size).astype(bool)
    check(run(SELECT[name], c, x, y), np.where(c, x, y), (c, x, y), f"{name}({dtype})")


def test_where_condition_of_any_dtype_is_its_truth():
    fn = SELECT["np.where"]
    for dtype in DTYPES:
        c = unary_inputs(dtype)
        x, y = np.arange(c.size, dtype=np.int32), np.int32(-1) * np.ones(c.size, np.int32)
        check(run(fn, c, x, y), np.where(c, x, y), (c,), f"np.where({dtype} condition)")


CLIP = "np.clip(a, lo, hi)"


@pytest.mark.parametrize("dtype", DTYPES)
def test_clip(dtype):
    a, lo = binary_inputs(dtype, dtype, seed=4)
    hi = np.random.default_rng(5).permutation(lo)
    check(run(CLIP, a, lo, hi), numpy_ref(np.clip, a, lo, hi), (a, lo, hi), f"clip({dtype})")


# --- casts ----------------------------------------------------------------------------------

CASTS = {
    "int": ("int(a)", "int64"),
    "float": ("float(a)", "float64"),
    "bool": ("bool(a)", "bool"),
    "np.bool_": ("np.bool_(a)", "bool"),
    "np.int8": ("np.int8(a)", "int8"),
    "np.int16": ("np.int16(a)", "int16"),
    "np.int32": ("np.int32(a)", "int32"),
    "np.int64": ("np.int64(a)", "int64"),
    "np.uint8": ("np.uint8(a)", "uint8"),
    "np.uint16": ("np.uint16(a)", "uint16"),
    "np.uint32": ("np.uint32(a)", "uint32"),
    "np.uint64": ("np.uint64(a)", "uint64"),
    "np.float32": ("np.float32(a)", "float32"),
    "np.float64": ("np.float64(a)", "float64"),
}


def _cast_cases():
    cases = []
    for name in CASTS:
        # int()/float()/np.bool_ are the same IR as np.int64/np.float64/bool()
        sources = ["bool", "int8", "uint64", "float32", "float64"] if name in (
            "int", "float", "np.bool_") else DTYPES
        cases += [pytest.param(name, src, id=f"{name}-{src}") for src in sources]
    return cases


def _defined_cast_inputs(a, target):
    """Float -> int casts of NaN, inf and out-of-range values are unspecified: dropped."""
    if a.dtype.kind != "f" or np.dtype(target).kind not in "iu":
        return a
    info = np.iinfo(target)
    keep = [math.isfinite(v) and info.min <= math.trunc(v) <= info.max for v in a.tolist()]
    return a[np.array(keep)]


@pytest.mark.parametrize("name,src", _cast_cases())
def test_cast(name, src):
    fn, target = CASTS[name]
    a = _defined_cast_inputs(unary_inputs(src), target)
    assert a.size > 10
    if target == "bool":
        want = a != 0
    else:
        with np.errstate(all="ignore"):
            want = a.astype(target)
    check(run(fn, a), want, (a,), f"{name}({src})")


def test_float_to_int_cast_edges():
    """Values at the edges of the target range that are still defined."""
    a = np.array([2.0 ** 63 - 1024, -2.0 ** 63, 2.0 ** 64 - 2048, 0.9999, -0.9999, 255.9,
                  -128.9, 127.5])
    check(run(CASTS["np.int64"][0], a[:2]), a[:2].astype(np.int64), (a[:2],), "int64(f64)")
    check(run(CASTS["np.uint64"][0], a[2:4]), a[2:4].astype(np.uint64), (a[2:4],),
          "uint64(f64)")
    check(run(CASTS["np.uint8"][0], a[3:6]), a[3:6].astype(np.uint8), (a[3:6],), "uint8(f64)")
    check(run(CASTS["np.int8"][0], a[6:]), a[6:].astype(np.int8), (a[6:],), "int8(f64)")


# --- promotion of mixed dtypes ---------------------------------------------------------------

PROMOTE = {
    "add": "a + b",
    "lt": "a < b",
}
PROMOTE_REF = {"add": np.add, "lt": np.less}


@pytest.mark.parametrize("name", list(PROMOTE))
@pytest.mark.parametrize("dtype_b", DTYPES)
@pytest.mark.parametrize("dtype_a", DTYPES)
def test_promotion(name, dtype_a, dtype_b):
    a, b = binary_inputs(dtype_a, dtype_b, seed=6)
    want = numpy_ref(PROMOTE_REF[name], a, b)
    assert want.dtype == (np.bool_ if name == "lt" else np.result_type(a.dtype, b.dtype))
    check(run(PROMOTE[name], a, b), want, (a, b), f"{name}({dtype_a}, {dtype_b})")


def test_int64_uint64_comparisons_are_exact():
    big = np.array([2 ** 63 - 1, 2 ** 63, 2 ** 63 + 1, 2 ** 64 - 1, 0, 1], dtype=np.uint64)
    small = np.array([2 ** 63 - 1, -1, -(2 ** 63), 2 ** 63 - 2, 0, 1], dtype=np.int64)
    a, b = (x.ravel() for x in np.meshgrid(small, big, indexing="ij"))
    got = run(PROMOTE["lt"], a, b)
    want = np.array([int(x) < int(y) for x, y in zip(a.tolist(), b.tolist())])
    check(got, want, (a, b), "int64 < uint64 (exact)")
    check(got, a < b, (a, b), "int64 < uint64 (NumPy)")
    got = run(BINARY["eq"][0], b, a)
    want = np.array([int(x) == int(y) for x, y in zip(b.tolist(), a.tolist())])
    check(got, want, (b, a), "uint64 == int64 (exact)")


# --- Python scalars (weak) ---------------------------------------------------------------------

WEAK_SCALARS = {"int": [0, 1, 2, 7, 100, -1, -3], "float": [1.5, 2.5, -0.0, 0.1, math.nan,
                                                            math.inf, 1e300],
                "bool": [True, False]}


def _fits(value, dtype):
    """Python ints out of range of an integer dtype: NumPy 2 raises (OverflowError)."""
    dt = np.dtype(dtype)
    if isinstance(value, bool) or not isinstance(value, int) or dt.kind not in "iu":
        return True
    return np.iinfo(dt).min <= value <= np.iinfo(dt).max


@pytest.mark.parametrize("name", list(PROMOTE))
@pytest.mark.parametrize("kind", list(WEAK_SCALARS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_python_scalar_arguments(name, kind, dtype):
    a = unary_inputs(dtype)
    checked = 0
    for value in WEAK_SCALARS[kind]:
        if not _fits(value, dtype):
            continue
        # both operand orders, alternating to keep the number of compiles down
        for args in [((a, value), (value, a))[checked % 2]]:
            want = numpy_ref(PROMOTE_REF[name], *args)
            types = ", ".join(x.dtype.name if isinstance(x, np.ndarray) else type(x).__name__
                              for x in args)
            check(run(PROMOTE[name], *args), want, (a,), f"{name}({types}) with {value!r}")
            checked += 1
    assert checked >= 2


# kernels with Python literals: name -> (kernel, NumPy reference)
LITERALS = {
    "a + 1": ("a + 1", lambda a: a + 1),
    "a * 2.5": ("a * 2.5", lambda a: a * 2.5),
    "a < 3": ("a < 3", lambda a: a < 3),
    "a // 3": ("a // 3", lambda a: a // 3),
    "a & True": ("a & True", lambda a: a & True),
    "a - 0.5": ("a - 0.5", lambda a: a - 0.5),
    "a * math.sqrt(2)": ("a * math.sqrt(2)", lambda a: a * math.sqrt(2)),  # a Python float
    "a + 0.1": ("a + 0.1", lambda a: a + 0.1),  # float32: 0.1 rounded to float32 first
    "a * 1e300": ("a * 1e300", lambda a: a * 1e300),  # float32: inf
    "a / 3": ("a / 3", lambda a: a / 3),
    "a % 7": ("a % 7", lambda a: a % 7),
    "a == 0.1": ("a == 0.1", lambda a: a == 0.1),
    "a >> 1": ("a >> 1", lambda a: a >> 1),
}


def _literal_cases():
    return [case(name, dtype) for name, (_, ref) in LITERALS.items()
            for dtype in DTYPES if numpy_defines(lambda x: ref(x), dtype)]


@pytest.mark.parametrize("name,dtype", _literal_cases())
def test_python_literals(name, dtype):
    fn, ref = LITERALS[name]
    a = unary_inputs(dtype)
    check(run(fn, a), numpy_ref(ref, a), (a,), f"{name} ({dtype})")


@pytest.mark.parametrize("dtype,value,expected", [
    ("uint8", 1, "uint8"), ("int8", 1, "int8"), ("uint64", 1, "uint64"), ("bool", 1, "int64"),
    ("float32", 2.5, "float32"), ("float32", 1, "float32"), ("int8", 1.5, "float64"),
    ("uint16", 1.5, "float64"), ("bool", 1.5, "float64"), ("bool", True, "bool"),
    ("int16", True, "int16"), ("float32", True, "float32"),
])
def test_weak_result_dtypes(dtype, value, expected):
    a = np.ones(4, dtype=dtype)
    got = run(PROMOTE["add"], a, value)
    assert got.dtype == np.dtype(expected)
    assert (a + value).dtype == np.dtype(expected)  # the oracle agrees
    check(got, np.add(a, value), (a,), f"{dtype} + {value!r}")




@pytest.mark.parametrize("expr,args,ref", [
    pytest.param("a * np.sqrt(2)", (np.array([3.0, 0.1], np.float32),),
                 lambda a: a * np.sqrt(2), id="f32*np.sqrt(2)"),
    pytest.param("np.floor(b) + a", (np.array([3.0, 0.1], np.float32), 2.5),
                 lambda a, b: np.floor(b) + a, id="np.floor(float)+f32"),
    pytest.param("a + np.minimum(b, 2)", (np.array([100, -3], np.int8), 7),
                 lambda a, b: a + np.minimum(b, 2), id="i8+np.minimum(int,2)"),
    pytest.param("a + abs(b)", (np.array([100, -3], np.int8), 7),
                 lambda a, b: a + abs(b), id="i8+abs(int)"),  # builtins keep Python types
])
def test_numpy_functions_of_python_scalars(expr, args, ref):
    check(run(expr, *args), numpy_ref(ref, *args), args[:1], expr)




@pytest.mark.parametrize("expr,args,ref", [
    pytest.param("a + (True * 2)", (np.array([100, -3], np.int8),),
                 lambda a: a + (True * 2), id="i8+(True*2)"),
    pytest.param("a * (True + 0.5)", (np.array([3.0, 0.1], np.float32),),
                 lambda a: a * (True + 0.5), id="f32*(True+0.5)"),
    pytest.param("a * (b + 0.5)", (np.array([3.0, 0.1], np.float32), True),
                 lambda a, b: a * (b + 0.5), id="f32*(bool arg+0.5)"),
    pytest.param("math.copysign(a, False)", (np.array([3.0, -0.1], np.float32),),
                 lambda a: np.copysign(a, float(False)), id="math.copysign(f32,False)"),
    pytest.param("a + True", (np.array([100, -3], np.int8),), lambda a: a + True,
                 id="i8+True"),
    pytest.param("a * b", (np.array([3.0, 0.1], np.float32), True), lambda a, b: a * b,
                 id="f32*bool arg"),
])
def test_python_bools_are_weak(expr, args, ref):
    check(run(expr, *args), numpy_ref(ref, *args), args[:1], expr)
