"""Ctrl-C (SIGINT) in long calls: KeyboardInterrupt within a fraction of a
second, no result, and the process usable afterwards (runtime/interrupt.h).
Each case runs in a subprocess with a timeout, so a hang fails the test."""

import os
import subprocess
import sys
import textwrap

import pytest

from conftest import EMBER_PATH as PYTHON_DIR  # the ember under test

PRELUDE = textwrap.dedent("""
    import math, os, signal, threading, time
    import numpy as np, ember

    # Python's own handler, also when the test runs where SIGINT is ignored
    # (a background job of a shell without job control starts so).
    signal.signal(signal.SIGINT, signal.default_int_handler)

    @ember.kernel
    def spin(out, n):
        i = ember.tid()
        x = 0
        while x >= 0:  # never ends
            x = (x + n) % 1000
        out[i] = x

    @ember.kernel
    def count_up(out, n):
        i = ember.tid()
        s = 0
        for k in range(n):  # 2**62 iterations: never ends in practice
            s = (s + k * i) % 1000
        out[i] = s

    @ember.vectorize
    def heavy(x):
        return math.sin(x) * math.cos(x) + math.exp(math.sin(x)) * math.log(x + 2.0)

    @ember.reduce("+")
    def heavy_sum(x, y):
        return math.sin(x * y) * math.exp(math.cos(x + y))

    rows, cols = np.ones((40_000, 1)), np.ones((1, 40_000))  # 1.6e9 elements, broadcast

    def sigint_after(seconds):
        threading.Timer(seconds, lambda: os.kill(os.getpid(), signal.SIGINT)).start()

    def interrupted(call):
        sigint_after(0.3)
        start = time.perf_counter()
        try:
            call()
        except KeyboardInterrupt:
            return time.perf_counter() - start
        raise SystemExit("not interrupted")
""")


def run(body, timeout=60):
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
    result = subprocess.run([sys.executable, "-c", PRELUDE + textwrap.dedent(body)],
                            capture_output=True, text=True, env=env, timeout=timeout)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.parametrize("call", ["spin[4](np.zeros(4, np.int64), 3)",
                                  "spin[1_000_000](np.zeros(1_000_000, np.int64), 3)",
                                  "count_up[2](np.zeros(2, np.int64), 2**62)",
                                  "heavy(big, out=big)",
                                  "heavy_sum(rows, cols)",
                                  "heavy_sum(rows, cols, axis=1)"])
def test_ctrl_c_stops_a_long_call(call):
    setup = "big = np.ones(250_000_000); heavy(big[:8])" if "big" in call else ""
    out = run(f"""
        {setup}  # made and compiled before the clock starts
        seconds = interrupted(lambda: {call})
        assert seconds < 2.0, seconds
        # usable afterwards, with right results
        x = np.linspace(0.0, 1.0, 5)
        assert np.allclose(heavy(x), np.sin(x) * np.cos(x) + np.exp(np.sin(x)) * np.log(x + 2.0))
        print("ok", round(seconds, 2))
    """)
    assert out.startswith("ok")


def test_a_handler_that_does_not_raise_still_ends_the_call_without_a_result():
    out = run("""
        seen = []
        signal.signal(signal.SIGINT, lambda *args: seen.append(1))
        seconds = interrupted(lambda: spin[2](np.zeros(2, np.int64), 3))
        assert seen == [1] and seconds < 2.0
        print("ok")
    """)
    assert out.startswith("ok")


def test_an_ignored_sigint_does_not_stop_the_call():
    out = run("""
        @ember.kernel
        def count(out, n):
            i = ember.tid()
            x = 0
            while x < n:
                x += 1
            out[i] = x

        signal.signal(signal.SIGINT, signal.SIG_IGN)
        out = np.zeros(2, np.int64)
        count[2](out, 10)  # compiled
        sigint_after(0.05)
        count[2](out, 2_000_000_000)
        print("ok", out.tolist())
    """)
    assert out.strip() == "ok [2000000000, 2000000000]"


def test_ctrl_c_ends_a_wait_for_the_gpu(fake_cuda_driver, tmp_path):
    # FAKE_CUDA_MODE=7: the device never finishes, so only an interrupt ends a wait.
    from conftest import run_with_driver
    script = tmp_path / "wait.py"
    script.write_text(PRELUDE + textwrap.dedent("""
        from ember import cuda

        a = cuda.to_device(np.arange(4.0))
        for call in (cuda.synchronize, a.to_host):
            seconds = interrupted(call)
            assert seconds < 2.0, seconds
        print("ok")
    """))
    out, err, code = run_with_driver(str(fake_cuda_driver), str(script), mode=7)
    assert code == 0 and out.strip() == "ok", out + err
