"""Threads: results independent of the thread count, the GIL released during
calls, concurrent callers, fork safety, EMBER_NUM_THREADS."""

import math
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import ember


@ember.vectorize
def heavy(x, y):
    s = 0.0
    s = math.sin(x) * math.cos(y) + math.sqrt(abs(x * y))
    return s + math.log1p(abs(s)) * math.tanh(x - y)


def heavy_numpy(x, y):
    s = np.sin(x) * np.cos(y) + np.sqrt(np.abs(x * y))
    return s + np.log1p(np.abs(s)) * np.tanh(x - y)


@pytest.fixture
def restore_threads():
    before = ember.get_num_threads()
    yield
    ember.set_num_threads(before)


@pytest.mark.parametrize("shape, view", [
    ((1_000_003,), lambda a: a),
    ((3, 200_001), lambda a: a),
    ((200_001, 3), lambda a: a.T),          # non-contiguous: rows of 3 strided elements
    ((1000, 1000), lambda a: a[::-2, ::3]),  # negative and non-unit strides
    ((2, 300_000), lambda a: a[:, ::-1]),   # few long rows: rows are cut into slices
])
@pytest.mark.parametrize("threads", [1, 2, 3, 4])
def test_result_does_not_depend_on_thread_count(shape, view, threads, restore_threads):
    rng = np.random.default_rng(1)
    x = view(rng.uniform(-3, 3, shape))
    y = view(rng.uniform(-3, 3, shape))
    ember.set_num_threads(1)
    serial = heavy(x, y)
    ember.set_num_threads(threads)
    parallel = heavy(x, y)
    np.testing.assert_array_equal(parallel, serial)
    np.testing.assert_allclose(parallel, heavy_numpy(x, y), rtol=1e-12, atol=1e-12)


def test_broadcast_output_is_split_correctly(restore_threads):
    ember.set_num_threads(2)
    x = np.arange(300_000.0).reshape(3, 100_000)
    y = np.arange(100_000.0)
    out = np.empty((3, 100_000))
    heavy(x, y, out=out)
    np.testing.assert_allclose(out, heavy_numpy(x, y), rtol=1e-12, atol=1e-12)


def test_set_num_threads_validates():
    with pytest.raises(ValueError, match="1 <= n <= 1024"):
        ember.set_num_threads(0)
    with pytest.raises(TypeError, match="needs an integer"):
        ember.set_num_threads(1.5)


