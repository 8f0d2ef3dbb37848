"""The @ember.vectorize call path: broadcasting, memory layouts, out=, scalar
results, empty and large arrays, signatures and inspection, and every error a
caller can cause (with its message). NumPy is the oracle: each result is
compared with the same expression evaluated by NumPy.
"""

import inspect
import math

import numpy as np
import pytest

import ember


@ember.vectorize
def fma1(x, y):
    return x * y + 1


@ember.vectorize
def axpy(a, x, y):
    return a * x + y


def fma1_ref(x, y):
    return np.add(np.multiply(x, y), 1)


def assert_same(got, want):
    """Same type, dtype, shape and values (NaN equal to NaN)."""
    assert type(got) is type(want), (type(got), type(want))
    assert np.asarray(got).dtype == np.asarray(want).dtype
    assert np.shape(got) == np.shape(want)
    np.testing.assert_array_equal(got, want)


# --- broadcasting ------------------------------------------------------------------------

@pytest.mark.parametrize("sx,sy", [
    ((3, 1), (4,)), ((1,), (5,)), ((5,), (1,)), ((), (2, 3)), ((2, 3), ()), ((4, 1, 3), (2, 1)),
    ((2, 1, 3, 1), (1, 4, 1, 5)), ((2, 3, 4, 5), (2, 3, 4, 5)), ((1, 1), (1, 1)), ((7,), (7,)),
])
def test_broadcasting(sx, sy):
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=sx), rng.normal(size=sy)
    want = fma1_ref(x, y)
    got = fma1(x, y)
    assert_same(got, want)


@pytest.mark.parametrize("dtype", ["int8", "int16", "float32", "float64"])
@pytest.mark.parametrize("columns", [5, 512, 1000, 1537])
def test_row_broadcast_over_several_blocks(dtype, columns):
    # y repeats one value along each row (a column, stride 0 along the last
    # axis): it gets the scalar layout, read once per row, whatever the row's
    # other operands need (x reversed is buffered).
    rng = np.random.default_rng(columns)
    x = rng.integers(-50, 50, size=(37, columns)).astype(dtype)
    y = rng.integers(-50, 50, size=(37, 1)).astype(dtype)
    assert_same(fma1(x, y), fma1_ref(x, y))
    assert_same(fma1(y, x[:, ::-1]), fma1_ref(y, x[:, ::-1]))
    assert compiled_layouts(fma1, dtype) >= {(False, True), (True, False)}
    assert_same(fma1(y[::-1], x), fma1_ref(y[::-1], x))  # rows in reverse
    assert_same(fma1(x.T, y.T), fma1_ref(x.T, y.T))  # y broadcast down the columns
    assert (False, False) in compiled_layouts(fma1, dtype)


def compiled_layouts(mapped, dtype):
    """The scalar-layout flags of `mapped`'s specializations for `dtype` arguments."""
    return {tuple(s for _, _, s in types) for _, types, _ in mapped._compiled
            if all(d == dtype for d, _, _ in types)}


@pytest.mark.parametrize("sx,sy", [
    ((6, 1), (6, 9)), ((1, 1), (6, 9)), ((1,), (9,)), ((4, 1, 1), (4, 3, 9)), ((4, 3, 1), (3, 9)),
    ((6, 1), (6, 1)), ((1, 6, 1), (5, 1, 7)), ((6, 1), (1, 1)),
])
def test_operands_constant_along_rows(sx, sy):
    """Arrays whose last axis broadcasts are read once per row of the result
    (F-order and strided outputs too) or of a reduction over the last axis;
    where every last axis is 1 nothing is constant along a row and they stay
    arrays."""
    rng = np.random.default_rng(sum(sx) + sum(sy))
    x, y = rng.normal(size=sx), rng.normal(size=sy)
    want = fma1_ref(x, y)
    assert_same(fma1(x, y), want)
    assert_same(fma1(y, x), fma1_ref(y, x))
    out = np.zeros(want.shape[::-1]).T  # F-order
    assert fma1(x, y, out=out) is out
    np.testing.assert_array_equal(out, want)
    with np.errstate(all="ignore"):
        # Read once per row where the last axis is reduced, else an array.
        ndim = np.broadcast(x, y).ndim
        axes = [*range(-ndim, ndim), None, tuple(range(ndim))] + [(0, ndim - 1)] * (ndim > 1)
        for axis in axes:
            np.testing.assert_allclose(total_of_rows(x, y, axis=axis), (x * y).sum(axis=axis),
                                       rtol=1e-13, err_msg=f"axis={axis}")


