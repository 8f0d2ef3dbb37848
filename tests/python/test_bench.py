"""The benchmark's timing rules (python/ember/bench.py): it waits for other
threads' spinning to stop before a competitor's turn."""

import sys
import threading
import time

import numpy as np
import pytest

import ember
from ember import bench

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


@ember.kernel
def busy_loop(out, n):
    i = ember.tid()
    s = 0.0
    for k in range(n):
        s = s * 0.999 + 1.0
    out[i] = s


@linux_only
def test_settle_waits_for_a_spinning_thread():
    out = np.zeros(1)
    busy_loop[1](out, 10)
    finished = []

    def spin():  # busy without the GIL, like an OpenMP worker after its parallel region
        busy_loop[1](out, 60_000_000)
        finished.append(time.perf_counter())

    worker = threading.Thread(target=spin)
    worker.start()
    time.sleep(0.02)
    assert bench.other_threads_busy()
    bench.settle(timeout=10.0)
    settled = time.perf_counter()
    worker.join()
    assert finished and settled >= finished[0] - 0.005, settled - finished[0]
    assert not bench.other_threads_busy()


def test_median_times_times_every_competitor_after_an_untimed_call():
    calls = []
    times = bench.median_times({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")},
                               (), repeat=3)
    assert set(times) == {"a", "b"} and all(t >= 0 for t in times.values())
    assert calls == ["a", "b"] + ["a", "a", "b", "b"] * 3  # warm-up, then settled pairs
