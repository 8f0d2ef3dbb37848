"""Large outputs come from ember's block cache (a NEP 49 memory handler):
they behave like any NumPy array, and their memory is reused."""

import gc
import threading

import numpy as np

import ember
from ember import _core

MB = 1 << 20


@ember.vectorize
def plus_one(x):
    return x + 1.0


def test_large_output_owns_its_data_like_a_ufunc_result():
    x = np.arange(300_000, dtype=np.float64)  # 2.4 MB
    out = plus_one(x)
    assert out.flags.owndata and out.base is None and out.flags.c_contiguous
    np.testing.assert_array_equal(out, x + 1.0)
    out.resize((600_000,), refcheck=False)  # goes through the handler's realloc
    assert out.shape == (600_000,)
    np.testing.assert_array_equal(out[:300_000], x + 1.0)


def test_freed_output_memory_is_reused_and_fully_rewritten():
    x = np.random.default_rng(0).random(500_003)  # 4 MB, a size no other test uses
    first = plus_one(x)
    address = first.ctypes.data
    del first
    gc.collect()
    cached = _core.pool_cached_bytes()
    assert cached >= x.nbytes
    y = -x
    second = plus_one(y)  # same size: the cached block comes back
    assert second.ctypes.data == address
    assert _core.pool_cached_bytes() == cached - x.nbytes
    np.testing.assert_array_equal(second, y + 1.0)  # nothing of the old result is left


def test_small_outputs_bypass_the_cache():
    before = _core.pool_cached_bytes()
    small = plus_one(np.ones(1000))
    del small
    gc.collect()
    assert _core.pool_cached_bytes() == before


def test_cache_is_bounded():
    arrays = [plus_one(np.zeros(n * MB // 8 + 1)) for n in range(1, 60)]
    del arrays
    gc.collect()
    assert _core.pool_cached_bytes() <= 256 * MB


def test_concurrent_allocation_and_release():
    x = np.random.default_rng(1).random(200_000)
    want = x + 1.0
    errors = []

    def work():
        for _ in range(50):
            if not np.array_equal(plus_one(x), want):
                errors.append("wrong result")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and not any(t.is_alive() for t in threads)