@ember.reduce("+")
def total_of_rows(x, y):
    return x * y


def test_broadcasting_three_arguments():
    a = np.arange(3.0).reshape(3, 1, 1)
    x = np.arange(4.0).reshape(1, 4, 1)
    y = np.arange(5.0)
    assert_same(axpy(a, x, y), a * x + y)
    assert_same(axpy(2.0, x, y), 2.0 * x + y)


# --- layouts -----------------------------------------------------------------------------

def _base(shape=(6, 8), dtype=np.float64):
    return np.arange(np.prod(shape), dtype=dtype).reshape(shape) * 0.5 - 7


@pytest.mark.parametrize("view", [
    lambda a: a[::2],
    lambda a: a[:, ::3],
    lambda a: a[1::2, 2::3],
    lambda a: a.T,
    lambda a: np.asfortranarray(a),
    lambda a: a[::-1],
    lambda a: a[:, ::-1],
    lambda a: a[::-2, ::-3],
    lambda a: a.T[::-1],
    lambda a: a[:, 3],
    lambda a: np.broadcast_to(a[:1], a.shape),
], ids=["rows-step", "cols-step", "both-step", "transpose", "fortran", "reversed",
        "reversed-cols", "negative-steps", "transpose-reversed", "column", "zero-stride"])
def test_non_contiguous_inputs(view):
    x = view(_base())
    y = view(_base() * -3 + 0.25)
    assert_same(fma1(x, y), fma1_ref(x, y))
    assert_same(fma1(x, np.ascontiguousarray(y)), fma1_ref(x, y))
    assert_same(fma1(x, 2.5), fma1_ref(x, 2.5))


def test_mixed_layouts_and_dtypes():
    a = _base((5, 7), np.int32)
    b = np.asfortranarray(_base((5, 7), np.float32))
    c = _base((7, 5), np.uint8).T[::-1]
    assert_same(axpy(a, b, c), a * b + c)


def test_read_only_inputs():
    x = _base()
    x.flags.writeable = False
    assert_same(fma1(x, x), fma1_ref(x, x))


def test_non_native_byte_order():
    x = _base().astype(">f8")
    assert_same(fma1(x, 2), fma1_ref(x.astype("=f8"), 2))


# --- out= --------------------------------------------------------------------------------

def test_out_preallocated():
    x, y = _base(), _base() + 1
    out = np.full(x.shape, np.nan)
    got = fma1(x, y, out=out)
    assert got is out
    np.testing.assert_array_equal(out, fma1_ref(x, y))


def test_out_non_contiguous():
    x, y = _base(), _base() * 2
    big = np.zeros((12, 16))
    out = big[::2, ::2]
    assert fma1(x, y, out=out) is out
    np.testing.assert_array_equal(out, fma1_ref(x, y))
    untouched = big.copy()
    untouched[::2, ::2] = 0
    assert not untouched.any()  # nothing outside the view was written

    out = np.zeros((8, 6)).T
    fma1(x, y, out=out)
    np.testing.assert_array_equal(out, fma1_ref(x, y))


def test_out_broadcast_result():
    x, y = np.arange(3.0).reshape(3, 1), np.arange(4.0)
    out = np.empty((3, 4))
    fma1(x, y, out=out)
    np.testing.assert_array_equal(out, fma1_ref(x, y))


