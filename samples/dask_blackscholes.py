"""Black-Scholes call prices over a dask array on a dask.distributed cluster.

    PYTHONPATH=python python3 samples/dask_blackscholes.py [N]   (default 10^8 options)

A LocalCluster of worker processes prices N options in chunks with an
ember kernel (shipped to the workers by pickling: source, values and
compiled code), sums them with an ember reduction, and compares time and
result with the same dask graph of NumPy functions.
"""

import math
import sys
import time

import dask.array as da
import numpy as np
from dask.distributed import Client, LocalCluster, wait

import ember

RATE, VOL = 0.02, 0.3


@ember.vectorize
def call_price(s, k, t):
    sq = math.sqrt(t)
    d1 = (math.log(s / k) + (RATE + 0.5 * VOL * VOL) * t) / (VOL * sq)
    d2 = d1 - VOL * sq
    n1 = 0.5 * (1.0 + math.erf(d1 / math.sqrt(2.0)))
    n2 = 0.5 * (1.0 + math.erf(d2 / math.sqrt(2.0)))
    return s * n1 - k * math.exp(-RATE * t) * n2


@ember.reduce("+")
def total(x):
    return x


def numpy_price(s, k, t):
    from scipy.special import erf  # the NumPy-side reference (scipy, when installed)
    sq = np.sqrt(t)
    d1 = (np.log(s / k) + (RATE + 0.5 * VOL * VOL) * t) / (VOL * sq)
    d2 = d1 - VOL * sq
    return s * 0.5 * (1 + erf(d1 / np.sqrt(2))) - k * np.exp(-RATE * t) * 0.5 * (1 + erf(d2 / np.sqrt(2)))


def numpy_price_no_scipy(s, k, t):
    erf = np.vectorize(math.erf, otypes=[np.float64])
    sq = np.sqrt(t)
    d1 = (np.log(s / k) + (RATE + 0.5 * VOL * VOL) * t) / (VOL * sq)
    d2 = d1 - VOL * sq
    return s * 0.5 * (1 + erf(d1 / np.sqrt(2))) - k * np.exp(-RATE * t) * 0.5 * (1 + erf(d2 / np.sqrt(2)))


def timed(what, compute):
    t0 = time.perf_counter()
    value = compute()
    return value, time.perf_counter() - t0


def main(n):
    chunk = min(n, 5_000_000)
    # Each chunk holds the spot, strike and time of its options (rows 0-2),
    # made on the workers before any timing; a task finds them on its worker.
    def options(block_info=None):
        rng = np.random.default_rng(block_info[None]["chunk-location"][1])
        m = block_info[None]["chunk-shape"][1]
        return np.stack([rng.uniform(50, 150, m), rng.uniform(50, 150, m), rng.uniform(0.1, 2.0, m)])

    inputs = da.map_blocks(options, chunks=((3,), (chunk,) * (n // chunk) + ((n % chunk,) if n % chunk else ())),
                           dtype=np.float64).persist()
    wait(inputs)
    call_price(np.ones(4), np.ones(4), np.ones(4))  # compiled here; workers load the code
    total(np.ones(4))
    try:
        import scipy.special  # noqa: F401
        reference = numpy_price
    except ImportError:
        reference = numpy_price_no_scipy

    def priced(price):
        return inputs.map_blocks(lambda b: price(b[0], b[1], b[2]), drop_axis=0, dtype=np.float64)

    ember_sum = priced(call_price).map_blocks(lambda b: np.array([total(b)]), chunks=(1,)).sum()
    numpy_sum = priced(reference).sum()
    ember_total, ember_time = timed("ember", ember_sum.compute)
    numpy_total, numpy_time = timed("numpy", numpy_sum.compute)
    ok = math.isclose(ember_total, numpy_total, rel_tol=1e-9)
    print(f"{n:,} options in chunks of {chunk:,} on {len(Client.current().nthreads())} workers")
    print(f"ember: {ember_time:.2f} s   NumPy ({'scipy.special.erf' if reference is numpy_price else 'np.vectorize(math.erf)'}): "
          f"{numpy_time:.2f} s   ({numpy_time / ember_time:.1f}x)")
    print(f"sum of the prices: {ember_total:.9e} "
          f"({'matches NumPy' if ok else 'DIFFERS from NumPy'}: {numpy_total:.9e})")
    return ok


if __name__ == "__main__":
    n = int(float(sys.argv[1])) if len(sys.argv) > 1 else 100_000_000
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster):
        sys.exit(0 if main(n) else 1)
