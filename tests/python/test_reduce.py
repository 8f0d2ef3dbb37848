"""@ember.reduce: values against NumPy for every operator and dtype, axes,
broadcasting and memory layouts, NumPy's accumulator dtypes, empty inputs,
results independent of the thread count (bitwise), float sums at least as
accurate as NumPy's pairwise sums, and every error a caller can cause.
"""

import math

import numpy as np
import pytest

import ember

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float32", "float64"]
NUMPY_REDUCE = {"+": np.sum, "*": np.prod, "min": np.min, "max": np.max}


def identity(x):
    return x


# One scalar function, four reductions of it.
total, product, smallest, largest = (ember.reduce(op)(identity) for op in ("+", "*", "min", "max"))


@ember.reduce("+")
def dot(x, y):
    return x * y


fast_total = ember.reduce("+", fastmath=True)(identity)

KERNELS = {"+": total, "*": product, "min": smallest, "max": largest}


def sample(dtype, shape, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.integers(0, 2, size=shape).astype(bool)
    if np.dtype(dtype).kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(max(info.min, -100), min(info.max, 100), size=shape, endpoint=True,
                            dtype=dtype)
    return rng.normal(size=shape).astype(dtype)


def assert_matches(got, want, dtype):
    assert np.asarray(got).dtype == np.asarray(want).dtype, (np.asarray(got).dtype, want.dtype)
    assert np.shape(got) == np.shape(want)
    if np.dtype(dtype).kind == "f":
        rtol = 1e-5 if dtype == "float32" else 1e-12
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * 10)
    else:
        np.testing.assert_array_equal(got, want)


# --- values ------------------------------------------------------------------------------

@pytest.mark.parametrize("op", list(KERNELS))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 7, 16, 17, 300, 5000])
def test_every_operator_and_dtype(op, dtype, n):
    x = sample(dtype, n, seed=n)
    if op == "*" and np.dtype(dtype).kind in "iu":
        x = (x % 3 + 1).astype(dtype)
    if op == "*" and np.dtype(dtype).kind == "f":  # products near 1: no overflow
        x = (1 + x * 1e-3).astype(dtype)
    got = KERNELS[op](x)
    want = NUMPY_REDUCE[op](x)
    assert type(got) is type(want)
    assert_matches(got, want, dtype)


@pytest.mark.parametrize("dtype", ["int8", "uint16", "int32", "uint32", "bool"])
def test_integer_sums_widen_like_numpy(dtype):
    x = np.full(70000, 127 if dtype != "bool" else 1, dtype=dtype)
    assert_matches(total(x), np.sum(x), dtype)
    assert total(x).dtype == np.sum(x).dtype


def test_integer_overflow_wraps():
    x = np.array([2**62, 2**62, 2**62], dtype=np.int64)
    with np.errstate(over="ignore"):
        assert total(x) == np.sum(x)
        assert product(np.array([2**40, 2**40], dtype=np.int64)) == np.prod(
            np.array([2**40, 2**40], dtype=np.int64))


def test_nan_and_infinities():
    x = np.arange(1000.0)
    x[537] = np.nan
    for op in KERNELS:
        assert math.isnan(KERNELS[op](x))
    y = np.arange(1000.0)
    y[3] = np.inf
    assert total(y) == np.inf and largest(y) == np.inf
    y[900] = -np.inf
    assert math.isnan(total(y))
    assert total(np.array([1e308, 1e308, 1.0])) == np.inf
    assert smallest(y) == -np.inf


def test_signed_zero_sum_like_numpy():
    assert math.copysign(1.0, total(np.array([-0.0]))) == math.copysign(1.0, np.sum([-0.0]))


