"""The benchmark's timing rules (python/ember/bench.py): it waits for other
threads' spinning to stop before a competitor's turn."""

import sys
import threading
import time

import numpy as np
import pytest

import ember
from ember import bench, isa

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


def test_host_sections_replace_their_own_and_keep_the_others(tmp_path):
    path = tmp_path / "benchmarks.md"
    bench.update_host_section(str(path), "znver3 x86-64-v3", ["## znver3", "old zen"])
    bench.update_host_section(str(path), "rocketlake x86-64-v4", ["## rocketlake", "intel"])
    bench.update_host_section(str(path), "znver3 x86-64-v3", ["## znver3", "new zen"])
    text = path.read_text()
    assert text.startswith(bench.HOSTS_HEADER)
    assert "new zen" in text and "old zen" not in text and "intel" in text
    assert text.index("## znver3") < text.index("## rocketlake")  # first seen, first listed
    assert text.count("<!-- host: ") == 2 and text.count("<!-- end of host -->") == 2


def test_isa_level_and_vector_width_name_what_the_host_runs():
    level = isa.level()
    features = set(ember._core.host_features())
    assert level == ("x86-64-v4" if "avx512f" in features else
                     "x86-64-v3" if "avx2" in features else "x86-64-v2")
    x = np.ones(64)
    assert bench.triad(x, x)[0] == 4.0
    bits = bench.vector_bits(bench.triad)
    assert bits in (256, 512) if "avx" in features else bits == 128


def test_one_thread_rows_time_every_competitor_on_one_thread():
    rows, threads = bench.one_thread_rows(20_000, 1)
    assert threads == {"ember": 1, "OpenBLAS": 1} or threads == {"ember": 1}
    assert [r[0] for r in rows] == ["dot", "dot_fastmath"]
    for name, dtype, times, nbytes, bits in rows:
        assert dtype == "float64" and nbytes == 2 * 20_000 * 8 + 8
        assert {"ember", "NumPy"} <= set(times) and all(t > 0 for t in times.values())
