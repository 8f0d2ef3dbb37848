"""Profilers and debuggers see ember's kernels by name: a perf map file
(EMBER_PERF_MAP=1) and GDB's JIT interface (EMBER_GDB_JIT=1)."""

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from conftest import EMBER_PATH as PYTHON_DIR  # the ember under test

CRASH = textwrap.dedent("""
    import numpy as np, ember

    @ember.kernel
    def poke(out, a, far):
        i = ember.tid()
        out[i] = a[i + far]   # no boundscheck: reads far outside a

    poke[4](np.zeros(4), np.ones(4), 1 << 40)
""")


def env(tmp_path, **extra):
    return dict(os.environ, PYTHONPATH=PYTHON_DIR, EMBER_CACHE_DIR=str(tmp_path / "cache"),
                EMBER_NUM_THREADS="1", **extra)


def script(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.skipif(not shutil.which("gdb"), reason="needs gdb")
@pytest.mark.parametrize("registered", [True, False])
def test_gdb_names_the_kernel_in_a_backtrace(tmp_path, registered):
    crash = script(tmp_path, "crash.py", CRASH)
    extra = {"EMBER_GDB_JIT": "1"} if registered else {}
    result = subprocess.run(["gdb", "-batch", "-ex", "run", "-ex", "bt", "--args", sys.executable,
                             crash], capture_output=True, text=True, timeout=300,
                            env=env(tmp_path, **extra))
    assert "SIGSEGV" in result.stdout, result.stdout[-2000:] + result.stderr[-2000:]
    top = next(line for line in result.stdout.splitlines() if line.startswith("#0"))
    assert ("ember_poke_" in top and "_kernel" in top) == registered, top


def test_registration_follows_functions_that_come_and_go(tmp_path):
    churn = script(tmp_path, "churn.py", textwrap.dedent("""
        import gc, numpy as np, ember
        from ember import _core
        for i in range(20):
            f = ember.vectorize(lambda x: x * 2.0 + 1.0, cache=False)
            assert f(np.ones(3))[0] == 3.0
            del f
            gc.collect()
        print("ok")
    """))
    result = subprocess.run([sys.executable, churn], capture_output=True, text=True, timeout=300,
                            env=env(tmp_path, EMBER_GDB_JIT="1", EMBER_PERF_MAP="1"))
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_the_perf_map_names_each_function(tmp_path):
    heavy = script(tmp_path, "heavy.py", textwrap.dedent("""
        import os, sys, numpy as np, ember

        @ember.vectorize
        def heavy(x):
            return x * 1.0001 + 0.5 if x > 0.3 else x * x

        a = np.random.rand(2_000_000)
        for _ in range(int(sys.argv[1])):
            heavy(a)
        print(os.getpid())
    """))
    result = subprocess.run([sys.executable, heavy, "1"], capture_output=True, text=True,
                            timeout=300, env=env(tmp_path, EMBER_PERF_MAP="1"))
    path = f"/tmp/perf-{result.stdout.strip()}.map"
    try:
        entries = [line.split() for line in open(path).read().splitlines()]
    finally:
        os.remove(path)
    (address, size, name), = [e for e in entries if "heavy" in e[2]]
    assert name.startswith("ember_heavy_") and name.endswith("_contig")
    assert int(address, 16) > 0 and int(size, 16) > 16
    if not shutil.which("perf"):
        return
    data = tmp_path / "perf.data"
    record = subprocess.run(["perf", "record", "-q", "-o", str(data), "--", sys.executable, heavy,
                             "100"], capture_output=True, text=True, timeout=300,
                            env=env(tmp_path, EMBER_PERF_MAP="1"))
    if record.returncode != 0:
        pytest.skip(f"perf record cannot run here: {record.stderr[-300:]}")
    report = subprocess.run(["perf", "report", "-i", str(data), "--stdio"], capture_output=True,
                            text=True, timeout=300).stdout
    os.remove(f"/tmp/perf-{record.stdout.strip()}.map")
    assert "ember_heavy_" in report