@pytest.mark.parametrize("in_dtype,out_dtype", [
    ("float64", "float32"), ("int32", "float64"), ("int64", "int8"), ("uint8", "int16"),
    ("float32", "float64"), ("bool", "int32"),
])
def test_out_of_another_dtype_casts_same_kind(in_dtype, out_dtype):
    x = (np.arange(20) % 7).astype(in_dtype)
    out = np.zeros(20, dtype=out_dtype)
    want = np.zeros(20, dtype=out_dtype)
    np.add(np.multiply(x, x), 1, out=want, casting="same_kind")
    assert fma1(x, x, out=out) is out
    assert_same(out, want)


def test_out_unsafe_cast_is_refused():
    x = np.arange(5.0)
    out = np.zeros(5, dtype=np.int32)
    with pytest.raises(TypeError, match="same_kind"):
        fma1(x, x, out=out)
    with pytest.raises(TypeError):
        np.add(x, x, out=out)  # NumPy refuses it too


def test_out_is_an_input():
    x = _base()
    want = fma1_ref(x, 3.0)
    assert fma1(x, 3.0, out=x) is x
    np.testing.assert_array_equal(x, want)

    x = _base()
    want = fma1_ref(x, x)
    fma1(x, x, out=x)
    np.testing.assert_array_equal(x, want)


@pytest.mark.parametrize("case", ["shift-right", "shift-left", "reversed", "transposed",
                                  "strided"])
def test_out_overlapping_an_input(case):
    """NumPy gives the result as if the inputs were read before any write."""
    def views(a):
        return {
            "shift-right": (a[:-1], a[1:]),
            "shift-left": (a[1:], a[:-1]),
            "reversed": (a, a[::-1]),
            "transposed": (a.reshape(6, 6), a.reshape(6, 6).T),
            "strided": (a[::2][:9], a[1:10]),
        }[case]

    mine, ref = np.arange(36.0), np.arange(36.0)
    x, out = views(mine)
    fma1(x, 2.0, out=out)
    rx, rout = views(ref)
    np.add(np.multiply(rx, 2.0), 1, out=rout)
    np.testing.assert_array_equal(mine, ref)
    # and spelled out for the first case, independent of NumPy
    if case == "shift-right":
        np.testing.assert_array_equal(mine, [0.0] + [2 * i + 1 for i in range(35)])


def test_large_out_overlapping_and_in_place():
    """The same with arrays big enough to be split into parallel slices."""
    n = 10 ** 6 + 7
    mine, ref = np.arange(n, dtype=np.float64), np.arange(n, dtype=np.float64)
    fma1(mine[:-3], 0.5, out=mine[3:])
    np.add(np.multiply(ref[:-3], 0.5), 1, out=ref[3:])
    np.testing.assert_array_equal(mine, ref)
    fma1(mine, mine[::-1], out=mine)
    np.add(np.multiply(ref, ref[::-1]), 1, out=ref)
    np.testing.assert_array_equal(mine, ref)
    fma1(mine, mine, out=mine)
    np.add(np.multiply(ref, ref), 1, out=ref)
    np.testing.assert_array_equal(mine, ref)


def test_out_with_scalar_inputs_returns_out():
    out = np.zeros(())
    got = fma1(2.0, 3.0, out=out)
    assert got is out and out[()] == 7.0


# --- scalars, 0-d, lists, empty, large -----------------------------------------------------

@pytest.mark.parametrize("args,want", [
    ((2.0, 3.0), np.float64(7.0)),
    ((2, 3), np.int64(7)),
    ((np.float32(2), 3), np.float32(7)),
    ((np.float32(2), 3.5), np.float32(8)),
    ((np.int8(2), 3), np.int8(7)),
    ((np.uint16(2), np.uint8(3)), np.uint16(7)),
    ((True, 3), np.int64(4)),
    ((np.array(2.0), 3), np.float64(7.0)),
    ((np.array(2, np.int16), np.array(3, np.int8)), np.int16(7)),
])
def test_scalar_inputs_give_numpy_scalars(args, want):
    got = fma1(*args)
    assert_same(got, want)
    assert_same(got, fma1_ref(*args))




