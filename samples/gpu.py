"""ember on an NVIDIA GPU: the same functions with target="cuda".

    python samples/gpu.py [n]

A triad (x + 3y), a 2-D blur kernel, a histogram with atomics and a dot
product (a reduction) run on the GPU and are checked against NumPy; device
arrays stay on the GPU between calls, the time of a call on device arrays is
compared with NumPy's on the host, and with CuPy installed, CuPy arrays are
used in place. Without a GPU it says why and shows the PTX the GPU would run
(no driver needed for that).
"""

import sys
import time

import numpy as np

import ember


@ember.vectorize(target="cuda")
def triad(x, y):
    return x + 3.0 * y


@ember.kernel(target="cuda")
def blur(out, img, w):
    i, j = ember.tid()
    s = w * img[i, j]
    n = 1.0
    if j > 0:
        s += img[i, j - 1]
        n += 1.0
    if j < img.shape[1] - 1:
        s += img[i, j + 1]
        n += 1.0
    out[i, j] = s / (w + n - 1.0)


@ember.kernel(target="cuda")
def histogram(counts, x):
    i = ember.tid()
    b = int(x[i] * counts.shape[0])
    if 0 <= b < counts.shape[0]:
        ember.atomic_add(counts, b, 1)


@ember.reduce("+", target="cuda")
def dot(x, y):
    return x * y


def best_of(fn, repeat=5):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main(n):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32)
    img = rng.standard_normal((512, 384))
    u = rng.random(n)
    if not ember.cuda.is_available():
        print(f"no GPU here ({ember.cuda.unavailable_reason()})")
        counts = np.zeros(64, np.int64)
        for what, ptx in [("triad", triad.inspect("ptx", "(float32, float32)")),
                          ("dot", dot.inspect("ptx", "(float32, float32)")),
                          ("histogram", histogram.inspect("ptx", domain=n, args=(counts, u)))]:
            entry = next(line for line in ptx.splitlines() if ".entry" in line)
            print(f"the PTX ember would load for {what}: {len(ptx.splitlines())} lines, "
                  f"{entry.strip()}")
        return
    print(ember.cuda.device_info())
    # NumPy in, NumPy out: copies both ways.
    got = triad(x, y)
    np.testing.assert_allclose(got, x + np.float32(3.0) * y, rtol=1e-6)
    # Device arrays: the data stays on the GPU.
    dx, dy = ember.cuda.to_device(x), ember.cuda.to_device(y)
    out = ember.cuda.empty(n, np.float32)

    def gpu_call():
        triad(dx, dy, out=out)
        ember.cuda.synchronize()

    t_gpu = best_of(gpu_call)
    t_numpy = best_of(lambda: x + np.float32(3.0) * y)
    np.testing.assert_allclose(out.to_host(), x + np.float32(3.0) * y, rtol=1e-6)
    print(f"triad of {n} float32 on device arrays: {t_gpu * 1e3:.3f} ms, NumPy (host) "
          f"{t_numpy * 1e3:.3f} ms: {t_numpy / t_gpu:.1f}x")
    result = np.empty_like(img)
    blur[img.shape](result, img, 2.0)
    padded = np.pad(img, ((0, 0), (1, 1)))
    count = np.full(img.shape, 3.0)
    count[:, 0] = count[:, -1] = 2.0
    expected = (2.0 * img + padded[:, :-2] + padded[:, 2:]) / (2.0 + count - 1.0)
    np.testing.assert_allclose(result, expected, rtol=1e-12)
    # Atomics: every thread adds to a shared count.
    du, counts = ember.cuda.to_device(u), ember.cuda.zeros(64, np.int64)
    histogram[n](counts, du)
    np.testing.assert_array_equal(counts.to_host(), np.bincount((u * 64).astype(int), minlength=64))
    # A reduction: a NumPy scalar back (it waits for the GPU).
    np.testing.assert_allclose(dot(dx, dy), np.dot(x.astype(np.float64), y), rtol=1e-6)
    try:
        import cupy
    except ImportError:
        cupy = None
    if cupy is not None:  # CuPy arrays in place, the result on the GPU
        cx = cupy.asarray(x)
        got = cupy.asarray(triad(cx, cx))
        np.testing.assert_allclose(cupy.asnumpy(got), x + np.float32(3.0) * x, rtol=1e-6)
    print("triad, blur, histogram and dot on the GPU: matches NumPy")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1 << 24)
