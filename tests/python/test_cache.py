"""The disk cache of compiled artifacts (ember/cache.py, runtime/artifact.h).

Most tests run small programs in fresh processes that share one cache
folder, as users' processes do, and read what each one did: its results
(checked against NumPy), the cache's counters, whether LLVM was loaded and
how many modules LLVM compiled.
"""

import json
import math
import os
import stat
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import ember
from ember import _core, cache

from conftest import EMBER_PATH as PYTHON_DIR  # the ember under test

# Four specializations: a map, a reduce, a kernel with loops and bounds
# checks, a fast-math map. SCALE is a global, OFFSET a closure value, and
# helper.FACTOR an attribute of another module; each comes from the
# environment (or helper.py) so that a test can change it between processes.
PROGRAM = '''
import json, math, os, sys
import numpy as np
import ember
import helper

if "nofrontend" in sys.argv:  # a hit through the source index runs no frontend
    def refuse(*args, **kwargs):
        raise AssertionError("the frontend ran")
    ember.frontend.build_function = refuse

SCALE = float(os.environ.get("SCALE", "2.0"))


@ember.vectorize
def price(s, k, t):
    d = (math.log(s / k) + 0.02 * t) / math.sqrt(t)
    return s * math.exp(-t) * SCALE if d > 0 else k - s


@ember.reduce("+")
def dot(x, y):
    return x * y * helper.FACTOR


@ember.kernel(boundscheck=True)
def smooth(out, x, n):
    i = ember.tid()
    acc = 0.0
    for j in range(n):
        acc += x[(i + j) % len(x)]
    out[i] = acc / n


def make(offset):
    @ember.vectorize(fastmath=True)
    def shifted(x):
        return math.sin(x) * x + offset
    return shifted


shifted = make(float(os.environ.get("OFFSET", "1.0")))


@ember.vectorize
def bump(x, k):
    return x + k


def main():
    x = np.linspace(0.5, 2.0, 1001)
    scale, offset = float(os.environ.get("SCALE", "2.0")), float(os.environ.get("OFFSET", "1.0"))
    d = (np.log(x / 1.5) + 0.02 * x) / np.sqrt(x)
    checks = {
        "price": np.allclose(price(x, 1.5, x), np.where(d > 0, x * np.exp(-x) * scale, 1.5 - x)),
        "dot": np.isclose(dot(x, x), np.dot(x, x) * helper.FACTOR),
        "shifted": np.allclose(shifted(x), np.sin(x) * x + offset),
    }
    small = np.arange(4, dtype=np.uint8)
    checks["weak"] = bump(small, 3).dtype == np.uint8  # a Python int stays weak ...
    try:
        bump(small, 300)  # ... and must fit uint8, as NumPy 2 says, after a hit too
        checks["weak"] = False
    except OverflowError:
        pass
    out = np.empty_like(x)
    smooth[x.shape](out, x, 3)
    checks["smooth"] = np.allclose(out, (x + np.roll(x, -1) + np.roll(x, -2)) / 3)
    error = ""
    if "oob" in sys.argv:
        @ember.kernel(boundscheck=True)
        def bad(out, x):
            i = ember.tid()
            out[i] = x[i + 1]
        try:
            bad[x.shape](out, x)
        except IndexError as e:
            error = str(e)
    jit = sys.modules.get("ember._jit")
    texts = [f.inspect(stage) for f in (price, dot, smooth) for stage in ("source-ir", "ir")] \
        if "inspect" in sys.argv else []
    checks = {k: bool(v) for k, v in checks.items()}
    print(json.dumps({"checks": checks, "stats": ember.cache.stats(), "jit": jit is not None,
                      "codegen": jit.codegen_runs() if jit else 0, "error": error,
                      "texts": texts}))


main()
'''
SPECIALIZATIONS = 5


@pytest.fixture
def project(tmp_path):
    """A folder with the program and its helper module, and the cache folder."""
    (tmp_path / "kernels.py").write_text(PROGRAM)
    (tmp_path / "helper.py").write_text("FACTOR = 1.0\n")
    return tmp_path


def _env(project, **extra):
    env = dict(os.environ, EMBER_CACHE_DIR=str(project / "cache"), PYTHONPATH=PYTHON_DIR,
               PYTHONWARNINGS="default")
    env.pop("EMBER_CACHE", None)
    env.pop("EMBER_TEST_HIDE_FEATURES", None)
    env.update(extra)
    return env


