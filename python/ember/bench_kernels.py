"""Benchmark of the sample kernels (@ember.kernel and @ember.reduce) against
NumPy and Numba (`njit(parallel=True, fastmath=True)` with prange), same run,
same data; run by `python -m ember.bench`, which prints this table too.

Every competitor's result is checked against NumPy's before timing.
"""

import numpy as np

import ember

# --- ember -------------------------------------------------------------------------------


@ember.kernel(fastmath=True)
def mandelbrot(img, xmin, ymin, dx, dy, max_iter):
    i, j = ember.tid()
    x0 = xmin + j * dx
    y0 = ymin + i * dy
    x, y, n = 0.0, 0.0, 0
    while x * x + y * y <= 4.0 and n < max_iter:
        x, y = x * x - y * y + x0, 2.0 * x * y + y0
        n += 1
    img[i, j] = n


@ember.kernel
def histogram_chunked(counts, x, chunk, scratch):
    t = ember.tid()
    bins = counts.shape[0]
    for k in range(t * chunk, min((t + 1) * chunk, x.shape[0])):
        scratch[t, int(x[k] * bins)] += 1
    for b in range(bins):
        ember.atomic_add(counts, b, scratch[t, b])


@ember.kernel
def jacobi_sweep(out, u):
    i, j = ember.tid()
    i += 1
    j += 1
    out[i, j] = 0.25 * (u[i - 1, j] + u[i + 1, j] + u[i, j - 1] + u[i, j + 1])


@ember.reduce("+", fastmath=True)
def squares(x):
    return x * x


@ember.reduce("max")
def row_max(x):
    return x


@ember.reduce("+", fastmath=True)
def exp_sum(x, m):
    return np.exp(x - m)


@ember.vectorize(fastmath=True)
def scaled_exp(x, m, s):
    return np.exp(x - m) / s