def test_map_of_several_arguments_and_python_scalars():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=1000), rng.normal(size=1000)
    np.testing.assert_allclose(dot(a, b), np.dot(a, b), rtol=1e-12)
    np.testing.assert_allclose(dot(a, 2.0), np.sum(a * 2.0), rtol=1e-12)
    np.testing.assert_allclose(dot(a.astype(np.float32), 2.0), np.sum(a.astype(np.float32) * 2),
                               rtol=1e-5)
    assert dot(a.astype(np.float32), 2.0).dtype == np.float32
    assert dot(3, 4) == 12 and dot(3, 4).dtype == np.int64


# --- axes, broadcasting, layouts -----------------------------------------------------------

AXES = [None, 0, 1, 2, -1, (0, 2), (1, 2), (0, 1, 2), (2, 0)]


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("layout", ["c", "f", "transposed", "strided", "negative"])
def test_axes_and_layouts(axis, layout):
    base = sample("float64", (6, 40, 37), seed=5)
    x = {"c": base, "f": np.asfortranarray(base), "transposed": base.transpose(2, 0, 1).copy().transpose(1, 2, 0),
         "strided": sample("float64", (12, 40, 74), seed=6)[::2, :, ::2],
         "negative": base[::-1, :, ::-1]}[layout]
    for op in ("+", "max"):
        assert_matches(KERNELS[op](x, axis=axis), NUMPY_REDUCE[op](x, axis=axis), "float64")
    xi = (x * 100).astype(np.int32)
    assert_matches(total(xi, axis=axis), np.sum(xi, axis=axis), "int32")


@pytest.mark.parametrize("sx,sy,axis", [
    ((3, 1), (4,), None), ((3, 1), (4,), 0), ((3, 1), (4,), 1), ((5,), (), None),
    ((2, 1, 3), (4, 1), -1), ((2, 1, 3), (4, 1), (0, 1)), ((1,), (1,), 0), ((), (), None),
])
def test_broadcasting(sx, sy, axis):
    x, y = sample("float64", sx, 1), sample("float64", sy, 2)
    assert_matches(dot(x, y, axis=axis), np.sum(x * y, axis=axis), "float64")


