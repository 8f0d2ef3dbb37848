"""@ember.kernel: values against NumPy and the IR interpreter, every construct,
every error with its message and line, atomics under contention, bounds checks."""

import math
import platform
import re

import numpy as np
import pytest

import ember
from ember import CompileError

DTYPES = ["bool", "int8", "uint8", "int16", "int32", "int64", "uint32", "uint64", "float32",
          "float64"]


def both(kernel, domain, *args):
    """Runs the compiled kernel and the interpreter on copies; returns both results."""
    compiled = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    interpreted = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    kernel[domain](*compiled)
    kernel.interpret(domain, *interpreted)
    return compiled, interpreted


def assert_same(compiled, interpreted):
    for c, i in zip(compiled, interpreted):
        if isinstance(c, np.ndarray):
            np.testing.assert_array_equal(c, i)


@ember.kernel
def copy_scaled(out, x, a):
    i = ember.tid()
    out[i] = x[i] * a


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 7, 4096, 100003])
def test_1d_map_matches_numpy_and_interpreter(dtype, n):
    rng = np.random.default_rng(n)
    x = (rng.random(n) * 100).astype(dtype)
    out = np.zeros(n, dtype)
    compiled, interpreted = both(copy_scaled, n, out, x, 3)
    assert_same(compiled, interpreted)
    np.testing.assert_array_equal(compiled[0], (x * 3).astype(dtype))


@ember.kernel
def add3(out, a, b):
    i, j, k = ember.tid()
    out[i, j, k] = a[i, j, k] + b[k]


@pytest.mark.parametrize("layout", ["C", "F", "T", "strided", "negative"])
def test_3d_any_strides(layout):
    rng = np.random.default_rng(0)
    base = rng.random((6, 10, 14))
    a = {"C": base, "F": np.asfortranarray(base), "T": base.transpose(2, 1, 0).copy().transpose(2, 1, 0),
         "strided": rng.random((12, 10, 28))[::2, :, ::2], "negative": base[::-1, :, ::-1]}[layout]
    b = rng.random(a.shape[2])
    out = np.zeros(a.shape)[:, ::1, :]
    compiled, interpreted = both(add3, a.shape, out, a, b)
    assert_same(compiled, interpreted)
    np.testing.assert_array_equal(compiled[0], a + b)


@pytest.mark.cpu_code
def test_innermost_dimension_is_a_vector_loop():
    """Independent iterations of the domain's last dimension run as SIMD
    loads, adds and stores, for contiguous and for strided rows."""
    for a in (np.ones((2, 3, 40)), np.ones((2, 3, 80))[:, :, ::2]):
        add3[a.shape](np.zeros(a.shape), a, np.ones(40))
        ir = add3.inspect("llvm")
        assert re.search(r"fadd <\d+ x double>", ir), ir


@ember.kernel
def add4(out, a, b, sizes):
    i, j, k = ember.tid()
    for m in range(a.shape[3]):
        out[i, j, k, m] = a[i, j, k, m] * b[-1 - m] + a.ndim
    if i == 0 and j == 0 and k == 0:
        sizes[0] = len(a) + out.shape[-1] * 10


@pytest.mark.parametrize("layout", ["C", "F", "strided", "negative"])
def test_4d_arrays(layout):
    rng = np.random.default_rng(1)
    base = rng.random((3, 4, 5, 6))
    a = {"C": base, "F": np.asfortranarray(base), "strided": rng.random((6, 4, 10, 6))[::2, :, ::2],
         "negative": base[::-1, :, ::-1, ::-1]}[layout]
    b = rng.random(a.shape[3])
    out = np.zeros(a.shape)
    compiled, interpreted = both(add4, a.shape[:3], out, a, b, np.zeros(1, np.int64))
    assert_same(compiled, interpreted)
    np.testing.assert_array_equal(compiled[0], a * b[::-1] + 4)
    assert compiled[3][0] == len(a) + a.shape[-1] * 10
    with pytest.raises(ValueError, match="kernels take arrays of 1 to 4 dimensions, got 5"):
        add4[(1, 1, 1)](np.zeros((1,) * 5), a, b, np.zeros(1, np.int64))