def run(project, *args, **extra):
    """Runs the program in a fresh interpreter: its JSON report and stderr."""
    proc = subprocess.run([sys.executable, str(project / "kernels.py"), *args], cwd=project,
                          env=_env(project, **extra), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert all(report["checks"].values()), report
    return report, proc.stderr


def entry_files(project):
    return sorted(p for p, _, _ in cache.entries(_version_dir(project)))


def _version_dir(project):
    return str(project / "cache" / ("v" + _core.versions()["ember"]))


def entry_of(project, name):
    """The path of the entry whose function is `name`."""
    for path in entry_files(project):
        with open(path, "rb") as f:
            if f" {name}(" in _core.read_artifact(f.read())["spec"].decode():
                return path
    raise AssertionError(f"no entry for {name}")


def test_a_second_process_compiles_nothing_and_loads_no_llvm(project):
    first, _ = run(project)
    assert first["stats"] == {"hits": 0, "misses": SPECIALIZATIONS, "writes": SPECIALIZATIONS,
                              "rejected": 0}
    assert first["codegen"] == SPECIALIZATIONS
    second, stderr = run(project)
    assert second["stats"] == {"hits": SPECIALIZATIONS, "misses": 0, "writes": 0, "rejected": 0}
    assert not second["jit"], "a cache hit loaded LLVM"
    assert "ember cache" not in stderr
    assert len(entry_files(project)) == SPECIALIZATIONS


def test_the_source_index_skips_the_frontend_and_falls_back_to_it(project):
    cold, _ = run(project, "inspect")
    fast, _ = run(project, "nofrontend", "inspect")
    assert fast["stats"]["hits"] == SPECIALIZATIONS and not fast["jit"]
    assert fast["texts"] == cold["texts"] and "func price(" in fast["texts"][0]
    # Another line of the file changes: the source index misses, the frontend
    # builds the same IR, whose entry is used.
    with open(project / "kernels.py", "a") as f:
        f.write("# a comment that moves no line of the kernels\n")
    moved, stderr = run(project)
    assert moved["stats"]["hits"] == SPECIALIZATIONS and not moved["jit"], stderr
    fast, _ = run(project, "nofrontend")  # and the index knows the new source
    assert fast["stats"]["hits"] == SPECIALIZATIONS
    # Damaged index records are ignored (no warning): the frontend decides.
    for path, _, _ in cache.entries(_version_dir(project), index=True):
        if path.endswith(".index"):
            with open(path, "wb") as f:
                f.write(b'{"key": 12')
    damaged, stderr = run(project)
    assert damaged["stats"]["hits"] == SPECIALIZATIONS and "ember cache" not in stderr


def test_a_bounds_error_names_its_line_after_a_hit(project):
    first, _ = run(project, "oob")
    second, _ = run(project, "oob")
    assert second["stats"]["hits"] == SPECIALIZATIONS + 1
    line = PROGRAM.splitlines().index("            out[i] = x[i + 1]") + 1
    assert f"kernels.py:{line}" in second["error"] and second["error"] == first["error"]


def test_eight_cold_processes_share_one_folder_and_compile_once(project):
    procs = [subprocess.Popen([sys.executable, str(project / "kernels.py")], cwd=project,
                              env=_env(project), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(8)]
    compiled = 0
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        report = json.loads(out.strip().splitlines()[-1])
        assert all(report["checks"].values())
        assert "ember cache" not in err
        compiled += report["codegen"]
    assert compiled == SPECIALIZATIONS  # each compiled once, by one of them
    files = entry_files(project)
    assert len(files) == SPECIALIZATIONS
    for path in files:
        with open(path, "rb") as f:
            _core.read_artifact(f.read())  # complete and intact
    leftovers = [n for shard in os.listdir(_version_dir(project))
                 for n in os.listdir(os.path.join(_version_dir(project), shard))
                 if n.startswith(".tmp-")]
    assert leftovers == []


def _truncate(data):
    return data[:len(data) // 2]


def _flip(data):
    at = len(data) * 2 // 3
    return data[:at] + bytes([data[at] ^ 0x10]) + data[at + 1:]


def _foreign(data):
    fields = _core.read_artifact(data)
    fields["ember"] = b"0.0.1"
    return _core.write_artifact(fields)


def _other_key(data):
    fields = _core.read_artifact(data)
    fields["key"] = b"0" * 64
    return _core.write_artifact(fields)


@pytest.mark.parametrize("damage, reason", [
    (_truncate, "damaged artifact"), (_flip, "checksum mismatch"), (lambda d: b"", "empty"),
    (_foreign, "artifact of ember 0.0.1"), (_other_key, "another specialization"),
    (lambda d: b"\x7fELF" + d[4:], "not an ember artifact"), ("folder", "cannot read it")])
def test_a_damaged_entry_is_a_miss_recompiled_and_replaced(project, damage, reason):
    run(project)
    path = entry_of(project, "price")
    with open(path, "rb") as f:
        data = f.read()
    if damage == "folder":
        os.unlink(path)
        os.mkdir(path)
    else:
        with open(path, "wb") as f:
            f.write(damage(data))
    report, stderr = run(project)
    assert report["stats"]["rejected"] == 1 and report["stats"]["misses"] == 1
    assert report["codegen"] == 1  # recompiled, never executed
    assert stderr.count("CacheWarning") == 1 and reason in stderr, stderr
    with open(path, "rb") as f:
        assert _core.read_artifact(f.read())["key"] == _core.read_artifact(data)["key"]
    again, _ = run(project)
    assert again["stats"]["hits"] == SPECIALIZATIONS


def test_an_unwritable_folder_falls_back_to_memory(project):
    report, stderr = run(project, EMBER_CACHE_DIR="/proc/ember-cache")
    assert report["stats"]["writes"] == 0 and report["codegen"] == SPECIALIZATIONS
    assert stderr.count("CacheWarning") == 1 and "stays in memory" in stderr


def test_a_folder_other_users_can_write_is_refused(project):
    (project / "cache").mkdir(mode=0o700)
    os.chmod(project / "cache", 0o777)
    report, stderr = run(project)
    assert report["stats"]["writes"] == 0 and report["stats"]["hits"] == 0
    assert stderr.count("CacheWarning") == 1 and "other users" in stderr


def test_read_mode_writes_nothing_and_off_reads_nothing(project):
    report, _ = run(project, EMBER_CACHE="read")
    assert report["stats"]["misses"] == SPECIALIZATIONS and report["stats"]["writes"] == 0
    assert entry_files(project) == []
    run(project)
    off, _ = run(project, EMBER_CACHE="off")
    assert off["stats"]["hits"] == 0 and off["codegen"] == SPECIALIZATIONS
    read, _ = run(project, EMBER_CACHE="read")
    assert read["stats"]["hits"] == SPECIALIZATIONS


def test_code_for_features_the_cpu_lacks_is_never_run(project):
    features = _core.host_features()
    widest = "avx512f" if "avx512f" in features else "avx2" if "avx2" in features else None
    if widest is None:
        pytest.skip("this CPU has neither AVX2 nor AVX-512")
    run(project)
    older, _ = run(project, EMBER_TEST_HIDE_FEATURES=widest)  # as on a CPU without it
    assert older["stats"]["hits"] == 0 and older["codegen"] == SPECIALIZATIONS
    files = entry_files(project)
    assert len(files) == 2 * SPECIALIZATIONS  # one set per CPU kind, side by side
    tags = {}
    for path in files:
        with open(path, "rb") as f:
            tags.setdefault(path.rsplit("-", 1)[1], set()).add(
                widest in _core.read_artifact(f.read())["features"].decode().split(","))
    assert sorted(tags.values(), key=str) == [{False}, {True}]
    again, _ = run(project)  # this CPU uses its own entries again ...
    assert again["stats"]["hits"] == SPECIALIZATIONS and not again["jit"]
    older, _ = run(project, EMBER_TEST_HIDE_FEATURES=widest)  # ... and the older one its own
    assert older["stats"]["hits"] == SPECIALIZATIONS and not older["jit"]


def test_incompatibility_names_the_missing_feature():
    host = _core.host_features()
    assert _core.incompatibility(host) == ""
    assert "madeup" in _core.incompatibility(host + ["madeup"])
    if "avx2" in host:
        narrower = [f for f in host if not f.startswith("avx512")]
        assert ("avx512f" in _core.incompatibility(narrower)) == ("avx512f" in host)


@pytest.mark.parametrize("change, missed", [
    ({"SCALE": "3.0"}, "price"), ({"OFFSET": "-4.5"}, "shifted"), ("helper", "dot")])
def test_a_changed_global_closure_or_module_value_misses(project, change, missed):
    run(project)
    if change == "helper":
        (project / "helper.py").write_text("FACTOR = 0.5\n")
        change = {}
    report, _ = run(project, **change)  # the checks use the new value
    assert report["stats"]["misses"] == 1 and report["stats"]["hits"] == SPECIALIZATIONS - 1
    assert len(entry_files(project)) == SPECIALIZATIONS + 1


def test_same_source_in_two_modules_with_other_globals(project):
    source = "import ember\nSCALE = {}\n\n@ember.vectorize\ndef f(x):\n    return x * SCALE\n"
    (project / "mod_a.py").write_text(source.format(2.0))
    (project / "mod_b.py").write_text(source.format(3.0))
    (project / "both.py").write_text(textwrap.dedent("""
        import json, numpy as np, ember, mod_a, mod_b
        x = np.arange(4.0)
        ok = (mod_a.f(x) == 2 * x).all() and (mod_b.f(x) == 3 * x).all()
        print(json.dumps({"ok": bool(ok), "stats": ember.cache.stats()}))
    """))
    for expected_hits in (0, 2):
        proc = subprocess.run([sys.executable, "both.py"], cwd=project, env=_env(project),
                              capture_output=True, text=True, timeout=120)
        report = json.loads(proc.stdout)
        assert report["ok"] and report["stats"]["hits"] == expected_hits, proc.stderr
    assert len(entry_files(project)) == 2


def test_least_recently_used_entries_go_over_the_cap(project):
    functions = "\n".join(f"@ember.vectorize\ndef f{i}(x):\n    return x * {i} + {i}.5\n"
                          for i in range(8))
    (project / "many.py").write_text(textwrap.dedent("""
        import json, numpy as np, ember
        {}
        x = np.arange(3.0)
        ok = all((globals()[f"f{{i}}"](x) == x * i + i + 0.5).all() for i in range(8))
        print(json.dumps({{"ok": ok}}))
    """).format(functions))
    def run_many(**extra):
        proc = subprocess.run([sys.executable, "many.py"], cwd=project,
                              env=_env(project, **extra), capture_output=True, text=True,
                              timeout=120)
        assert json.loads(proc.stdout)["ok"], proc.stderr

    run_many(EMBER_CACHE_DIR=str(project / "probe"))  # the size of one entry, uncapped
    size = max(s for _, s, _ in cache.entries(str(project / "probe" / os.path.basename(
        _version_dir(project)))))
    limit = 3 * size + size // 2
    run_many(EMBER_CACHE_SIZE=str(limit))
    files = entry_files(project)
    assert sum(os.path.getsize(p) for p in files) <= limit and len(files) == 3
    names = []
    for path in files:  # the three compiled last stay
        with open(path, "rb") as f:
            names.append(_core.read_artifact(f.read())["spec"].decode().split("func ")[1][:3])
    assert sorted(names) == ["f5(", "f6(", "f7("]


SCALE = 2.0


def test_values_of_globals_are_frozen_at_the_first_compile():
    global SCALE
    SCALE = 2.0

    @ember.vectorize(cache=False)
    def scaled(x):
        return x * SCALE

    assert scaled(1.0) == 2.0
    SCALE = 3.0
    assert scaled(1.0) == 2.0  # compiled before the change
    assert scaled(np.float32(1.0)) == 2.0  # a new specialization: the same values
    assert scaled.signatures == ["float64(float)", "float32(float32)"]


def test_cache_false_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_CACHE_DIR", str(tmp_path / "cache"))
    before = cache.stats()

    @ember.vectorize(cache=False)
    def g(x):
        return x - 7.25

    @ember.kernel(cache=False)
    def k(out):
        out[ember.tid()] = 1.5

    assert g(1.0) == -6.25
    out = np.zeros(3)
    k[3](out)
    assert (out == 1.5).all()
    assert cache.stats() == before and not (tmp_path / "cache").exists()


def test_a_hit_runs_no_llvm_in_a_process_that_compiled(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_CACHE_DIR", str(tmp_path / "cache"))
    from ember import _jit

    def make():
        @ember.vectorize
        def h(x, y):
            return math.hypot(x, y) * 0.75
        return h

    x = np.linspace(-3, 3, 101)
    expected = np.hypot(x, 2.0) * 0.75
    assert np.allclose(make()(x, 2.0), expected)
    runs, hits = _jit.codegen_runs(), cache.stats()["hits"]
    assert np.allclose(make()(x, 2.0), expected)  # a new function object: from the disk
    assert _jit.codegen_runs() == runs and cache.stats()["hits"] == hits + 1


def test_an_artifact_round_trips_and_rejects_damage():
    @ember.reduce("max", cache=False)
    def biggest(x):
        return abs(x)

    assert biggest(np.array([1.0, -5.0, 3.0])) == 5.0
    kernel = biggest._compiled[-1][2]
    fields = _core.read_artifact(kernel.artifact)
    assert _core.write_artifact(fields) == kernel.artifact
    assert fields["key"].decode() == kernel.key == kernel.specialization.key
    assert fields["object"][:4] == b"\x7fELF"
    assert b"kind: reduce" in fields["spec"] and b"combine: maximum" in fields["spec"]
    for cut in (0, 10, 55, 56, len(kernel.artifact) - 1):
        with pytest.raises(_core.ArtifactError):
            _core.read_artifact(kernel.artifact[:cut])
    loaded = _core.load_artifact(kernel.specialization, kernel.artifact)
    assert loaded.key == kernel.key


# LLVM's names of the features and /proc/cpuinfo's, where they differ.
_CPUINFO = {"bmi": "bmi1", "sse3": "pni", "pclmul": "pclmulqdq", "sse4.1": "sse4_1", "sse4.2": "sse4_2",
            "sahf": "lahf_lm", "lzcnt": "abm", "prfchw": "3dnowprefetch",
            "avx512vbmi2": "avx512_vbmi2", "avx512vnni": "avx512_vnni",
            "avx512bitalg": "avx512_bitalg", "avx512vpopcntdq": "avx512_vpopcntdq",
            "avx512bf16": "avx512_bf16", "avx512fp16": "avx512_fp16", "avxvnni": "avx_vnni"}


def test_host_features_agree_with_the_kernel():
    try:
        with open("/proc/cpuinfo") as f:
            flags = next(line for line in f if line.startswith("flags")).split(":")[1].split()
    except (OSError, StopIteration):
        pytest.skip("no /proc/cpuinfo")
    ours = set(_core.host_features())
    for name in ["sse3", "ssse3", "sse4.1", "sse4.2", "popcnt", "avx", "avx2", "fma", "f16c",
                 "bmi", "bmi2", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd",
                 "avx512vnni", "avx512bf16", "avx512fp16", "movbe", "lzcnt", "sahf"]:
        assert (name in ours) == (_CPUINFO.get(name, name) in flags), name


def run_cli(project, *args):
    proc = subprocess.run([sys.executable, "-m", "ember", *args], cwd=project, env=_env(project),
                          capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout + proc.stderr


def test_the_command_line(project):
    run(project)
    code, out = run_cli(project, "cache", "info")
    assert code == 0 and f"entries:  {SPECIALIZATIONS}" in out and _version_dir(project) in out
    code, out = run_cli(project, "cache", "list")
    assert code == 0 and len(out.splitlines()) == SPECIALIZATIONS
    assert "price(s: f64, k: f64?, t: f64)" in out and "reduce" in out and "kernel" in out

    # explain: a file whose function has an eager signature, then a change of global
    source = "import ember\nSCALE = {}\n\n@ember.vectorize(['float64(float64)'])\ndef f(x):\n" \
             "    return x * SCALE\n"
    (project / "eager.py").write_text(source.format(2.0))
    subprocess.run([sys.executable, "eager.py"], cwd=project, env=_env(project), check=True)
    code, out = run_cli(project, "cache", "explain", "eager.py:f")
    assert code == 0 and "used on this CPU" in out, out
    (project / "eager.py").write_text(source.format(2.5))
    code, out = run_cli(project, "cache", "explain", "eager.py:f")
    assert code == 0 and "miss" in out and "-  return mul(x, 2.0:f64?)" in out, out
    assert "+  return mul(x, 2.5:f64?)" in out
    code, out = run_cli(project, "cache", "explain", "eager.py:nothing")
    assert code != 0 and "no ember function 'nothing'" in out
    code, out = run_cli(project, "cache", "explain", "missing.py:f")
    assert code != 0 and "no such file" in out

    code, out = run_cli(project, "cache", "clear")
    assert code == 0 and f"removed {SPECIALIZATIONS + 1}" in out
    assert entry_files(project) == []


def test_bad_settings_are_named(monkeypatch):
    monkeypatch.setenv("EMBER_CACHE", "sometimes")
    monkeypatch.setenv("EMBER_CACHE_SIZE", "lots")
    cache._warned.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert cache.mode() == "on" and cache.size_limit() == 1 << 30
    messages = [str(w.message) for w in caught]
    assert any("EMBER_CACHE='sometimes'" in m for m in messages)
    assert any("EMBER_CACHE_SIZE='lots'" in m for m in messages)
    monkeypatch.setenv("EMBER_CACHE_SIZE", "512M")
    assert cache.size_limit() == 512 << 20
