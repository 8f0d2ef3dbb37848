"""Accuracy of ember's math functions, in units in the last place (ulp).

Each function of the kernel language is compiled as a one-line kernel and run
on a dense sample of its domain; the result is compared with a higher-
precision reference: float64 NumPy for float32 kernels, long double NumPy
(or mpmath where NumPy has no such function) for float64 kernels.

    python -m ember.ulp [--points N] [--markdown] [--target cuda]

prints the maximum error per function and dtype (docs/math.md holds the
table for the default build, and for the GPU, whose math is libdevice's).
"""

import argparse
import importlib.util
import math
import os
import sys
import tempfile

import numpy as np

import ember

# name: (arity, domain per argument (lo, hi, "lin" or "log"), NumPy name or None for mpmath)
FUNCTIONS = {
    "sqrt": (1, [(0.0, 1e30, "log")], "sqrt"),
    "cbrt": (1, [(-1e30, 1e30, "lin")], "cbrt"),
    "exp": (1, [(-80.0, 80.0, "lin")], "exp"),
    "exp2": (1, [(-120.0, 120.0, "lin")], "exp2"),
    "expm1": (1, [(-30.0, 80.0, "lin")], "expm1"),
    "log": (1, [(1e-30, 1e30, "log")], "log"),
    "log2": (1, [(1e-30, 1e30, "log")], "log2"),
    "log10": (1, [(1e-30, 1e30, "log")], "log10"),
    "log1p": (1, [(-0.999, 1e6, "lin")], "log1p"),
    "sin": (1, [(-1e4, 1e4, "lin")], "sin"),
    "cos": (1, [(-1e4, 1e4, "lin")], "cos"),
    "tan": (1, [(-1e4, 1e4, "lin")], "tan"),
    "arcsin": (1, [(-1.0, 1.0, "lin")], "arcsin"),
    "arccos": (1, [(-1.0, 1.0, "lin")], "arccos"),
    "arctan": (1, [(-1e6, 1e6, "lin")], "arctan"),
    "sinh": (1, [(-80.0, 80.0, "lin")], "sinh"),
    "cosh": (1, [(-80.0, 80.0, "lin")], "cosh"),
    "tanh": (1, [(-20.0, 20.0, "lin")], "tanh"),
    "arcsinh": (1, [(-1e6, 1e6, "lin")], "arcsinh"),
    "arccosh": (1, [(1.0, 1e6, "log")], "arccosh"),
    "arctanh": (1, [(-0.9999, 0.9999, "lin")], "arctanh"),
    "erf": (1, [(-6.0, 6.0, "lin")], None),
    "erfc": (1, [(-6.0, 9.0, "lin")], None),
    "arctan2": (2, [(-1e3, 1e3, "lin"), (-1e3, 1e3, "lin")], "arctan2"),
    "power": (2, [(1e-3, 1e3, "log"), (-10.0, 10.0, "lin")], "power"),
    "hypot": (2, [(-1e10, 1e10, "lin"), (-1e10, 1e10, "lin")], "hypot"),
}

# The GPU's math is libdevice's, whose errors NVIDIA documents (CUDA C++
# Programming Guide 12.x/13.x, "Mathematical Functions": the largest error
# observed against the correctly rounded result, float32 and float64).
# sqrt is IEEE's sqrt.rn on the GPU (0 ulp); docs/math.md has the table.
CUDA_MAX_ULP = {
    "sqrt": (0, 0), "cbrt": (1, 1), "exp": (2, 1), "exp2": (2, 1), "expm1": (1, 1),
    "log": (1, 1), "log2": (1, 1), "log10": (2, 1), "log1p": (1, 1), "sin": (2, 2),
    "cos": (2, 2), "tan": (4, 2), "arcsin": (2, 2), "arccos": (2, 2), "arctan": (2, 2),
    "sinh": (3, 2), "cosh": (2, 1), "tanh": (2, 1), "arcsinh": (3, 3), "arccosh": (4, 3),
    "arctanh": (3, 2), "erf": (2, 2), "erfc": (4, 5), "arctan2": (3, 2), "power": (4, 2),
    "hypot": (3, 2),
}

