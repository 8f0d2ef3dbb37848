"""Pickling ember functions by value (python/ember/pickling.py): pickle and
cloudpickle round trips into fresh processes that do not have the defining
file, multiprocessing with fork and spawn, joblib, and a dask.distributed
LocalCluster with worker processes."""

import json
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import ember

from conftest import EMBER_PATH as PYTHON_DIR  # the ember under test

# Every form: a map reading a global and a module attribute, a reduce, a
# kernel defined in a class (indented), a lambda, a closure.
DEFS = '''
import math, numpy as np, ember
import helper

SCALE = 2.5


@ember.vectorize
def price(s, k, t):
    d = (math.log(s / k) + 0.02 * t) / math.sqrt(t)
    return s * math.exp(-t) * SCALE * helper.FACTOR if d > 0 else k - s


@ember.reduce("max")
def biggest(x, y):
    return abs(x - y)


class Kernels:
    @ember.kernel(boundscheck=True)
    def fill(out, v):
        i = ember.tid()
        out[i] = v * 2.0 + i


square = ember.vectorize(lambda x: x * x + 1.0)


def make(offset):
    @ember.vectorize(fastmath=True)
    def shifted(x):
        return x + offset
    return shifted


shifted = make(0.75)
'''

# What every process checks, given the functions.
CHECK = '''
import numpy as np


def check(price, biggest, fill, square, shifted):
    x = np.linspace(1.0, 2.0, 7)
    d = (np.log(x / 1.5) + 0.02 * x) / np.sqrt(x)
    out = np.zeros(5)
    fill[5](out, 1.5)
    return {
        "price": bool(np.allclose(price(x, 1.5, x), np.where(d > 0, x * np.exp(-x) * 5.0, 1.5 - x))),
        "biggest": bool(biggest(x, x[::-1]) == np.max(np.abs(x - x[::-1]))),
        "fill": bool((out == 3.0 + np.arange(5)).all()),
        "square": bool((square(x) == x * x + 1).all()),
        "shifted": bool((shifted(x) == x + 0.75).all()),
        "float32": bool(price(np.float32(1.8), np.float32(1.5), np.float32(1.8)).dtype == np.float32),
    }
'''


@pytest.fixture
def defs(tmp_path):
    folder = tmp_path / "defs"
    folder.mkdir()
    (folder / "defs.py").write_text(DEFS)
    (folder / "helper.py").write_text("FACTOR = 2.0\n")
    return folder


def _env(tmp_path, **extra):
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR, EMBER_CACHE_DIR=str(tmp_path / "cache"))
    env.update(extra)
    return env


def _python(tmp_path, code, cwd, **extra):
    proc = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=_env(tmp_path, **extra),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


DUMP = CHECK + '''
import json, pickle, sys
import cloudpickle
import defs
funcs = [defs.price, defs.biggest, defs.Kernels.fill, defs.square, defs.shifted]
before = check(*funcs)
dumps = pickle.dumps if sys.argv[-1] == "pickle" else cloudpickle.dumps
with open(sys.argv[-2], "wb") as f:
    f.write(dumps(funcs))
print(json.dumps({"checks": before, "sizes": [len(dumps(g)) for g in funcs]}))
'''

LOAD = CHECK + '''
import json, pickle, sys
with open(sys.argv[-1], "rb") as f:
    funcs = pickle.load(f)
with open(sys.argv[-1], "rb") as f:
    again = pickle.load(f)
same = all(a is b for a, b in zip(funcs, again))  # one rebuild per process
checks = check(*funcs)
print(json.dumps({"checks": checks, "same": same, "llvm": "ember._jit" in sys.modules,
                  "signatures": [g.signatures for g in funcs], "cache": ember.cache.stats()}))
'''


@pytest.mark.parametrize("how", ["pickle", "cloudpickle"])
def test_every_form_round_trips_into_a_process_without_the_file(defs, tmp_path, how):
    pytest.importorskip("cloudpickle")
    path = tmp_path / "funcs.pkl"
    dumped = _python(tmp_path, DUMP.replace("sys.argv[-2]", repr(str(path)))
                     .replace("sys.argv[-1]", repr(how)), defs)
    assert all(dumped["checks"].values())
    assert max(dumped["sizes"]) < 20000  # source, values and a few KB of code each
    (defs / "defs.py").unlink()  # gone: only the pickle knows the functions
    (defs / "helper.py").unlink()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    loaded = _python(tmp_path, "import ember, numpy as np\n" + LOAD.replace(
        "sys.argv[-1]", repr(str(path))), elsewhere, EMBER_CACHE="off")
    assert all(loaded["checks"].values()), loaded
    assert loaded["same"]
    assert loaded["signatures"][0] == ["float64(float64, float, float64)", "float32(float32, "
                                       "float32, float32)"]


