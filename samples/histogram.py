"""Histogram with atomics: @ember.kernel and ember.atomic_add.

    PYTHONPATH=python python3 samples/histogram.py [n]

The simple form gives every value its own logical thread and adds 1 to its
bin atomically: correct under all threads, but every thread fights over the
same few bins. The fast form gives each logical thread a chunk of the data,
counts into its own row of a scratch array (no contention, no atomics), and
adds its row into the shared histogram with atomics at the end: the
privatize-then-merge pattern of GPU histograms. Both are checked against
np.bincount.
"""

import sys
import time

import numpy as np

import ember


@ember.kernel
def histogram_simple(counts, x, lo, width):
    i = ember.tid()
    ember.atomic_add(counts, int((x[i] - lo) / width), 1)


@ember.kernel
def histogram_chunked(counts, x, lo, width, chunk, scratch):
    t = ember.tid()  # one logical thread per chunk of x
    for k in range(t * chunk, min((t + 1) * chunk, x.shape[0])):
        scratch[t, int((x[k] - lo) / width)] += 1
    for b in range(counts.shape[0]):
        ember.atomic_add(counts, b, scratch[t, b])


def histogram(x, bins, lo, hi, chunks=64):
    """Counts of x in `bins` equal bins over [lo, hi) (every x must lie there)."""
    counts = np.zeros(bins, np.int64)
    scratch = np.zeros((chunks, bins), np.int64)
    chunk = -(-x.size // chunks)
    histogram_chunked[chunks](counts, x, lo, (hi - lo) / bins, chunk, scratch)
    return counts


def main(n=10_000_000, bins=256):
    x = np.random.default_rng(0).random(n)
    want = np.bincount((x * bins).astype(np.int64), minlength=bins)
    simple = np.zeros(bins, np.int64)
    histogram_simple[x.size](simple, x, 0.0, 1.0 / bins)
    assert np.array_equal(simple, want), "atomic histogram differs from np.bincount"
    histogram(x, bins, 0.0, 1.0)  # compiles
    t0 = time.perf_counter()
    got = histogram(x, bins, 0.0, 1.0)
    t_ember = time.perf_counter() - t0
    t0 = time.perf_counter()
    want = np.bincount((x * bins).astype(np.int64), minlength=bins)
    t_numpy = time.perf_counter() - t0
    assert np.array_equal(got, want), "chunked histogram differs from np.bincount"
    print(f"histogram of {n:,} values into {bins} bins: ember {t_ember * 1e3:.1f} ms, "
          f"np.bincount {t_numpy * 1e3:.1f} ms ({t_numpy / t_ember:.1f}x); matches NumPy exactly")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000)