_SOURCE = "import numpy as np, math\n" + "".join(
    f"def {name}({', '.join('xy'[:arity])}):\n"
    f"    return {'math.' + name if np_name is None else 'np.' + name}({', '.join('xy'[:arity])})\n"
    for name, (arity, _, np_name) in FUNCTIONS.items())


def _kernels(target="cpu", combine=None):
    """The functions as vectorize kernels, or as reduce kernels with `combine`."""
    # The frontend reads kernel source from a file, so write one.
    path = os.path.join(tempfile.mkdtemp(prefix="ember_ulp_"), "ulp_kernels.py")
    with open(path, "w") as f:
        f.write(_SOURCE)
    spec = importlib.util.spec_from_file_location("ulp_kernels", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    decorate = ember.reduce(combine) if combine else ember.vectorize(target=target)
    return {name: decorate(getattr(module, name)) for name in FUNCTIONS}


def sample(domain, n, dtype, rng):
    lo, hi, scale = domain
    if scale == "log":
        if lo <= 0:
            lo = np.finfo(dtype).tiny
        x = np.exp(rng.uniform(math.log(lo), math.log(hi), n))
    else:
        x = rng.uniform(lo, hi, n)
    return x.astype(dtype)


def reference(name, args, dtype):
    """The function at higher precision than `dtype`, as float64 or long double."""
    np_name = FUNCTIONS[name][2]
    if dtype == np.float32:
        if np_name is None:
            return np.array([getattr(math, name)(float(v)) for v in args[0]])
        return getattr(np, np_name)(*(a.astype(np.float64) for a in args))
    if np_name is not None:
        return getattr(np, np_name)(*(a.astype(np.longdouble) for a in args))
    import mpmath
    mpmath.mp.prec = 96
    f = getattr(mpmath, name)
    return np.array([np.longdouble(str(f(mpmath.mpf(float(v))))) for v in args[0]],
                    dtype=np.longdouble)


def ulp_error(got, want, dtype):
    """|got - want| in ulps of `dtype` at `want`; infinite where one is NaN/inf and the other not."""
    want_rounded = want.astype(dtype)
    finite = np.isfinite(want_rounded) & np.isfinite(got)
    err = np.zeros(got.shape)
    spacing = np.spacing(np.abs(want_rounded[finite])).astype(np.longdouble)
    diff = np.abs(got[finite].astype(np.longdouble) - want[finite].astype(np.longdouble))
    err[finite] = (diff / spacing).astype(np.float64)
    special = ~finite
    same = (np.isnan(got) & np.isnan(want_rounded)) | (got == want_rounded)
    err[special & ~same] = np.inf
    return err


def measure(points=20000, seed=0, names=None, target="cpu"):
    """{(name, dtype name): (max ulp, argument where it occurs)}."""
    kernels = _kernels(target)
    rng = np.random.default_rng(seed)
    table = {}
    for name in names or FUNCTIONS:
        arity, domains, _ = FUNCTIONS[name]
        for dtype in (np.float32, np.float64):
            args = [sample(d, points, dtype, rng) for d in domains[:arity]]
            with np.errstate(all="ignore"):
                got = kernels[name](*args)
                err = ulp_error(got, reference(name, args, dtype), dtype)
            worst = int(np.argmax(err))
            table[(name, np.dtype(dtype).name)] = (float(err[worst]),
                                                    tuple(float(a[worst]) for a in args))
    return table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=20000)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--target", choices=["cpu", "cuda"], default="cpu")
    opts = parser.parse_args(argv)
    if opts.target == "cuda" and not ember.cuda.is_available():
        sys.exit(f"no GPU to measure: {ember.cuda.unavailable_reason()}")
    table = measure(opts.points, target=opts.target)
    if opts.markdown:
        print("| function | float32 max ulp | float64 max ulp |\n|---|---|---|")
    for name in FUNCTIONS:
        e32, e64 = (table[(name, d)][0] for d in ("float32", "float64"))
        if opts.markdown:
            print(f"| {name} | {e32:.2f} | {e64:.2f} |")
        else:
            print(f"{name:8s} float32 {e32:6.2f} ulp   float64 {e64:6.2f} ulp")


if __name__ == "__main__":
    sys.exit(main())