def test_shipped_code_is_loaded_not_compiled(defs, tmp_path):
    path = tmp_path / "funcs.pkl"
    _python(tmp_path, DUMP.replace("sys.argv[-2]", repr(str(path)))
            .replace("sys.argv[-1]", "'pickle'"), defs)
    load_only = LOAD.replace("checks = check(*funcs)", """x = np.linspace(1.0, 2.0, 7)
funcs[0](x, 1.5, x); funcs[1](x, x[::-1]); funcs[2][5](np.zeros(5), 1.5)
funcs[3](x); funcs[4](x)
checks = {}""")
    loaded = _python(tmp_path, "import ember, numpy as np\n" + load_only.replace(
        "sys.argv[-1]", repr(str(path))), tmp_path, EMBER_CACHE="off")
    assert not loaded["llvm"], "a shipped specialization was compiled"
    # On a CPU without the code's widest ISA, the same pickle compiles anew.
    host = ember._core.host_features()
    widest = "avx512f" if "avx512f" in host else "avx2" if "avx2" in host else None
    if widest:
        older = _python(tmp_path, "import ember, numpy as np\n" + LOAD.replace(
            "sys.argv[-1]", repr(str(path))), tmp_path, EMBER_CACHE="off",
            EMBER_TEST_HIDE_FEATURES=widest)
        assert older["llvm"] and all(older["checks"].values())


MAIN = '''
import json, math, multiprocessing, sys
import numpy as np
import ember

OFFSET = 0.5


@ember.vectorize
def shifted_sin(x):
    return math.sin(x) + OFFSET


def work(chunk):
    return float(shifted_sin(chunk).sum())


if __name__ == "__main__":
    chunks = [np.linspace(i, i + 1, 1000) for i in range(4)]
    shifted_sin(chunks[0])  # compiled here: the workers get the code
    method = sys.argv[1]
    if method == "joblib":
        import joblib
        got = joblib.Parallel(n_jobs=2)(joblib.delayed(shifted_sin)(c) for c in chunks)
        got = [float(g.sum()) for g in got]
    else:
        with multiprocessing.get_context(method).Pool(2) as pool:
            got = pool.map(work, chunks) + [float(r.sum()) for r in pool.map(shifted_sin, chunks)]
            got = got[:4] if got[:4] == got[4:] else got
    want = [float((np.sin(c) + 0.5).sum()) for c in chunks]
    print(json.dumps({"ok": bool(np.allclose(got, want))}))
'''


@pytest.mark.parametrize("method", ["fork", "spawn", "joblib"])
def test_multiprocessing_and_joblib(tmp_path, method):
    if method == "joblib":
        pytest.importorskip("joblib")
    script = tmp_path / "main_script.py"
    script.write_text(MAIN)
    proc = subprocess.run([sys.executable, str(script), method], cwd=tmp_path,
                          env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1])["ok"]


DASK = '''
import json, math, sys
import numpy as np
import dask.array as da
from dask.distributed import Client, LocalCluster
import ember
import defs


@ember.vectorize
def call_value(s, k):
    return max(s - k, 0.0) * math.exp(-0.01)


@ember.reduce("+")
def total(x):
    return x * x


if __name__ == "__main__":
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        x = np.linspace(0.5, 1.5, 100_000)
        checks = {}
        checks["submit"] = bool(np.allclose(client.submit(call_value, x, 1.0).result(),
                                            np.maximum(x - 1.0, 0) * math.exp(-0.01)))
        checks["module"] = bool(client.submit(defs.biggest, x, x[::-1]).result()
                                == np.max(np.abs(x - x[::-1])))
        d = da.from_array(x, chunks=25_000)
        mapped = d.map_blocks(call_value, 1.0, dtype=np.float64)
        checks["map_blocks"] = bool(np.allclose(mapped.compute(), np.maximum(x - 1.0, 0) *
                                                math.exp(-0.01)))
        partial = d.map_blocks(lambda c: np.array([total(c)]), chunks=(1,), dtype=np.float64)
        checks["reduce"] = bool(np.isclose(partial.sum().compute(), np.sum(x * x)))
        workers = client.run(lambda: "ember._jit" in sys.modules)
        print(json.dumps({"checks": checks, "llvm": sorted(workers.values())}))
'''


def test_dask_distributed_local_cluster(defs, tmp_path):
    pytest.importorskip("dask.distributed")
    (defs / "run_dask.py").write_text(DASK)
    proc = subprocess.run([sys.executable, "run_dask.py"], cwd=defs, env=_env(tmp_path),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(report["checks"]) == 4 and all(report["checks"].values()), report
    # The workers got compiled code with each function: none compiled (the
    # reduce in map_blocks' lambda is compiled there, once per worker at most).
    assert len(report["llvm"]) == 2


def test_a_function_is_never_false():
    @ember.vectorize
    def f(x):
        return x

    @ember.kernel
    def k(out):
        out[ember.tid()] = 1

    assert bool(f) and bool(k) and len(f) == 0


def test_pickling_keeps_the_frozen_values(tmp_path):
    (tmp_path / "frozen_mod.py").write_text(textwrap.dedent('''
        import ember
        LEVEL = 3.0

        @ember.vectorize(cache=False)
        def level(x):
            return x * LEVEL
    '''))
    sys.path.insert(0, str(tmp_path))
    try:
        import frozen_mod
        assert frozen_mod.level(1.0) == 3.0
        frozen_mod.LEVEL = 9.0  # after the first compile: frozen at 3.0
        data = pickle.dumps(frozen_mod.level)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("frozen_mod", None)
    code = ("import pickle, sys, numpy as np\n"
            f"f = pickle.loads({data!r})\n"
            "print([float(f(1.0)), float(f(np.float32(1.0)))])")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path.parent, env=_env(tmp_path),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[3.0, 3.0]"