def ember_versions():
    def mandel(img, args):
        mandelbrot[img.shape](img, *args)
        return img

    def hist(x, bins):
        chunks = 8 * ember.get_num_threads()
        counts = np.zeros(bins, np.int64)
        scratch = np.zeros((chunks, bins), np.int64)
        histogram_chunked[chunks](counts, x, -(-x.size // chunks), scratch)
        return counts

    def jacobi(out, u):
        jacobi_sweep[(u.shape[0] - 2, u.shape[1] - 2)](out, u)
        return out

    def norm(m):
        return np.sqrt(squares(m, axis=1))

    def softmax(z):
        mx = row_max(z, axis=1)[:, None]
        return scaled_exp(z, mx, exp_sum(z, mx, axis=1)[:, None])

    return {"mandelbrot": mandel, "histogram": hist, "jacobi": jacobi, "norm": norm,
            "softmax": softmax}


# --- NumPy -------------------------------------------------------------------------------

def numpy_versions():
    def mandel(img, args):
        xmin, ymin, dx, dy, max_iter = args
        h, w = img.shape
        c = (xmin + np.arange(w) * dx)[None, :] + 1j * (ymin + np.arange(h) * dy)[:, None]
        z = np.zeros_like(c)
        n = np.zeros(img.shape, img.dtype)
        for _ in range(max_iter):
            alive = z.real * z.real + z.imag * z.imag <= 4.0
            n += alive
            z = np.where(alive, z * z + c, z)
        return n

    def hist(x, bins):
        return np.bincount((x * bins).astype(np.int64), minlength=bins)

    def jacobi(out, u):
        out[1:-1, 1:-1] = 0.25 * (u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:])
        return out

    def norm(m):
        return np.linalg.norm(m, axis=1)

    def softmax(z):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    return {"mandelbrot": mandel, "histogram": hist, "jacobi": jacobi, "norm": norm,
            "softmax": softmax}


# --- Numba -------------------------------------------------------------------------------

def numba_versions():
    try:
        import numba
        from numba import njit, prange
    except ImportError:
        return None, "not installed"

    @njit(parallel=True, fastmath=True)
    def mandel_nb(img, xmin, ymin, dx, dy, max_iter):
        h, w = img.shape
        for i in prange(h):
            for j in range(w):
                x0 = xmin + j * dx
                y0 = ymin + i * dy
                x, y, n = 0.0, 0.0, 0
                while x * x + y * y <= 4.0 and n < max_iter:
                    x, y = x * x - y * y + x0, 2.0 * x * y + y0
                    n += 1
                img[i, j] = n

    @njit(parallel=True, fastmath=True)
    def hist_nb(x, bins):
        chunks = 8 * numba.get_num_threads()
        scratch = np.zeros((chunks, bins), np.int64)
        n = x.size
        for c in prange(chunks):
            for k in range(c * n // chunks, (c + 1) * n // chunks):
                scratch[c, int(x[k] * bins)] += 1
        return scratch.sum(axis=0)

    @njit(parallel=True, fastmath=True)
    def jacobi_nb(out, u):
        n, m = u.shape
        for i in prange(1, n - 1):
            for j in range(1, m - 1):
                out[i, j] = 0.25 * (u[i - 1, j] + u[i + 1, j] + u[i, j - 1] + u[i, j + 1])

    @njit(parallel=True, fastmath=True)
    def norm_nb(m):
        out = np.empty(m.shape[0])
        for i in prange(m.shape[0]):
            s = 0.0
            for j in range(m.shape[1]):
                s += m[i, j] * m[i, j]
            out[i] = np.sqrt(s)
        return out

    @njit(parallel=True, fastmath=True)
    def softmax_nb(z):
        out = np.empty_like(z)
        for i in prange(z.shape[0]):
            mx = z[i, 0]
            for j in range(z.shape[1]):
                mx = max(mx, z[i, j])
            s = z.dtype.type(0.0)
            for j in range(z.shape[1]):
                out[i, j] = np.exp(z[i, j] - mx)
                s += out[i, j]
            for j in range(z.shape[1]):
                out[i, j] /= s
        return out

    def mandel(img, args):
        mandel_nb(img, *args)
        return img

    def jacobi(out, u):
        jacobi_nb(out, u)
        return out

    return ({"mandelbrot": mandel, "histogram": hist_nb, "jacobi": jacobi, "norm": norm_nb,
             "softmax": softmax_nb}, "numba " + numba.__version__)


# --- running -----------------------------------------------------------------------------

def make_inputs(rng):
    h, w = 1000, 1500
    u = np.zeros((2000, 2000))
    u[0] = 1.0
    u[1:-1, 1:-1] = rng.random((1998, 1998))
    return {
        "mandelbrot": (np.zeros((h, w), np.int32), (-2.0, -1.5, 3.0 / w, 3.0 / h, 100)),
        "histogram": (rng.random(10_000_000), 256),
        "jacobi": (np.zeros_like(u), u),
        "norm": (rng.standard_normal((1000, 10_000)),),
        "softmax": ((rng.standard_normal((10_000, 1000)) * 3).astype(np.float32),),
    }


def agrees(name, got, want):
    if name == "mandelbrot":  # fastmath may flip pixels on the set's boundary
        return np.mean(got == want) > 0.999
    if np.issubdtype(want.dtype, np.integer):
        return np.array_equal(got, want)
    tol = 1e-5 if want.dtype == np.float32 else 1e-10
    return np.allclose(got, want, rtol=tol, atol=tol * 1e-3)


def run(repeat, median_times):
    """Rows of (kernel, dtype, {competitor: seconds}); `median_times` is bench.py's."""
    inputs = make_inputs(np.random.default_rng(7))
    numba_fns, numba_info = numba_versions()
    sides = {"ember": ember_versions(), "NumPy": numpy_versions()}
    if numba_fns:
        sides["Numba"] = numba_fns
    rows = []
    for name, args in inputs.items():
        want = sides["NumPy"][name](*args).copy()
        competitors = {who: fns[name] for who, fns in sides.items()}
        for who, fn in competitors.items():
            if not agrees(name, fn(*args), want):
                raise AssertionError(f"{who} gives wrong results for {name}")
        times = median_times(competitors, args, repeat)
        rows.append((name, str(want.dtype), times))
    return rows, numba_info


def format_table(rows):
    who = ["ember", "NumPy", "Numba"]
    lines = ["| sample kernel | dtype | " + " | ".join(f"{w} ms" for w in who) +
             " | NumPy/ember | Numba/ember |", "|---" * 7 + "|"]
    for name, dtype, times in rows:
        cells = [f"{times[w] * 1e3:.2f}" if w in times else "—" for w in who]
        ratios = [f"{times[w] / times['ember']:.2f}x" if w in times else "—" for w in who[1:]]
        lines.append(f"| {name} | {dtype} | " + " | ".join(cells) + " | " + " | ".join(ratios) +
                     " |")
    return "\n".join(lines)