def _scalar_cases():
    cases = []
    for scalar in (np.float64(2.5), np.float32(2.5), np.int64(3), np.int8(3), np.uint64(3),
                   np.bool_(True)):
        for dtype in ("float32", "int8", "uint16", "float64"):
            cases.append(pytest.param(scalar, dtype, id=f"{type(scalar).__name__}-{dtype}"))
    return cases


@pytest.mark.parametrize("scalar,dtype", _scalar_cases())
def test_numpy_scalars_are_strong(scalar, dtype):
    """NumPy scalars take part in promotion with their own dtype (NEP 50), unlike
    Python scalars."""
    x = np.arange(4, dtype=dtype)
    assert_same(fma1(x, scalar), fma1_ref(x, scalar))
    assert_same(fma1(scalar, x), fma1_ref(scalar, x))


def test_weak_and_strong_scalars_are_cached_apart():
    x = np.arange(3, dtype=np.float32)
    for _ in range(2):
        assert fma1(x, 2.0).dtype == np.float32               # Python float: weak
        assert fma1(x, np.array(2.0)).dtype == np.float64     # 0-d float64 array: strong
        assert fma1(x, np.array([2.0])).dtype == np.float64
        assert fma1(x, np.float32(2.0)).dtype == np.float32
        assert fma1(x, 2).dtype == np.float32


def test_unaligned_arrays():
    raw = np.zeros(8 * 1001 + 3, np.uint8)
    x = np.ndarray(1000, np.float64, buffer=raw, offset=1)
    x[:] = np.arange(1000.0) - 500
    out = np.ndarray(1000, np.float64, buffer=np.zeros(8 * 1001 + 3, np.uint8), offset=3)
    assert not x.flags.aligned and not out.flags.aligned
    assert_same(fma1(x, x), fma1_ref(x, x))
    fma1(x, 0.5, out=out)
    np.testing.assert_array_equal(out, fma1_ref(x, 0.5))


def test_out_non_native_byte_order():
    out = np.zeros(5, ">f8")
    assert fma1(np.arange(5.0), 2.0, out=out) is out
    np.testing.assert_array_equal(out, [1.0, 3.0, 5.0, 7.0, 9.0])


def test_lists_as_inputs():
    assert_same(fma1([1, 2, 3], 2), fma1_ref([1, 2, 3], 2))
    assert_same(fma1([1.5, 2, 3], [[1], [2]]), fma1_ref([1.5, 2, 3], [[1], [2]]))
    assert_same(fma1([True, False], [3, 4]), fma1_ref([True, False], [3, 4]))


@pytest.mark.parametrize("sx,sy", [((0,), (0,)), ((0,), ()), ((3, 0), (1,)), ((3, 0), (3, 1)),
                                   ((0, 4), (4,))])
def test_empty_arrays(sx, sy):
    x, y = np.ones(sx), np.ones(sy)
    assert_same(fma1(x, y), fma1_ref(x, y))
    assert_same(fma1(x.astype(np.int16), y.astype(np.int8)),
                fma1_ref(x.astype(np.int16), y.astype(np.int8)))


def test_empty_out():
    out = np.empty((3, 0))
    assert fma1(np.ones((3, 0)), 1.0, out=out) is out


def test_zero_dimensional_arrays_broadcast():
    x = np.array(1.5)
    y = np.arange(6.0).reshape(2, 3)
    assert_same(fma1(x, y), fma1_ref(x, y))