MATH_EXPRESSIONS = [f"math.{f}(a)" for f in (
    "sqrt", "cbrt", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sin", "cos", "tan",
    "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "erf", "erfc",
    "fabs", "floor", "ceil", "trunc", "isnan", "isinf", "isfinite")] + [f"math.{f}(a, b)" for f in (
    "pow", "atan2", "hypot", "fmod", "copysign", "log")] + [
    "a % b", "a // b", "a ** b", "abs(a)", "min(a, b)", "max(a, b)", "np.rint(a)", "np.where(a > b, a, -b)",
    "np.arctan2(a, b)", "np.exp(a) * b + a"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("expr", MATH_EXPRESSIONS)
def test_math_in_kernels_is_the_math_of_vectorize(expr, dtype):
    """Every math function inside a kernel gives vectorize's values bit for bit."""
    rng = np.random.default_rng(3)
    special = [0.0, -0.0, 1.0, -1.0, 0.5, 2.0, np.inf, -np.inf, np.nan, 1e-300, 1e300, 3e-39]
    a = np.concatenate([special, rng.normal(size=500) * 10.0 ** rng.integers(-5, 5, 500)])
    with np.errstate(over="ignore"):
        a = a.astype(dtype)
    b = np.roll(a, 5)
    in_kernel = ember.kernel(from_source(
        f"def k(out, x, y):\n    i = ember.tid()\n    a = x[i]\n    b = y[i]\n"
        f"    out[i] = {expr}\n"))
    mapped = ember.vectorize(from_source(f"def v(a, b):\n    return {expr}\n", "v"))
    with np.errstate(all="ignore"):
        want = mapped(a, b)
    out = np.zeros(a.shape, want.dtype)
    in_kernel[a.shape](out, a, b)
    np.testing.assert_array_equal(out, want)


@ember.kernel
def negative_index(out, x):
    i = ember.tid()
    out[i] = x[-1 - i] + x[i - x.shape[0]]


def test_negative_indices_count_from_the_end():
    x = np.arange(10.0)
    out = np.zeros(10)
    compiled, interpreted = both(negative_index, 10, out, x)
    assert_same(compiled, interpreted)
    np.testing.assert_array_equal(compiled[0], x[::-1] + x)


@ember.kernel
def stencil_shifted(out, u):
    i, j = ember.tid()
    i += 1
    j += 1
    out[i, j] = u[i - 1, j] + u[i, j - 1] - u[i, j + 1]


@ember.kernel
def stencil_wrapping(out, u):
    i, j = ember.tid()
    out[i, j] = u[i - 1, j] + u[i, j - 1] - u[i, j + 1 - u.shape[1]]


@pytest.mark.cpu_code
def test_shifted_indices_need_no_wrap_around_but_wrap_where_negative():
    """With i = tid + 1, i - 1 is never negative: LLVM sees that (domain
    bounds and extents carry a non-negative range) and drops the wrap-around,
    so the row vectorizes without gathers. Where i - 1 can be -1, it wraps."""
    u = np.random.default_rng(3).random((7, 37))
    compiled, interpreted = both(stencil_shifted, (5, 35), np.zeros_like(u), u)
    assert_same(compiled, interpreted)
    want = np.zeros_like(u)
    want[1:-1, 1:-1] = u[:-2, 1:-1] + u[1:-1, :-2] - u[1:-1, 2:]
    np.testing.assert_array_equal(compiled[0], want)
    assert not re.search(r"select i1 \S+, i64", stencil_shifted.inspect("llvm"))  # no wrap
    compiled, interpreted = both(stencil_wrapping, u.shape, np.zeros_like(u), u)
    assert_same(compiled, interpreted)
    want = np.roll(u, 1, 0) + np.roll(u, 1, 1) - np.roll(u, -1, 1)
    np.testing.assert_array_equal(compiled[0], want)


@ember.kernel
def signed_bins(counts, x, chunk):
    t = ember.tid()
    for k in range(t * chunk, min((t + 1) * chunk, x.shape[0])):
        counts[t, int(x[k] * counts.shape[1])] += 1


@pytest.mark.cpu_code
def test_data_dependent_indices_wrap_through_a_predicted_branch():
    """Bins from data may be negative (they count from the end, as in NumPy);
    the wrap-around is a select weighted as almost never taken, which the x86
    backend turns into a branch: the address does not wait for the sign."""
    x = np.random.default_rng(5).uniform(-1, 1, 1000)
    counts = np.zeros((4, 8), np.int64)
    compiled, interpreted = both(signed_bins, 4, counts, x, 250)
    assert_same(compiled, interpreted)
    want = np.zeros_like(counts)
    np.add.at(want, (np.arange(1000) // 250, (x * 8).astype(np.int64) % 8), 1)
    np.testing.assert_array_equal(compiled[0], want)
    ir = signed_bins.inspect("llvm")
    weights = set(re.findall(r'^(!\d+) = !\{!"branch_weights", i32 1, i32 1048576\}', ir, re.M))
    wraps = re.findall(r"= select i1 .*, i64 .*, !prof (!\d+)", ir)
    assert wraps and all(w in weights for w in wraps), wraps
    if platform.machine() == "x86_64":
        assert re.search(r"^\s+js\s", signed_bins.inspect("asm"), re.M)


@ember.kernel
def window_sums(out, x, start, width):
    t = ember.tid()
    s = 0.0
    for k in range(start + t, start + t + width):
        s += x[k]
    out[t] = s


@ember.kernel
def window_sums_stepping_back(out, x, start, width):
    t = ember.tid()
    out[t] = 0.0
    for k in range(start + t, start + t + width):
        k -= 2  # may be negative even for a non-negative start: one copy
        out[t] += x[k]


@ember.kernel
def window_sums_nested(out, x, start, width):
    t = ember.tid()
    s = 0.0
    for k in range(start + t, start + t + width):
        for r in range(2):  # a nested loop: one copy
            s += x[k] * r
    out[t] = s


@ember.kernel
def window_walk(out, x, start, width):
    t = ember.tid()
    s = 0.0
    k = 0
    for k in range(start + t, start + t + width):
        if k % 3 == 0:
            continue
        if x[k] > 0.9:
            break
        if x[k] > 0.5:
            k = k // 2  # stays non-negative: the copy keeps dropping the wrap
        s += x[k]
    out[t] = s + k  # after the loop k may be negative again


@ember.kernel(boundscheck=True)
def window_checked(out, x, start, width):
    t = ember.tid()
    for k in range(start + t, start + t + width):
        out[t] += x[k]


@ember.kernel
def window_shifted(out, x, start, width):
    t = ember.tid()
    for k in range(start + t, start + t + width):
        out[t] += x[k - 1]  # k >= 0 does not make k - 1 so: one copy


def loop_bodies(ir):
    """The for-loop blocks of optimized LLVM IR (bodies, and the blocks
    between two runs of 65,536 iterations): label -> text."""
    blocks = re.split(r"^(?=[\w.]+:)", ir, flags=re.M)
    return {b.split(":")[0]: b for b in blocks if re.match(r"for\.(body|block)", b)}


@pytest.mark.cpu_code
@pytest.mark.parametrize("start", [-7, -3, -1, 0, 2])
def test_loop_from_an_unknown_start_drops_the_wrap_when_it_is_not_negative(start):
    """`for k in range(start + t, ...)` runs in two copies: for a start that is
    not negative, x[k] needs no wrap-around; otherwise k may count from the
    end. Values against NumPy and the interpreter on both sides of zero."""
    x = np.random.default_rng(9).random(20)
    for kernel, shift in [(window_sums, 0), (window_sums_stepping_back, -2),
                          (window_sums_nested, 0)]:
        want = np.array([x[np.arange(start + t, start + t + 4) + shift].sum() for t in range(5)])
        compiled, interpreted = both(kernel, 5, np.zeros(5), x, start, 4)
        assert_same(compiled, interpreted)
        np.testing.assert_allclose(compiled[0], want, rtol=1e-12)
    bodies = loop_bodies(window_sums.inspect("llvm"))
    loads = [b for b in bodies.values() if "load double" in b]
    assert any("select" not in b for b in loads), "no copy without the wrap-around"
    assert any("select" in b for b in loads), "no copy that wraps"
    for kernel, args in [(window_walk, (x, start, 4)), (window_shifted, (x, start, 4))]:
        compiled, interpreted = both(kernel, 5, np.zeros(5), *args)
        assert_same(compiled, interpreted)
    compiled, interpreted = both(window_checked, 5, np.zeros(5), x, start, 4)
    assert_same(compiled, interpreted)
    with pytest.raises(IndexError, match=r"index 2[0-4] is out of bounds"):
        window_checked[5](np.zeros(5), x, 17, 4)
    # x[k - 1] gains nothing from k >= 0: one copy, so fewer loop blocks than
    # window_sums's two copies of the same loop.
    assert len(loop_bodies(window_shifted.inspect("llvm"))) < len(bodies)
    for kernel in (window_sums_stepping_back, window_sums_nested):
        loads = [b for b in loop_bodies(kernel.inspect("llvm")).values() if "load double" in b]
        assert loads and all("select" in b for b in loads), kernel.__name__


@ember.kernel
def loops(out, x, step):
    i = ember.tid()
    total = 0.0
    for k in range(x.shape[1]):
        if k % 3 == 0:
            continue
        total += x[i, k]
    for k in range(5, -5, -2):
        total += k
    for k in range(0, 10, step):
        total += 0.5
    n = 0
    while True:
        n += 1
        if n >= i:
            break
    k = -1
    for k in range(3):
        pass
    out[i] = total + n + k + len(x) + x.ndim


def test_for_while_break_continue_match_python():
    rng = np.random.default_rng(1)
    x = rng.random((40, 17))
    out = np.zeros(40)
    for step in (1, 3, -1, 0):  # a zero step at run time runs nothing
        compiled, interpreted = both(loops, 40, out, x, step)
        assert_same(compiled, interpreted)
        want = np.array([x[i, [k for k in range(17) if k % 3]].sum() + sum(range(5, -5, -2)) +
                         0.5 * len(range(0, 10, step) if step else []) + max(i, 1) + 2 + 40 + 2
                         for i in range(40)])
        np.testing.assert_allclose(compiled[0], want, rtol=1e-12)


@ember.kernel
def range_edges(out, start, stop, step):
    i = ember.tid()
    n = 0
    last = 0
    for k in range(start, stop, step):
        n += 1
        last = k
    out[i] = n
    out[i + 1] = last


@pytest.mark.parametrize("start,stop,step", [
    (0, 10, 3), (10, 0, -3), (5, 5, 1), (5, 4, 1), (4, 5, -1), (0, 1000, 7),
    (2**63 - 2, 2**63 - 1, 4),          # start + step overflows int64
    (-2**63 + 1, -2**63, -4),
    (-2**63, 2**63 - 1, 2**62),         # stop - start overflows int64
    (2**63 - 1, -2**63, -2**62),
    (-2**63, 2**63 - 1, 2**63 - 1)])
def test_range_counts_like_python_near_the_int64_limits(start, stop, step):
    # Counted loops, compiled (lower_kernel.cpp) and interpreted: no iteration
    # is lost or added where start + step or stop - start leaves int64.
    compiled, interpreted = both(range_edges, 1, np.zeros(2, np.int64), start, stop, step)
    r = range(start, stop, step)
    assert compiled[0].tolist() == interpreted[0].tolist() == [len(r), r[-1] if r else 0]


@ember.kernel
def early_return(out, x):
    i = ember.tid()
    if x[i] < 0:
        return
    out[i] = x[i]


def test_bare_return_ends_one_index():
    x = np.array([1.0, -2.0, 3.0, -4.0])
    out = np.full(4, 9.0)
    compiled, interpreted = both(early_return, 4, out, x)
    assert_same(compiled, interpreted)
    np.testing.assert_array_equal(compiled[0], [1.0, 9.0, 3.0, 9.0])


@ember.kernel
def mandelbrot(img, xmin, ymin, dx, dy, max_iter):
    i, j = ember.tid()
    x0 = xmin + j * dx
    y0 = ymin + i * dy
    x, y, n = 0.0, 0.0, 0
    while x * x + y * y <= 4.0 and n < max_iter:
        x, y = x * x - y * y + x0, 2.0 * x * y + y0
        n += 1
    img[i, j] = n


def test_mandelbrot_matches_numpy():
    h, w = 60, 90
    img = np.zeros((h, w), np.int32)
    mandelbrot[img.shape](img, -2.0, -1.5, 3.0 / w, 3.0 / h, 50)
    c = (-2.0 + np.arange(w) * (3.0 / w))[None, :] + 1j * (-1.5 + np.arange(h) * (3.0 / h))[:, None]
    z = np.zeros_like(c)
    want = np.zeros((h, w), np.int32)
    for _ in range(50):
        alive = np.abs(z) <= 2.0
        want += alive
        z = np.where(alive, z * z + c, z)
    assert (img == want).mean() > 0.999  # |z| <= 2 and x*x + y*y <= 4 differ by rounding
    ref = np.zeros_like(img)
    mandelbrot.interpret(img.shape, ref, -2.0, -1.5, 3.0 / w, 3.0 / h, 50)
    np.testing.assert_array_equal(img, ref)


def carried_square(start_is_square):
    """A loop whose condition and body share x * x: rotated, the loop carries
    the square from one iteration to the next in `sq`. With fastmath,
    codegen/loop_fma.cpp fuses `sq + c` into fma(x, x, c), but only where
    `sq` equals x * x on entry too."""
    def body(out, a, start, c):
        i = ember.tid()
        x = a[i]
        sq = x * x if start_is_square else start[i]
        k = 0
        while sq < 100.0 and k < 40:
            x = 0.9 * x + 1.0 / (sq + c)
            sq = x * x
            k += 1
        out[i] = sq + k
    return body


@pytest.mark.cpu_code
@pytest.mark.parametrize("start_is_square", [True, False])
@pytest.mark.parametrize("fastmath", [True, False])
def test_carried_products_become_fmas_only_where_exact(start_is_square, fastmath):
    kernel = ember.kernel(fastmath=fastmath)(carried_square(start_is_square))
    a = np.linspace(-12.0, 12.0, 1001)
    start = a * a + 7.0  # not x * x: fusing would change every result
    out, ref = np.zeros_like(a), np.zeros_like(a)
    kernel[a.size](out, a, start, 3.0)
    kernel.interpret(a.size, ref, a, start, 3.0)
    np.testing.assert_allclose(out, ref, rtol=1e-13)
    fused = kernel.inspect("llvm").count("llvm.fmuladd")
    assert (fused > 0) == (fastmath and start_is_square)  # a fastmath licence only


@ember.kernel(fastmath=True)
def chained_products(out, a, c):
    i = ember.tid()
    x = a[i]
    k = 0
    while k < 8:
        m = x * x          # used twice: fused into m + c
        s = m + c
        t = s * s          # a factor of this product is the add fused above
        x = 0.5 * (t + c) / (t + m + 1.0)
        k += 1
    out[i] = x


@pytest.mark.cpu_code
def test_fusing_keeps_later_products_intact():
    a = np.linspace(-3.0, 3.0, 257)
    out, ref = np.zeros_like(a), np.zeros_like(a)
    chained_products[a.size](out, a, 0.25)
    chained_products.interpret(a.size, ref, a, 0.25)
    np.testing.assert_allclose(out, ref, rtol=1e-12)
    assert "llvm.fmuladd" in chained_products.inspect("llvm")


@pytest.mark.cpu_code
def test_mandelbrot_escape_loop_is_fused_with_fastmath():
    """The Mandelbrot step x*x - y*y + x0 reuses the x*x and y*y of the
    loop condition; with fastmath x*x + x0 is one fma, so the loop-carried
    chain is fma, sub, mul instead of mul, add, sub, mul."""
    kernel = ember.kernel(fastmath=True)(mandelbrot.py_func)
    h, w = 60, 90
    img, ref = np.zeros((h, w), np.int32), np.zeros((h, w), np.int32)
    kernel[img.shape](img, -2.0, -1.5, 3.0 / w, 3.0 / h, 50)
    mandelbrot[img.shape](ref, -2.0, -1.5, 3.0 / w, 3.0 / h, 50)
    assert (img == ref).mean() > 0.999
    assert "llvm.fmuladd" in kernel.inspect("llvm")


@ember.kernel
def histogram(counts, x):
    i = ember.tid()
    ember.atomic_add(counts, int(x[i] * counts.shape[0]), 1)


@ember.kernel
def extremes(lo, hi, x):
    i = ember.tid()
    ember.atomic_min(lo, i % 4, x[i])
    ember.atomic_max(hi, (i % 2, i % 3), x[i])


@pytest.mark.parametrize("threads", [1, 2, 4])
@pytest.mark.parametrize("dtype", ["int32", "int64", "uint32", "uint64", "float32", "float64"])
def test_atomics_under_contention(threads, dtype):
    before = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        x = np.random.default_rng(2).random(200_000)
        counts = np.zeros(7, dtype)
        histogram[x.size](counts, x)  # 7 bins for 200k indices: every add contends
        np.testing.assert_array_equal(counts, np.bincount((x * 7).astype(int), minlength=7))
        v = (np.random.default_rng(3).random(100_000) * 1000 - 500).astype(dtype)
        lo = np.full(4, np.iinfo(dtype).max if dtype[0] in "iu" else np.inf, dtype)
        hi = np.full((2, 3), np.iinfo(dtype).min if dtype[0] in "iu" else -np.inf, dtype)
        extremes[v.size](lo, hi, v)
        idx = np.arange(v.size)
        np.testing.assert_array_equal(lo, [v[idx % 4 == r].min() for r in range(4)])
        np.testing.assert_array_equal(
            hi, [[v[(idx % 2 == a) & (idx % 3 == b)].max() for b in range(3)] for a in range(2)])
    finally:
        ember.set_num_threads(before)


@ember.kernel(boundscheck=True)
def checked(out, x, k):
    i = ember.tid()
    out[i] = x[i + k]


@ember.kernel
def unchecked_wrap(out, x):
    i = ember.tid()
    out[i] = x[i - 1]


def test_boundscheck_raises_index_error_and_writes_nothing_outside():
    x = np.arange(10.0)
    out = np.zeros(12)
    guard = out[10:].copy()
    with pytest.raises(IndexError) as e:
        checked[10](out[:10], x, 3)
    message = str(e.value)
    assert "index 10 is out of bounds for axis 0 with size 10" in message
    assert "array 'x' of shape (10,)" in message and "test_kernel.py:" in message
    np.testing.assert_array_equal(out[10:], guard)
    with pytest.raises(IndexError, match="index -11 is out of bounds"):
        checked[10](out[:10], x, -11)
    checked[10](out[:10], x, -10)  # negative but in range
    np.testing.assert_array_equal(out[:10], x)
    unchecked_wrap[10](out[:10], x)  # i - 1 = -1 wraps, as in NumPy
    np.testing.assert_array_equal(out[:10], np.roll(x, 1))


def test_interpreter_checks_bounds_too():
    with pytest.raises(IndexError, match="axis 0 with size 10"):
        checked.interpret(10, np.zeros(10), np.arange(10.0), 1)


@ember.kernel
def fill(out, v):
    i, j = ember.tid()
    out[i, j] = v


def test_domains_and_scalars():
    out = np.zeros((3, 4), np.int16)
    fill[out.shape](out, 7)
    assert (out == 7).all()
    fill.launch((0, 4), out, 1)  # an empty domain runs nothing
    assert (out == 7).all()
    fill[(2, 2)](out, np.int16(-3))
    assert (out[:2, :2] == -3).all() and (out[2:] == 7).all()
    big = np.zeros((300, 400))
    fill[big.shape](big, 2.5)  # large enough to run on every thread
    assert (big == 2.5).all()


@ember.kernel
def needs_2d(out):
    i, j = ember.tid()
    out[i, j] = i * 10 + j


def test_launch_errors():
    out = np.zeros((2, 2))
    with pytest.raises(TypeError, match=r"needs_2d\[shape\]"):
        needs_2d(out)
    with pytest.raises(CompileError, match="ember.tid\\(\\) gives 1 index in this launch"):
        needs_2d[4](out)
    with pytest.raises(ValueError, match="negative extent"):
        needs_2d[(-1, 2)](out)
    with pytest.raises(ValueError, match="1 to 3 dimensions"):
        needs_2d[(1, 1, 1, 1)](out)
    with pytest.raises(TypeError, match="domain is an int or a tuple"):
        needs_2d[2.0](out)
    with pytest.raises(OverflowError, match=r"domain \(4294967296, 4294967296\) has more than "
                                            r"2\*\*63 - 1 indices"):
        needs_2d[(2**32, 2**32)](out)
    with pytest.raises(OverflowError, match=r"domain \(2, 1180591620717411303424\) has an extent "
                                            r"beyond 2\*\*63 - 1"):
        needs_2d[(2, 2**70)](out)
    cube = np.zeros((1, 1, 1))
    add3[(2**62, 4, 0)](cube, cube, np.ones(1))  # empty: never too large, runs nothing
    assert not cube.any()
    img = np.zeros((2, 2), np.int32)
    with pytest.raises(OverflowError, match="argument 6: Python int 18446744073709551616 is out "
                                            "of bounds for int64 and uint64"):
        mandelbrot[img.shape](img, -2.0, -1.5, 0.5, 0.5, 2**64)
    with pytest.raises(CompileError, match="'out' is a scalar in this launch: a number or an "
                                           "array of 0 dimensions"):
        needs_2d[(2, 2)](np.zeros(()))
    with pytest.raises(TypeError, match=r"needs_2d\(\) takes 1 argument but 2 were given"):
        needs_2d[(2, 2)](out, out)
    read_only = np.zeros((2, 2))
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="argument 1 \\('out'\\), which is read-only"):
        needs_2d[(2, 2)](read_only)
    # The interpreter too: immutable memory (bytes) stays as it is
    frozen = bytes(32)
    with pytest.raises(ValueError, match="argument 1 \\('out'\\), which is read-only"):
        needs_2d.interpret((2, 2), np.frombuffer(frozen).reshape(2, 2))
    assert frozen == bytes(32)
    with pytest.raises(TypeError, match="argument 1"):
        needs_2d[(2, 2)]("text")
    with pytest.raises(TypeError, match="argument 1 has dtype object"):
        needs_2d[(2, 2)](object())
    with pytest.raises(RuntimeError, match="only be called inside an @ember.kernel"):
        ember.tid()
    needs_2d[out.shape](out)
    np.testing.assert_array_equal(out, [[0, 1], [10, 11]])


def from_source(source, name="k"):
    """The function `name` defined by `source`, readable by ember (linecache)."""
    import linecache
    filename = f"<kernel-{abs(hash(source))}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    scope = {"ember": ember, "np": np, "math": math}
    exec(compile(source, filename, "exec"), scope)
    return scope[name]


def compile_error(source, *args, domain=1):
    """The CompileError of a kernel defined by `source` (a def named k)."""
    with pytest.raises(CompileError) as e:
        ember.kernel(from_source(source))[domain](*args)
    return e.value


@pytest.mark.parametrize("body, message, line", [
    ("    i = ember.tid()\n    x[i:] = 1\n", "slices are not supported", 3),
    ("    i = ember.tid()\n    x[i, i] = 1\n", "a 1-d array needs 1 indices, got 2", 3),
    ("    i = ember.tid()\n    x[1.5] = 1\n", "array indices must be integers, got float64", 3),
    ("    i = ember.tid()\n    return 1\n", "a kernel returns nothing", 3),
    ("    i = ember.tid()\n    x = 1\n", "array parameter 'x' cannot be reassigned in a kernel "
     "(assign to its elements, x[i] = ...)", 3),
    ("    i = ember.tid()\n    for a in x:\n        pass\n", "kernels loop over range(...) only", 3),
    ("    i = ember.tid()\n    for a in range(1.5):\n        pass\n", "range() needs integers", 3),
    ("    i = ember.tid()\n    for a in range(0, 4, 0):\n        pass\n", "step must not be zero", 3),
    ("    i = ember.tid()\n    t = 0\n    t = 1.5\n", "changes type from int64 to float64", 4),
    ("    i = ember.tid()\n    y = x + 1\n", "'+' needs a number, got an array", 3),
    ("    i = ember.tid()\n    y = -x\n", "'unary -' needs a number, got an array", 3),
    ("    i = ember.tid()\n    y = x == 1\n", "'==' needs a number, got an array", 3),
    ("    i = ember.tid()\n    x[i] = x\n", "item assignment needs a number, got an array", 3),
    ("    i = ember.tid()\n    if x:\n        pass\n", "condition needs a number, got an array", 3),
    ("    i = ember.tid()\n    x[x] = 1\n", "an array index needs a number, got an array", 3),
    ("    i = ember.tid()\n    for a in range(x):\n        pass\n", "range() needs a number", 3),
    ("    i = ember.tid()\n    y = x[i] if x else 0\n", "condition needs a number", 3),
    ("    i = ember.tid()\n    ember.atomic_add(x, i, x)\n", "an atomic's value needs a number", 3),
    ("    i = ember.tid()\n    y = x.shape\n", "x.shape is a tuple", 3),
    ("    i = ember.tid()\n    y = x.shape[3]\n", "shape index 3 is out of range", 3),
    ("    i = ember.tid()\n    y = x.size\n", "array attribute 'size' is not supported", 3),
    ("    i = ember.tid()\n    y = ember.atomic_add(x, i, 1)\n", "returns nothing", 3),
    ("    i = ember.tid()\n    ember.atomic_add(x, i)\n", "takes 3 arguments", 3),
    ("    i = ember.tid()\n    while i < 3:\n        i += 1\n    else:\n        pass\n",
     "while ... else", 5),
    ("    i = ember.tid()\n    for a in range(3):\n        pass\n\n    else: x[i] = 1\n",
     "for ... else", 6),
    ("    i = ember.tid()\n    for a in range(3):\n        b = a\n    x[i] = b\n",
     "local variable 'b' is not assigned on every path", 5),
    ("    i = ember.tid()\n    r = range(3)\n", "range() can only be the iterable", 3),
    ("    i = ember.tid()\n    n = len(i)\n", "len() needs an array parameter, got 'i'", 3),
])
def test_compile_errors_name_the_construct_and_line(body, message, line):
    error = compile_error("def k(x):\n" + body, np.zeros(4, np.float64))
    assert message in str(error)
    assert error.lineno == line


@pytest.mark.parametrize("body", ["    if m:\n        pass\n", "    while m:\n        pass\n",
                                  "    y = 1.0 if m else 2.0\n", "    y = not m\n",
                                  "    y = m and True\n"])
def test_a_bool_array_is_not_a_condition(body):
    # A bool array needs no conversion to be a truth value: it slipped past
    # the checks and crashed LLVM (a segfault for the conditional expression).
    error = compile_error("def k(m):\n    i = ember.tid()\n" + body, np.ones(4, bool))
    assert "needs a number, got an array" in str(error) and error.lineno == 3


def test_atomics_need_supported_dtypes():
    error = compile_error("def k(x):\n    i = ember.tid()\n    ember.atomic_add(x, i, 1)\n",
                          np.zeros(4, np.int8))
    assert "atomics need an int32, int64" in str(error) and error.lineno == 3


@pytest.mark.cpu_code
def test_inspect_stages():
    mandelbrot[(4, 4)](np.zeros((4, 4), np.int32), -2.0, -1.5, 0.5, 0.5, 10)
    text = mandelbrot.inspect("ir")
    assert text.startswith("kernel mandelbrot(img: i32[2]") and "while " in text
    assert "store(img, i, j)" in text
    assert "define" in mandelbrot.inspect("llvm")
    assert mandelbrot.signatures[-1].startswith("[2-d](int32[xx], float64")


@pytest.mark.cpu_code
def test_inspect_before_a_launch_compiles_what_the_launch_runs():
    k = ember.kernel(mandelbrot.py_func)
    img = np.zeros((4, 6), np.int32)
    args = (img, -2.0, -1.5, 0.5, 0.5, 10)
    text = k.inspect("llvm", domain=img.shape, args=args)
    k[img.shape](*args)
    k[img.shape](*args)
    assert len(k.signatures) == 1 and k.inspect("llvm") == text  # compiled once
    expected = np.zeros_like(img)
    k.interpret(img.shape, expected, *args[1:])
    assert img.any() and np.array_equal(img, expected)
    # a strided view is a specialization of its own, on the CPU
    k.inspect("ir", domain=(4, 3), args=(img[:, ::2],) + args[1:])
    assert len(k.signatures) == 2


@ember.kernel
def scatter_int64(out, x, where):
    i = ember.tid()
    out[where[i]] = np.int64(x[i])


@ember.kernel
def scatter_int32(out, x, where):
    i = ember.tid()
    out[where[i]] = np.int32(x[i])


@ember.vectorize
def to_int64(x):
    return np.int64(x)


@ember.vectorize
def to_int32(x):
    return np.int32(x)


@pytest.mark.parametrize("src,dst", [("float64", "int64"), ("float64", "int32"),
                                     ("float32", "int64"), ("float32", "int32")])
@pytest.mark.cpu_code
def test_scalar_float_to_int_matches_the_vector_rule(src, dst):
    """A conversion left scalar by the vectorizer (here: a scatter) becomes one
    cvttsd2si / cvttss2si on x86 (codegen/x86_truncate.cpp); it must give
    what the vectorized compares and selects give, NaN, infinities and
    out-of-range values (INT_MIN, as NumPy on x86) included."""
    scatter, convert = (scatter_int64, to_int64) if dst == "int64" else (scatter_int32, to_int32)
    big = 2.0 ** (63 if dst == "int64" else 31)
    x = np.array([np.nan, np.inf, -np.inf, 1e300, -1e300, big, -big, big * 2, -big * 2,
                  3.7, -3.7, 0.5, -0.5, 0.0, 1e9, -1e9, 2.0 ** 40, 123456.75] * 3)
    with np.errstate(over="ignore"):
        x = x.astype(src)
    where = np.random.default_rng(9).permutation(x.size)
    out = np.zeros(x.size, dst)
    scatter[x.size](out, x, where)
    np.testing.assert_array_equal(out[where], convert(x))
    assert (out[where] == np.iinfo(dst).min).sum() >= 3 * 7  # NaN, inf, out of range
    if platform.machine() in ("x86_64", "AMD64"):
        asm = scatter.inspect("asm")
        assert "cvtts" in asm and "ucomis" not in asm, asm