def test_env_var_sets_default_threads():
    code = "import ember; print(ember.get_num_threads())"
    env = dict(os.environ, EMBER_NUM_THREADS="3", PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "3"


def test_two_python_threads_call_kernels_at_once(restore_threads):
    """While one thread is inside a long call, another makes a whole call of
    its own: possible only if the first released the GIL. (Ordering, not
    speed: on this host's two vCPUs, which share a core, two calls at once
    are not twice as fast as one.)"""
    ember.set_num_threads(1)  # each call runs on its caller's thread
    x = np.random.default_rng(2).uniform(-3, 3, 1_000_000)
    small = x[:1000]
    expected = heavy(small, small)
    start = time.perf_counter()
    heavy(x, x)
    x = np.tile(x, min(64, math.ceil(0.2 / (time.perf_counter() - start))))  # >= ~200 ms
    inside, ends = threading.Event(), {}

    def long_call():
        inside.set()
        heavy(x, x)
        ends["long"] = time.perf_counter()

    def short_call():
        inside.wait()
        time.sleep(0.02)  # the long call has begun by now (it takes 200 ms or more)
        np.testing.assert_array_equal(heavy(small, small), expected)
        ends["short"] = time.perf_counter()

    threads = [threading.Thread(target=long_call), threading.Thread(target=short_call)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ends["short"] < ends["long"], "the short call waited for the long one"


@ember.kernel
def heavy_rows(out, x):  # heavy(x, x) per index
    i = ember.tid()
    s = math.sin(x[i]) * math.cos(x[i]) + math.sqrt(abs(x[i] * x[i]))
    out[i] = s + math.log1p(abs(s)) * math.tanh(x[i] - x[i])


@ember.reduce("+")
def heavy_sum(x):  # the sum of heavy(x, x)
    s = math.sin(x) * math.cos(x) + math.sqrt(abs(x * x))
    return s + math.log1p(abs(s)) * math.tanh(x - x)


FORMS = {"vectorize": heavy,
         "kernel": lambda x, _: heavy_rows[x.shape](np.empty_like(x), x),
         "reduce": lambda x, _: heavy_sum(x)}


@pytest.mark.parametrize("form", list(FORMS))
def test_python_threads_run_during_a_kernel_call(restore_threads, form):
    # Holds on one core too: another Python thread makes progress only if
    # the kernel call does not hold the GIL.
    ember.set_num_threads(1)
    x = np.random.default_rng(6).uniform(-3, 3, 3_000_000)
    heavy = FORMS[form]
    heavy(x[:10], x[:10])
    started, counter = threading.Event(), [0]

    def spin():
        started.set()
        while started.is_set():
            counter[0] += 1

    t = threading.Thread(target=spin)
    t.start()
    started.wait()
    sys.setswitchinterval(1e-4)
    try:
        before = counter[0]
        heavy(x, x)
        during = counter[0] - before
    finally:
        started.clear()
        t.join()
        sys.setswitchinterval(0.005)
    assert during > 100_000, f"the other thread ran only {during} steps during the call"


def test_many_python_threads_share_the_pool(restore_threads):
    ember.set_num_threads(2)
    x = np.random.default_rng(3).uniform(-3, 3, 400_000)
    want = heavy(x, x)
    results, errors = [None] * 8, []

    def call(i):
        try:
            for _ in range(5):
                results[i] = heavy(x, x)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a kernel call deadlocked"
    assert not errors
    for r in results:
        np.testing.assert_array_equal(r, want)


def test_set_num_threads_while_other_threads_call(restore_threads):
    x = np.random.default_rng(4).uniform(-3, 3, 300_000)
    want = heavy(x, x)
    stop = threading.Event()
    bad = []

    def caller():
        while not stop.is_set():
            if not np.array_equal(heavy(x, x), want):
                bad.append(1)

    t = threading.Thread(target=caller)
    t.start()
    for n in (1, 3, 2, 4, 1, 2) * 3:
        ember.set_num_threads(n)
        time.sleep(0.01)
    stop.set()
    t.join(timeout=120)
    assert not t.is_alive()
    assert not bad


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_can_call_kernels(restore_threads):
    ember.set_num_threads(2)
    x = np.random.default_rng(5).uniform(-3, 3, 500_000)
    want = heavy(x, x)  # the pool's threads exist in the parent now
    pid = os.fork()
    if pid == 0:  # child: a fresh pool must start, and a new kernel must compile
        code = 1
        try:
            ok = np.array_equal(heavy(x, x), want)
            twice = ember.vectorize(lambda v: v * 2.0)
            ok = ok and np.array_equal(twice(x), x * 2.0)
            code = 0 if ok else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def test_first_compiles_from_many_threads_at_once(tmp_path):
    # Every thread makes the first call of new kernels at the same time: the
    # JIT must serialize machine-code generation (it crashed before).
    import importlib.util
    path = tmp_path / "many_kernels.py"
    path.write_text("import math, ember\n" + "".join(
        f"@ember.vectorize\ndef k{i}(x):\n    return math.exp(x * {i + 1}.0) + {i}\n"
        for i in range(8)))
    spec = importlib.util.spec_from_file_location("many_kernels", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    x64 = np.linspace(-1, 1, 1000)
    errors = []
    barrier = threading.Barrier(8)

    def work(t):
        try:
            barrier.wait()
            for i in range(8):
                k = getattr(module, f"k{(i + t) % 8}")
                for x in (x64, x64.astype(np.float32)):
                    want = np.exp(x * ((i + t) % 8 + 1.0)) + (i + t) % 8
                    np.testing.assert_allclose(k(x), want, rtol=1e-5)
        except Exception as e:  # reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors[:3]
    assert not any(t.is_alive() for t in threads)