@pytest.mark.parametrize("n", [10 ** 6, 10 ** 6 + 13])
def test_large_arrays(n):
    rng = np.random.default_rng(n)
    x = rng.normal(size=n)
    y = rng.normal(size=n).astype(np.float32)
    assert_same(fma1(x, y), fma1_ref(x, y))
    assert_same(fma1(x[::-3], 2.0), fma1_ref(x[::-3], 2.0))


def test_large_two_dimensional_non_contiguous():
    rng = np.random.default_rng(7)
    a = rng.normal(size=(1000, 1100))
    b = a[:, ::-1].T
    assert_same(fma1(a.T, b), fma1_ref(a.T, b))
    out = np.empty((1100, 1000), order="F")
    fma1(a.T, 0.5, out=out)
    np.testing.assert_array_equal(out, fma1_ref(a.T, 0.5))


# --- signatures and inspection -----------------------------------------------------------

def test_signatures_record_compiled_specializations():
    @ember.vectorize
    def mul(a, b):
        return a * b

    assert mul.signatures == []
    mul(np.ones(3), np.ones(3))
    mul(np.ones(3), np.ones(3))
    mul(np.ones(3, np.float32), 2)
    mul(np.ones(3, np.int8), 2.5)
    assert mul.signatures == ["float64(float64, float64)", "float32(float32, int)",
                              "float64(int8, float)"]
    assert len(mul) == 3


def test_eager_signatures():
    @ember.vectorize(["float32(float32, float32)", "int64(int64, int64)"])
    def sub(a, b):
        return a - b

    assert sub.signatures == ["float32(float32, float32)", "int64(int64, int64)"]
    assert len(sub) == 2
    x = np.arange(4, dtype=np.float32)
    assert_same(sub(x, x[::-1]), x - x[::-1])
    assert len(sub) == 2  # served by the eager specialization
    assert_same(sub(np.arange(3), 1), np.arange(3) - 1)  # a new one: (int64, weak int)
    assert len(sub) == 3


def test_eager_signature_errors():
    def sub(a, b):
        return a - b

    with pytest.raises(TypeError, match="declares a float64 result.*returns float32"):
        ember.vectorize(["float64(float32, float32)"])(sub)
    with pytest.raises(TypeError, match="has 1 arguments"):
        ember.vectorize(["float32(float32)"])(sub)
    with pytest.raises(ValueError, match="bad signature 'garbage'"):
        ember.vectorize(["garbage"])(sub)
    with pytest.raises(TypeError, match="signature must be a string.*not ndarray"):
        ember.vectorize(sub).inspect("ir", np.ones(3))
    with pytest.raises(ValueError, match="complex64"):
        ember.vectorize(["(complex64, float32)"])(sub)


def test_inspect_stages():
    @ember.vectorize
    def g(x, y):
        return math.sqrt(x * x + y)

    with pytest.raises(ValueError, match="no compiled specialization"):
        g.inspect("ir")
    g(np.ones(3, np.float32), np.ones(3, np.float32))
    ir = g.inspect("ir")
    assert "func g(" in ir and "f32" in ir and "sqrt(" in ir
    assert "sqrt(" in g.inspect("source-ir")
    llvm = g.inspect("llvm")
    assert "define" in llvm and "float" in llvm
    assert g.inspect("asm").strip()
    assert "ret" in g.inspect("asm")
    # a signature compiles on demand
    assert "f64" in g.inspect("ir", signature="float64(float64, float64)")
    with pytest.raises(ValueError, match="unknown stage 'bogus'"):
        g.inspect("bogus")


def test_repr_and_wrapping():
    assert fma1.__name__ == "fma1"
    assert fma1.__wrapped__(2, 3) == 7  # the Python function is still callable
    assert "fma1" in repr(fma1)


# --- call-time errors ------------------------------------------------------------------------

def test_wrong_argument_count():
    with pytest.raises(TypeError, match=r"fma1\(\) takes 2 arguments but 1 was given"):
        fma1(1.0)
    with pytest.raises(TypeError, match=r"takes 2 arguments but 3 were given"):
        fma1(1.0, 2.0, 3.0)


