"""NumPy's protocols (python/ember/protocol.py): ufunc attributes, keyword
arguments by name, __array_ufunc__ overrides (dask stays lazy, pandas and
xarray keep their labels), ndarray subclasses (masked arrays, np.matrix),
Fortran order, and reductions of dask and masked arrays."""

import warnings

import numpy as np
import pytest

import ember


@ember.vectorize
def affine(x, y):
    return x * y + 1.0


@ember.vectorize
def halve(v):
    return v * 0.5


@ember.reduce("+")
def dot(x, y):
    return x * y


@ember.reduce("max")
def biggest(x):
    return x


def test_ufunc_attributes_match_numpys():
    for ours, theirs in [(affine, np.multiply), (halve, np.negative)]:
        for name in ("nin", "nout", "nargs", "signature"):
            assert getattr(ours, name) == getattr(theirs, name), name
    assert affine.identity is None
    assert (dot.identity, biggest.identity) == (np.add.identity, np.maximum.identity)
    halve(np.float32(2.0))
    halve(np.float32(3.0))  # the same loop: listed once
    halve(np.arange(3, dtype=np.int16))  # int16 * 0.5 is float64, as in NumPy
    assert halve.types == ["f->f", "h->d"] and halve.ntypes == 2


def test_keyword_arguments_by_name():
    x, y = np.arange(4.0), np.full(4, 2.0)
    want = x * y + 1
    for call in (lambda: affine(x=x, y=y), lambda: affine(x, y=y), lambda: affine(y=y, x=x)):
        assert np.array_equal(call(), want)
    out = np.empty(4)
    assert affine(x, y=y, out=out) is out and np.array_equal(out, want)
    assert dot(x=x, y=y) == np.dot(x, y)
    for call, message in [(lambda: affine(x, x=y), "multiple values for argument 'x'"),
                          (lambda: affine(x, z=y), "unexpected keyword argument 'z'"),
                          (lambda: affine(x=x), "missing 1 required argument: 'y'"),
                          (lambda: affine(x, y, axis=0), "does not take the keyword 'axis='"),
                          (lambda: dot(x, y, order="C"), "does not take the keyword 'order='"),
                          (lambda: affine(x, y, x), "takes 2 arguments but 3"),
                          (lambda: affine(x, y, x, out=None), "takes 2 arguments but 3")]:
        with pytest.raises(TypeError, match=message):
            call()


def test_dask_arrays_stay_lazy():
    da = pytest.importorskip("dask.array")
    x = np.arange(24.0).reshape(4, 6)
    d = da.from_array(x, chunks=(2, 3))
    mapped = affine(d, 2.0)
    assert isinstance(mapped, da.Array)  # nothing computed yet
    assert np.array_equal(mapped.compute(), x * 2 + 1)
    for axis in (None, 0, 1, (0, 1), -1):
        lazy = dot(d, d, axis=axis)
        assert isinstance(lazy, da.Array)
        np.testing.assert_allclose(lazy.compute(), dot(x, x, axis=axis), rtol=1e-15)
    ints = da.from_array(np.arange(1000, dtype=np.int32), chunks=100)
    assert dot(ints, ints).compute() == dot(np.arange(1000, dtype=np.int32),
                                            np.arange(1000, dtype=np.int32))  # bitwise
    assert biggest(d, axis=1).compute().tolist() == x.max(axis=1).tolist()


def test_masked_arrays_keep_their_masks():
    x = np.ma.masked_array([1.0, 2.0, 3.0, 4.0], mask=[0, 1, 0, 0])
    y = np.ma.masked_array([2.0, 2.0, 2.0, 2.0], mask=[0, 0, 1, 0])
    got, want = affine(x, y), x * y + 1
    assert isinstance(got, np.ma.MaskedArray)
    assert got.mask.tolist() == want.mask.tolist()
    assert got.compressed().tolist() == want.compressed().tolist()
    assert dot(x, y) == np.ma.dot(x, y)  # masked elements left out (was 14.0 for 10.0)
    rows = np.ma.masked_array(np.arange(6.0).reshape(2, 3), mask=[[0, 1, 0], [1, 1, 1]])
    got, want = dot(rows, 2.0, axis=1), np.ma.sum(rows * 2.0, axis=1)
    assert got.mask.tolist() == want.mask.tolist() == [False, True]
    assert got[0] == want[0] == 4.0


