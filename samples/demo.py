"""ember demo: one decorated Python function against the same math in NumPy.

Run it with `tools/demo` (builds ember first) or, once built,
`PYTHONPATH=python python3 samples/demo.py [n]`.
"""

import math
import sys
import time

import numpy as np

import ember


@ember.vectorize
def price(s, k, t):
    """The README's example: a branch per element, fused into one pass."""
    d = (math.log(s / k) + 0.02 * t) / math.sqrt(t)
    return s * math.exp(-t) if d > 0 else k - s


def price_numpy(s, k, t):
    d = (np.log(s / k) + 0.02 * t) / np.sqrt(t)
    return np.where(d > 0, s * np.exp(-t), k - s)


def best_of(f, *args, repeat=7):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f(*args)
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
    rng = np.random.default_rng(0)
    s = rng.uniform(10.0, 100.0, n)
    k = rng.uniform(10.0, 100.0, n)
    t = rng.uniform(0.1, 2.0, n)

    t0 = time.perf_counter()
    got = price(s, k, t)
    compile_ms = (time.perf_counter() - t0) * 1e3
    want = price_numpy(s, k, t)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)
    ok = "matches NumPy (rtol 1e-13)"

    t_ember = best_of(price, s, k, t)
    t_numpy = best_of(price_numpy, s, k, t)
    print(f"ember {ember.__version__} on {ember.host_cpu().split(' ')[0]}, n = {n:,} float64")
    print(f"price(s, k, t): first call incl. compile {compile_ms:.1f} ms; {ok}")
    print(f"  NumPy {t_numpy * 1e3:8.2f} ms   ember {t_ember * 1e3:8.2f} ms   "
          f"speedup {t_numpy / t_ember:.1f}x")

    # A second kernel on float32 data: the dtype follows the arguments.
    s32, k32, t32 = (a.astype(np.float32) for a in (s, k, t))
    got32 = price(s32, k32, t32)
    assert got32.dtype == np.float32, got32.dtype
    np.testing.assert_allclose(got32, price_numpy(s32, k32, t32), rtol=2e-6)
    t_ember = best_of(price, s32, k32, t32)
    t_numpy = best_of(price_numpy, s32, k32, t32)
    print(f"price on float32: matches NumPy (rtol 2e-6)")
    print(f"  NumPy {t_numpy * 1e3:8.2f} ms   ember {t_ember * 1e3:8.2f} ms   "
          f"speedup {t_numpy / t_ember:.1f}x")


if __name__ == "__main__":
    main()