def test_long_rows_and_many_short_rows():
    rng = np.random.default_rng(4)
    tall = rng.normal(size=(100000, 3))
    assert_matches(total(tall, axis=1), np.sum(tall, axis=1), "float64")
    assert_matches(total(tall, axis=0), np.sum(tall, axis=0), "float64")
    wide = rng.integers(-9, 9, size=(3, 100003))
    assert_matches(largest(wide, axis=1), np.max(wide, axis=1), "int64")
    assert_matches(total(wide, axis=None), np.sum(wide), "int64")


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "int32", "uint8"])
@pytest.mark.parametrize("n", [8191, 8192, 8209, 16400, 40003])
def test_every_element_counts_once_around_the_stream_threshold(dtype, n):
    # From 8192 float64 or float32 elements a call reads several streams side by side
    # (codegen.h). Small integers sum exactly in every dtype, so a skipped or repeated
    # element changes the result; one-hot rows catch one at any position.
    rng = np.random.default_rng(n)
    x = rng.integers(0, 100, size=n).astype(dtype)
    assert_matches(total(x), np.sum(x), dtype)
    rows = x[None, :].repeat(3, axis=0)
    assert_matches(total(rows, axis=1), np.sum(rows, axis=1), dtype)
    edges = [k * n // 4 + d for k in range(5) for d in (-1, 0, 1)]
    positions = sorted({p for p in edges + list(rng.integers(0, n, size=40)) if 0 <= p < n})
    hot = np.zeros((len(positions), n), dtype)
    hot[np.arange(len(positions)), positions] = 1
    np.testing.assert_array_equal(largest(hot, axis=1), np.ones(len(positions), dtype))
    np.testing.assert_array_equal(total(hot, axis=1), np.ones(len(positions)))


# --- empty inputs --------------------------------------------------------------------------

def test_empty_inputs():
    assert total(np.zeros(0)) == 0.0 and type(total(np.zeros(0))) is np.float64
    assert product(np.zeros(0, dtype=np.int8)) == 1
    assert product(np.zeros(0, dtype=np.int8)).dtype == np.int64
    np.testing.assert_array_equal(total(np.zeros((3, 0)), axis=1), np.zeros(3))
    assert total(np.zeros((0, 3)), axis=1).shape == (0,)
    assert largest(np.zeros((3, 0)), axis=0).shape == (0,)
    for kernel, word in ((smallest, "minimum"), (largest, "maximum")):
        with pytest.raises(ValueError, match=f"zero-size array to reduction operation {word} "
                                             "which has no identity"):
            kernel(np.zeros(0))
        with pytest.raises(ValueError, match="no identity"):
            kernel(np.zeros((3, 0)), axis=1)


# --- determinism and accuracy --------------------------------------------------------------

@pytest.mark.parametrize("shape,axis", [((3_000_001,), None), ((7, 300_001), 1), ((300_001, 7), 0),
                                        ((1000, 1000), None)])
def test_result_independent_of_thread_count(shape, axis):
    rng = np.random.default_rng(7)
    x = rng.normal(size=shape) * 10.0 ** rng.integers(-8, 8, size=shape)
    near_one = 1.0 + rng.normal(size=shape) * 1e-4  # products that neither overflow nor vanish
    calls = [lambda: dot(x, x[::-1] if x.ndim == 1 else x, axis=axis),
             lambda: total(x.astype(np.float32), axis=axis),
             lambda: fast_total(x, axis=axis),
             lambda: product(near_one, axis=axis),
             lambda: smallest(x, axis=axis),
             lambda: largest(x, axis=axis)]
    saved = ember.get_num_threads()
    try:
        results = []
        for threads in (1, 2, 3, 4, 7, 16):  # more threads than cores too
            ember.set_num_threads(threads)
            results.append([np.asarray(call()).tobytes() for call in calls])
        assert all(r == results[0] for r in results)
    finally:
        ember.set_num_threads(saved)


def exact_sum(x):
    return math.fsum(np.asarray(x, dtype=np.float64).ravel())


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float_sums_at_least_as_accurate_as_numpy(seed, dtype):
    # Ill-conditioned: huge values that cancel, hiding a small true sum.
    rng = np.random.default_rng(seed)
    big = rng.normal(size=200_000) * 1e8
    x = np.concatenate([big, -big, rng.normal(size=200_000)])
    x = x[rng.permutation(x.size)].astype(dtype)
    exact = exact_sum(x)
    ours, numpys = abs(float(total(x)) - exact), abs(float(np.sum(x)) - exact)
    assert ours <= numpys, (ours, numpys)
    # And a wide dynamic range with no cancellation.
    y = (rng.random(300_000) * 10.0 ** rng.integers(-6, 6, size=300_000)).astype(dtype)
    exact = exact_sum(y)
    assert abs(float(total(y)) - exact) <= abs(float(np.sum(y)) - exact)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fastmath_sums_plain_lanes(dtype):
    # Without compensation: within the plain-summation bound (n / 16 additions
    # per lane), and measurably less accurate than the default on cancelling data.
    rng = np.random.default_rng(3)
    x = rng.normal(size=100_003).astype(dtype)
    bound = (x.size / 16 + 64) * np.finfo(np.float64).eps * np.abs(x.astype(np.float64)).sum()
    bound += np.finfo(dtype).eps * abs(exact_sum(x))  # the result's own rounding
    assert abs(float(fast_total(x)) - exact_sum(x)) <= bound
    np.testing.assert_allclose(fast_total(x[:99891].reshape(1009, 99), axis=0),
                               x[:99891].reshape(1009, 99).astype(np.float64).sum(axis=0),
                               rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-4)
    big = rng.normal(size=200_000) * 1e8
    y = np.concatenate([big, -big, rng.normal(size=200_000)])[rng.permutation(600_000)]
    assert abs(float(total(y)) - exact_sum(y)) < abs(float(fast_total(y)) - exact_sum(y))
    assert fast_total(np.array([-0.0])) == 0.0 and not np.signbit(fast_total(np.array([-0.0])))


# --- errors --------------------------------------------------------------------------------

def test_axis_errors():
    x = np.zeros((2, 3))
    with pytest.raises(np.exceptions.AxisError, match="axis 2 is out of bounds for array of "
                                                     "dimension 2"):
        total(x, axis=2)
    with pytest.raises(np.exceptions.AxisError):
        total(x, axis=-3)
    with pytest.raises(ValueError, match="duplicate value in 'axis'"):
        total(x, axis=(0, -2))
    with pytest.raises(TypeError):
        total(x, axis=1.5)
    with pytest.raises(TypeError, match="axis must be an integer, not bool"):
        total(x, axis=True)
    scalar = np.array(3.5)  # NumPy takes a lone 0 or -1 for a 0-d input, not a tuple
    assert total(scalar, axis=0) == np.sum(scalar, axis=0) == 3.5
    assert total(scalar, axis=-1) == 3.5
    with pytest.raises(np.exceptions.AxisError):
        total(scalar, axis=(0,))
    with pytest.raises(np.exceptions.AxisError):
        total(scalar, axis=1)
    with pytest.raises(ValueError, match="output parameter for reduction operation add has the "
                                         "wrong shape"):
        total(x, out=np.zeros(3))  # as numpy.add.reduce: a 0-d result
    with pytest.raises(ValueError, match="could not be broadcast"):
        dot(np.zeros(3), np.zeros(4))
    with pytest.raises(TypeError, match=r"identity\(\) takes 1 argument but 2 were given"):
        total(x, x)


def test_decorator_errors():
    with pytest.raises(ValueError, match=r"unknown reduction operator '-'; choose one of '\+', "
                                         r"'\*', 'min', 'max'"):
        ember.reduce("-")
    with pytest.raises(TypeError, match="needs an operator first"):
        @ember.reduce
        def f(x):
            return x
    with pytest.raises(TypeError, match="needs a function"):
        ember.reduce("+")(3)


def test_compile_error_points_at_the_line():
    @ember.reduce("+")
    def bad(x):
        return x[0]

    with pytest.raises(ember.CompileError) as info:
        bad(np.zeros(3))
    assert "test_reduce.py" in str(info.value) and "subscript" in str(info.value)
    assert info.value.lineno == bad.py_func.__code__.co_firstlineno + 2


@pytest.mark.cpu_code
def test_signatures_repr_and_inspect():
    @ember.reduce("max")
    def m(x, y):
        return x - y

    m(np.arange(3, dtype=np.int8), 1)
    assert m.signatures == ["int8(int8, int)"]
    assert repr(m).startswith("<ember.reduce('max') ")
    assert "_reduce" in m.inspect("llvm") and "sub" in m.inspect("ir")


def test_signed_zeros_in_min_and_max_like_numpy():
    # Of -0.0 and 0.0 (equal), NumPy's loop keeps the later one; ember kept
    # the first. Short arrays (NumPy's scalar loop) in every order, and long
    # runs of each sign.
    cases = [[-0.0, 0.0], [0.0, -0.0], [0.0, 0.0, 0.0, -0.0], [-0.0, 1.0, 0.0],
             [-0.0] * 20 + [0.0] * 20, [0.0] * 20 + [-0.0] * 20,
             [0.0] * 17 + [-0.0] + [0.0] * 5]
    for values in cases:
        a = np.array(values)
        for ours, theirs in [(smallest, np.min), (largest, np.max)]:
            got, want = ours(a), theirs(a)
            assert got == want and np.signbit(got) == np.signbit(want), (values, theirs)
    with_nan = np.array([-0.0, np.nan, 0.0])
    assert math.isnan(smallest(with_nan)) and math.isnan(largest(with_nan))