def test_ndarray_subclasses_and_order():
    with warnings.catch_warnings():  # np.matrix is pending deprecation, still in use
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        m = np.matrix([[1.0, 2.0], [3.0, 4.0]])
    assert isinstance(affine(m, 1.0), np.matrix)
    f = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    got = affine(f, f)
    assert got.flags.f_contiguous and not got.flags.c_contiguous
    assert np.array_equal(got, f * f + 1)
    c = np.ascontiguousarray(f)
    assert affine(c, c).flags.c_contiguous and np.array_equal(affine(f, c), f * f + 1)


def test_pandas_and_xarray_keep_their_labels():
    pd = pytest.importorskip("pandas")
    s = pd.Series([1.0, 2.0, 3.0], index=["a", "b", "c"], name="price")
    got = affine(s, 2.0)
    assert isinstance(got, pd.Series) and list(got.index) == ["a", "b", "c"]
    assert got.name == "price" and got.tolist() == [3.0, 5.0, 7.0]
    xr = pytest.importorskip("xarray")
    a = xr.DataArray(np.arange(3.0), dims=["t"], coords={"t": [10, 20, 30]})
    got = affine(a, 2.0)
    assert isinstance(got, xr.DataArray) and got["t"].values.tolist() == [10, 20, 30]
    assert got.values.tolist() == [1.0, 3.0, 5.0]


