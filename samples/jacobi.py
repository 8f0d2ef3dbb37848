"""2-d Jacobi iteration for Laplace's equation: a stencil with @ember.kernel.

    PYTHONPATH=python python3 samples/jacobi.py [n] [sweeps]

Each sweep replaces every interior point by the mean of its four neighbours;
the boundary holds fixed values (here: 1 on the top edge, 0 elsewhere). The
kernel runs over the interior only, a domain of (n - 2, n - 2), so that no
index needs a bounds test; the inner dimension vectorizes. Checked against
the same sweeps written with NumPy slices.
"""

import sys
import time

import numpy as np

import ember


@ember.kernel
def jacobi_sweep(out, u):
    i, j = ember.tid()
    i += 1
    j += 1
    out[i, j] = 0.25 * (u[i - 1, j] + u[i + 1, j] + u[i, j - 1] + u[i, j + 1])


def solve(u, sweeps):
    u, v = u.copy(), u.copy()  # the boundary lives in both
    interior = (u.shape[0] - 2, u.shape[1] - 2)
    for _ in range(sweeps):
        jacobi_sweep[interior](v, u)
        u, v = v, u
    return u


def solve_numpy(u, sweeps):
    u, v = u.copy(), u.copy()
    for _ in range(sweeps):
        v[1:-1, 1:-1] = 0.25 * (u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:])
        u, v = v, u
    return u


def main(n=2000, sweeps=20):
    u = np.zeros((n, n))
    u[0, :] = 1.0
    solve(u, 1)  # compiles
    t0 = time.perf_counter()
    got = solve(u, sweeps)
    t_ember = time.perf_counter() - t0
    t0 = time.perf_counter()
    want = solve_numpy(u, sweeps)
    t_numpy = time.perf_counter() - t0
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    print(f"jacobi {n}x{n}, {sweeps} sweeps: ember {t_ember * 1e3:.1f} ms, NumPy "
          f"{t_numpy * 1e3:.1f} ms ({t_numpy / t_ember:.1f}x); matches NumPy (max difference "
          f"{np.abs(got - want).max():.1e})")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
