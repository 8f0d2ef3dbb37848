"""Reductions: a dot product, a vector norm and a numerically stable softmax.

    PYTHONPATH=python python3 samples/reductions.py [n]

@ember.reduce("+") maps a scalar function over broadcast arrays and adds the
results, on every core, without a temporary array; "max", "min" and "*"
combine the same way, and `axis=` reduces chosen dimensions. Softmax is a map
(@ember.vectorize), a max-reduce and a sum-reduce. Every result is checked
against NumPy; a sum is also checked against math.fsum, the exact answer.
"""

import math
import sys
import time

import numpy as np

import ember


@ember.reduce("+")
def dot(x, y):
    return x * y


@ember.reduce("+")
def squares(x):
    return x * x


def norm(x, axis=None):
    return np.sqrt(squares(x, axis=axis))


@ember.reduce("max")
def row_max(x):
    return x


@ember.reduce("+")
def exp_sum(x, m):
    return math.exp(x - m)


@ember.vectorize
def exp_ratio(x, m, s):
    return math.exp(x - m) / s


def softmax(x):
    """softmax over the last axis: exp(x - max) / sum(exp(x - max))."""
    m = row_max(x, axis=-1)[..., None]
    s = exp_sum(x, m, axis=-1)[..., None]
    return exp_ratio(x, m, s)


def np_softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def best_of(f, repeat=5):
    f()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=n), rng.normal(size=n)

    got, want = dot(a, b), np.dot(a, b)
    exact = math.fsum(a * b)
    print(f"dot   : ember {got:.17g}  numpy.dot {want:.17g}  exact {exact:.17g}")
    assert abs(got - exact) <= abs(want - exact) + 1e-12 * abs(exact), (got, want, exact)
    print(f"        ember {best_of(lambda: dot(a, b)) * 1e3:.2f} ms, "
          f"numpy.dot {best_of(lambda: np.dot(a, b)) * 1e3:.2f} ms")

    m = rng.normal(size=(1000, n // 1000))
    np.testing.assert_allclose(norm(m, axis=1), np.linalg.norm(m, axis=1), rtol=1e-12)
    np.testing.assert_allclose(norm(a), np.linalg.norm(a), rtol=1e-12)
    print(f"norm  : ember {best_of(lambda: norm(m, axis=1)) * 1e3:.2f} ms, "
          f"numpy.linalg.norm {best_of(lambda: np.linalg.norm(m, axis=1)) * 1e3:.2f} ms (axis=1)")

    logits = (rng.normal(size=(n // 1000, 1000)) * 3).astype(np.float32)
    np.testing.assert_allclose(softmax(logits), np_softmax(logits), rtol=1e-5, atol=1e-7)
    print(f"softmax: ember {best_of(lambda: softmax(logits)) * 1e3:.2f} ms, "
          f"NumPy {best_of(lambda: np_softmax(logits)) * 1e3:.2f} ms (float32)")
    print("every result matches NumPy")


if __name__ == "__main__":
    main()