def test_unknown_keyword():
    with pytest.raises(TypeError, match="does not take the keyword 'axis='"):
        fma1(1.0, 2.0, axis=0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'nope'"):
        fma1(1.0, 2.0, nope=True)


@pytest.mark.parametrize("bad,name", [
    (np.ones(3, np.complex128), "complex128"), (np.ones(3, np.float16), "float16"),
    (np.array([1, None], dtype=object), "object"), (np.array(["a", "b"]), "<U1"),
    (1j, "complex128"), (np.ones(2, np.longdouble), "float128"),
])
def test_unsupported_dtypes(bad, name):
    with pytest.raises(TypeError) as info:
        fma1(bad, 1.0)
    assert name in str(info.value) and "not support" in str(info.value)


def test_not_an_array_or_number():
    with pytest.raises(TypeError):
        fma1(np.ones(2), {"a": 1})


def test_non_broadcastable_shapes():
    with pytest.raises(ValueError, match=r"broadcast.*\(3,\).*\(4,\)"):
        fma1(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2,\)"):
        fma1(np.ones((2, 3)), np.ones(2))


def test_out_wrong_shape():
    with pytest.raises(ValueError, match=r"out= has shape \(4,\).*\(3,\)"):
        fma1(np.ones(3), np.ones(3), out=np.ones(4))


def test_out_wrong_shape_is_refused():
    """Whatever the message, a wrong out= shape must not be written or accepted."""
    out = np.zeros(4)
    with pytest.raises((ValueError, TypeError)):
        fma1(np.ones(3), np.ones(3), out=out)
    assert not out.any()
    with pytest.raises((ValueError, TypeError)):
        fma1(np.ones((3, 1)), np.ones(2), out=np.ones(2))  # would need broadcasting of out


def test_out_read_only():
    out = np.zeros(3)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        fma1(np.ones(3), 1.0, out=out)


@pytest.mark.parametrize("out", [[0.0, 0.0, 0.0], 3.0, (1, 2, 3)])
def test_out_not_an_array(out):
    with pytest.raises(TypeError, match="out= must be a NumPy array"):
        fma1(np.ones(3), 1.0, out=out)


def test_python_int_too_big():
    """OverflowError, as NumPy raises for np.add(np.ones(3), 2 ** 70)."""
    with pytest.raises(OverflowError, match="1180591620717411303424"):
        fma1(np.ones(3), 2 ** 70)
    with pytest.raises(OverflowError, match="-1180591620717411303424"):
        fma1(np.ones(3), -(2 ** 70))


def test_python_int_fitting_uint64():
    x = np.array([0, 1, 2], dtype=np.uint64)
    assert_same(fma1(x, 2 ** 63), fma1_ref(x, 2 ** 63))


# --- compile errors, end to end --------------------------------------------------------------

def helper(x):
    return x


@ember.vectorize
def returns_a_list(x):
    y = x + 1
    return [y, x]  # marker: list


@ember.vectorize
def calls_unknown(x):
    y = x * 2
    z = y - 1
    return helper(z) + y  # marker: call


@ember.vectorize
def has_a_loop(x):
    t = x
    while t > 0:  # marker: loop
        t = t - 1
    return t


@ember.vectorize
def adds_a_string(x):
    return x + "a"  # marker: string


def line_of(fn, marker):
    lines, start = inspect.getsourcelines(fn.py_func)
    found = [start + i for i, line in enumerate(lines) if marker in line]
    assert len(found) == 1, marker
    return found[0]


@pytest.mark.parametrize("fn,marker,message,token", [
    (returns_a_list, "marker: list", "unsupported Python construct: list display", "[y, x]"),
    (calls_unknown, "marker: call", "call to unknown function 'helper'", "helper(z)"),
    (has_a_loop, "marker: loop", "unsupported Python construct: while loop", "while"),
    (adds_a_string, "marker: string", "unsupported Python construct: string", '"a"'),
], ids=["list", "unknown-function", "loop", "string"])
def test_compile_errors_point_at_the_line(fn, marker, message, token):
    for _ in range(2):  # the error is raised again on the next call, not cached away
        with pytest.raises(ember.CompileError) as info:
            fn(np.ones(3))
        err = info.value
        assert message in err.message
        assert err.lineno == line_of(fn, marker)
        assert err.filename == __file__
        lines, start = inspect.getsourcelines(fn.py_func)
        source_line = lines[err.lineno - start]
        assert err.col == source_line.index(token) + 1
        text = str(err)
        assert f"{__file__}:{err.lineno}:{err.col}: {message}" in text
        assert source_line.strip() in text and "^" in text
    assert fn.signatures == []


def test_compile_error_in_signature_at_decoration():
    with pytest.raises(ember.CompileError) as info:
        @ember.vectorize
        def varargs(*xs):  # marker: varargs
            return 1
    lines, start = inspect.getsourcelines(test_compile_error_in_signature_at_decoration)
    want = start + next(i for i, l in enumerate(lines) if "marker: varargs" in l and "xs" in l)
    assert info.value.lineno == want
    assert "*args parameter 'xs'" in info.value.message


def test_decorating_a_non_function():
    with pytest.raises(TypeError):
        ember.vectorize(42)


def test_python_int_literal_out_of_bounds_is_an_error(tmp_path):
    # NumPy 2: uint8_array + 300 raises OverflowError; ember refuses to compile it.
    import importlib.util
    path = tmp_path / "ovf.py"
    path.write_text("import ember\n\n@ember.vectorize\ndef f(x):\n    return x + 300\n")
    spec = importlib.util.spec_from_file_location("ovf", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(ember.CompileError, match="Python int 300 is out of bounds for uint8") as e:
        module.f(np.arange(3, dtype=np.uint8))
    assert e.value.lineno == 5
    with pytest.raises(OverflowError):
        np.arange(3, dtype=np.uint8) + 300  # the oracle agrees
    np.testing.assert_array_equal(module.f(np.arange(3, dtype=np.int16)),
                                  np.arange(3, dtype=np.int16) + 300)


def test_out_of_a_dtype_ember_cannot_compute_in_is_cast_into():
    # NumPy accepts np.add(a, b, out=complex_array) (same_kind casting); so does ember.
    x = np.arange(4.0)
    for dtype in (np.complex128, np.float16):
        out = np.empty(4, dtype=dtype)
        assert fma1(x, x, out=out) is out
        np.testing.assert_array_equal(out, fma1_ref(x, x).astype(dtype))


def test_uninitialized_kernel_object_raises():
    with pytest.raises(TypeError, match="not initialized"):
        ember.Vectorized.__new__(ember.Vectorized)()


@pytest.mark.parametrize("array, value", [
    (np.array([1, 2, 250], np.uint8), 300),
    (np.array([1, 2, 250], np.uint8), -1),
    (np.array([1], np.int8), -129),
    (np.arange(3), 2 ** 63),
])
def test_python_int_argument_out_of_bounds_raises_overflow(array, value):
    with pytest.raises(OverflowError):
        np.add(array, value)  # the oracle
    with pytest.raises(OverflowError, match=f"Python int {value} is out of bounds for "
                                            f"{array.dtype.name}"):
        fma1(array, value)


@pytest.mark.parametrize("array, value", [
    (np.array([1, 2, 250], np.uint8), 5),
    (np.array([1], np.int8), -128),
    (np.array([1], np.uint64), 2 ** 63),
    (np.array([1.5], np.float32), 2 ** 70 // 2 ** 10),
])
def test_python_int_argument_in_bounds_works(array, value):
    assert_same(fma1(array, value), fma1_ref(array, value))
