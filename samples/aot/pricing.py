"""Kernels compiled ahead of time into a C library (see README.md here).

    python -m ember aot build samples/aot/pricing.py -o build/aot

gives build/aot/libpricing.so, libpricing.a, pricing.h and pricing.json;
samples/aot/main.c calls every export and checks the results.
"""

import math

import ember


@ember.vectorize(["float64(float64, float64, float64)", "float32(float32, float32, float32)"])
def price(s, k, t):
    """A call's value (Black-Scholes with a 2% rate and 30% volatility)."""
    d1 = (math.log(s / k) + (0.02 + 0.5 * 0.3 * 0.3) * t) / (0.3 * math.sqrt(t))
    d2 = d1 - 0.3 * math.sqrt(t)
    n1 = 0.5 * (1.0 + math.erf(d1 * 0.7071067811865476))
    n2 = 0.5 * (1.0 + math.erf(d2 * 0.7071067811865476))
    return s * n1 - k * math.exp(-0.02 * t) * n2


@ember.reduce("+", ["float64(float64, float64)"])
def dot(x, y):
    """Sum of x[i] * y[i], compensated, the same for every thread count."""
    return x * y


@ember.kernel(["[2](float64[:, :], float64[:, :])"])
def blur(out, a):
    """out[i, j] = mean of a's 3x3 neighbourhood, edges clamped."""
    i, j = ember.tid()
    n, m = a.shape[0], a.shape[1]
    total = 0.0
    for di in range(-1, 2):
        for dj in range(-1, 2):
            total += a[min(max(i + di, 0), n - 1), min(max(j + dj, 0), m - 1)]
    out[i, j] = total / 9.0