class Opinionated:
    """Overrides every ufunc, as NumPy lets a type do."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return ("handled", ufunc.__name__, method, len(inputs))


class Refuses:
    __array_ufunc__ = None


class Declines:
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return NotImplemented


def test_array_ufunc_overrides():
    assert affine(Opinionated(), 1.0) == ("handled", "affine", "__call__", 2)
    assert affine(1.0, Opinionated()) == np.multiply(1.0, Opinionated())[:1] + (
        "affine", "__call__", 2)
    with pytest.raises(TypeError, match="does not support ufuncs"):
        affine(Refuses(), 1.0)
    with pytest.raises(TypeError, match="returned NotImplemented"):
        affine(Declines(), 1.0)


@ember.vectorize
def plus(x, y):
    return x + y


@ember.vectorize
def minus(x, y):
    return x - y


@ember.vectorize
def larger(x, y):
    return np.maximum(x, y)


@ember.vectorize
def twice(x):
    return x * 2


METHOD_CASES = [(plus, np.add), (minus, np.subtract), (larger, np.maximum)]


@pytest.mark.parametrize("ours, theirs", METHOD_CASES, ids=lambda f: f.__name__)
def test_ufunc_methods_match_numpys(ours, theirs):
    rng = np.random.default_rng(3)
    a = rng.integers(-50, 50, (4, 5, 6)).astype(np.float64)
    ints = rng.integers(-50, 50, 17).astype(np.int32)
    for axis in (0, 1, 2, -1):
        np.testing.assert_array_equal(ours.reduce(a, axis=axis), theirs.reduce(a, axis=axis))
        np.testing.assert_array_equal(ours.accumulate(a, axis=axis),
                                      theirs.accumulate(a, axis=axis))
        np.testing.assert_array_equal(ours.reduce(a, axis, keepdims=True),
                                      theirs.reduce(a, axis, keepdims=True))
    assert ours.reduce(ints) == theirs.reduce(ints)
    # NumPy sums and products of small integers in int64 (add and multiply
    # only); a user function's fold keeps its loop's type, as other ufuncs do.
    assert ours.reduce(ints).dtype == np.int32
    if theirs is not np.add:
        assert theirs.reduce(ints).dtype == np.int32
    assert ours.reduce(a[:, 0, 0], initial=7.0) == theirs.reduce(a[:, 0, 0], initial=7.0)
    np.testing.assert_array_equal(ours.outer(a[0, 0], ints[:3]), theirs.outer(a[0, 0], ints[:3]))
    assert ours.outer(a[0], a[1, 0]).shape == (5, 6, 6)
    mine, numpys = np.arange(8.0), np.arange(8.0)
    ours.at(mine, [1, 3, 3, 7], 2.5)
    theirs.at(numpys, [1, 3, 3, 7], 2.5)
    np.testing.assert_array_equal(mine, numpys)
    grid, numpy_grid = np.zeros((3, 3)), np.zeros((3, 3))
    ours.at(grid, ([0, 2, 2], [1, 0, 0]), np.array([1.0, 2.0, 3.0]))
    theirs.at(numpy_grid, ([0, 2, 2], [1, 0, 0]), np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(grid, numpy_grid)


def test_ufunc_method_errors():
    with pytest.raises(ValueError, match="zero-size array to reduction operation plus which "
                                         "has no identity"):
        plus.reduce(np.zeros(0))
    with pytest.raises(ValueError, match="not reorderable"):
        plus.reduce(np.zeros((2, 2)), axis=None)
    with pytest.raises(ValueError, match="reduce only supported for binary functions"):
        twice.reduce(np.ones(3))
    with pytest.raises(np.exceptions.AxisError):
        plus.reduce(np.ones(3), axis=1)
    data = np.arange(4.0)
    twice.at(data, [0, 0, 3])
    assert data.tolist() == [0.0, 1.0, 2.0, 6.0]  # index 0 twice: 0 * 2 * 2
    with pytest.raises(AttributeError, match="ufunc methods belong to @ember.vectorize"):
        dot.outer


@ember.vectorize
def plus(a, b):
    return a + b


@ember.reduce("+")
def total(x):
    return x


@ember.reduce("min")
def least(x):
    return x


A = np.arange(12.0).reshape(3, 4) - 5.0
ROWS = np.array([True, False, True, True])
MASK = np.array([[0, 1, 0, 0], [1, 1, 0, 1], [0, 0, 0, 0]], bool)

# (ember call, NumPy's own call): keywords of a ufunc call and of a reduction
KEYWORD_CASES = [
    (lambda: plus(A, 1.0, where=ROWS, out=np.zeros((3, 4))),
     lambda: np.add(A, 1.0, where=ROWS, out=np.zeros((3, 4)))),
    (lambda: plus(A, 2, dtype=np.float32), lambda: np.add(A, 2, dtype=np.float32)),
    (lambda: plus(np.arange(4), 1, dtype=np.float64), lambda: np.add(np.arange(4), 1, dtype=np.float64)),
    (lambda: plus(A, 0.5, out=np.zeros((3, 4), np.int64), casting="unsafe"),
     lambda: np.add(A, 0.5, out=np.zeros((3, 4), np.int64), casting="unsafe")),
    (lambda: plus(np.asfortranarray(A), 1.0, order="K"), lambda: np.add(np.asfortranarray(A), 1.0, order="K")),
    (lambda: plus(A, 1.0, order="F"), lambda: np.add(A, 1.0, order="F")),
    (lambda: plus(np.asfortranarray(A), 1.0, order="A"), lambda: np.add(np.asfortranarray(A), 1.0, order="A")),
    (lambda: total(A, axis=0, keepdims=True), lambda: np.add.reduce(A, axis=0, keepdims=True)),
    (lambda: total(A, axis=(0, 1), initial=100.0), lambda: np.add.reduce(A, axis=(0, 1), initial=100.0)),
    (lambda: total(A, axis=1, where=ROWS), lambda: np.add.reduce(A, axis=1, where=ROWS)),
    (lambda: total(A, axis=0, out=np.zeros(4)), lambda: np.add.reduce(A, axis=0, out=np.zeros(4))),
    (lambda: total(A, out=np.zeros((), np.int64)), lambda: np.add.reduce(A, axis=None, out=np.zeros((), np.int64))),
    (lambda: total(np.arange(5, dtype=np.int8), dtype=np.float64),
     lambda: np.add.reduce(np.arange(5, dtype=np.int8), dtype=np.float64)),
    (lambda: least(A, axis=1, where=ROWS, initial=3.0), lambda: np.minimum.reduce(A, axis=1, where=ROWS, initial=3.0)),
    (lambda: least(np.array([]), initial=7.0), lambda: np.minimum.reduce(np.array([]), initial=7.0)),
    (lambda: total(np.ma.array(A, mask=MASK), axis=1), lambda: np.ma.sum(np.ma.array(A, mask=MASK), axis=1)),
    (lambda: least(np.ma.array(A, mask=MASK), axis=0), lambda: np.ma.min(np.ma.array(A, mask=MASK), axis=0)),
]


@pytest.mark.parametrize("ours, theirs", KEYWORD_CASES, ids=[str(i) for i in range(len(KEYWORD_CASES))])
def test_keywords_match_numpys(ours, theirs):
    got, want = ours(), theirs()
    assert type(got) is type(want) or (np.isscalar(got) and np.isscalar(want))
    assert np.asarray(got).dtype == np.asarray(want).dtype
    assert np.array_equal(np.ma.getmaskarray(got), np.ma.getmaskarray(want))
    np.testing.assert_allclose(np.ma.filled(np.asarray(got) if not np.ma.isMaskedArray(got) else got, 0),
                               np.ma.filled(want, 0) if np.ma.isMaskedArray(want) else np.asarray(want),
                               rtol=1e-12)
    if isinstance(want, np.ndarray) and want.ndim > 1:
        assert got.flags.f_contiguous == want.flags.f_contiguous


@pytest.mark.parametrize("ours, theirs", [
    (lambda: plus(A, 1.0, out=np.zeros((3, 4), np.int64)), lambda: np.add(A, 1.0, out=np.zeros((3, 4), np.int64))),
    (lambda: plus(A, 1.0, dtype=np.int32), lambda: np.add(A, 1.0, dtype=np.int32)),
    (lambda: plus(A, 1.0, casting="sometimes"), lambda: np.add(A, 1.0, casting="sometimes")),
    (lambda: least(A, where=ROWS), lambda: np.minimum.reduce(A, axis=None, where=ROWS)),
    (lambda: total(A, axis=0, out=np.zeros(3)), lambda: np.add.reduce(A, axis=0, out=np.zeros(3))),
])
def test_keyword_errors_match_numpys(ours, theirs):
    with pytest.raises(Exception) as want:
        theirs()
    kind = next(k for k in (TypeError, ValueError) if isinstance(want.value, k))
    with pytest.raises(kind):  # NumPy's own subclasses are private
        ours()


def test_ufunc_reduce_and_accumulate_keywords_match_numpys():
    a = np.arange(12.0).reshape(3, 4)
    keep = np.array([[True, False, True, True]] * 3)
    for ours, theirs in [
        (lambda: plus.reduce(a, axis=1, where=keep, initial=0.5),
         lambda: np.add.reduce(a, axis=1, where=keep, initial=0.5)),
        (lambda: plus.reduce(np.arange(5, dtype=np.int16), dtype=np.float32),
         lambda: np.add.reduce(np.arange(5, dtype=np.int16), dtype=np.float32)),
        (lambda: plus.reduce(a, axis=0, out=np.zeros(4)), lambda: np.add.reduce(a, axis=0, out=np.zeros(4))),
        (lambda: plus.accumulate(a, axis=1, out=np.zeros((3, 4))),
         lambda: np.add.accumulate(a, axis=1, out=np.zeros((3, 4)))),
        (lambda: plus.accumulate(np.arange(4, dtype=np.int8), dtype=np.float64),
         lambda: np.add.accumulate(np.arange(4, dtype=np.int8), dtype=np.float64)),
    ]:
        got, want = ours(), theirs()
        assert np.asarray(got).dtype == np.asarray(want).dtype
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="to use a where mask one has to specify 'initial'"):
        plus.reduce(a, where=keep)


@ember.vectorize
def minus(a, b):
    return a - b


@pytest.mark.parametrize("shape, axis", [((100_003,), 0), ((7, 9000), 0), ((7, 9000), 1),
                                         ((3, 4, 5), 1), ((0, 4), 1), ((5, 0), 0)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32])
def test_compiled_folds_match_numpys_left_folds(shape, axis, dtype):
    # subtract is not reorderable: NumPy folds it left to right, as ember does.
    a = (np.random.default_rng(3).standard_normal(shape) * 100).astype(dtype)
    assert np.array_equal(minus.reduce(a, axis=axis), np.subtract.reduce(a, axis=axis))
    assert np.array_equal(minus.accumulate(a, axis=axis), np.subtract.accumulate(a, axis=axis))
    assert np.array_equal(minus.reduce(a, axis=axis, initial=5, keepdims=True),
                          np.subtract.reduce(a, axis=axis, initial=5, keepdims=True))


def test_folds_run_on_the_compiled_map_not_a_python_loop(monkeypatch):
    from ember import _core, protocol
    calls = []

    def spy(*args):
        calls.append(args[3:])
        return _core.fold(*args)

    monkeypatch.setattr(protocol, "_core", type("Core", (), {"fold": staticmethod(spy)}))
    x = np.random.default_rng(4).random(2_000_000)
    assert minus.reduce(x) == np.subtract.reduce(x)
    assert calls == [(2_000_000, 1, 1, False)]  # one compiled fold over every row
