"""ember's GPU call paths without a GPU: @vectorize(target="cuda"),
@kernel(target="cuda"), device arrays, DLPack and __cuda_array_interface__,
run against the fake driver (fake_cuda/fake_cuda.c). The fake plays every
launch with the CPU version of the same function on its "device" memory
(fake_cuda/scenarios.py), so these tests check what the host side of the GPU
path does: the parameters of each launch in the order of codegen.h, copies
in and out, broadcasting, scalars, strides, caching, errors and memory
release. The PTX itself is checked by test_ptx.py (ptxas) and, on a machine
with a GPU, by test_cuda_gpu.py.
"""

import json
import os
import textwrap

import pytest
from conftest import FAKE_CUDA_DIR, run_with_driver


@pytest.fixture(scope="module")
def report(fake_cuda_driver):
    stdout, stderr, code = run_with_driver(fake_cuda_driver,
                                           os.path.join(FAKE_CUDA_DIR, "scenarios.py"))
    assert code == 0, stderr
    return json.loads(stdout)


def test_every_launch_matches_the_cpu(report):
    # Each scenario compares the GPU path's result with the CPU kernel's.
    assert report["problems"] == []
    assert report["launch_count"] == len(report["launches"]) >= 20


def test_launch_configuration(report):
    # Occupancy's block (128 on the fake), a grid no larger than the fake's
    # 4 blocks that fill the device, nor than the work needs.
    entry, nparams, grid, block = report["launches"][0]
    assert (entry, nparams, grid, block) == ("ember_triad_cuda", 4, 4, 128)  # 1000 elements
    assert ["ember_mix_cuda", 5, 1, 128] in report["launches"]  # 100 elements: 1 block
    reduce = [launch for launch in report["launches"] if launch[0].startswith("ember_dot_cuda")]
    other = [launch for launch in report["launches"] if launch not in reduce]
    assert all(block == 128 for _, _, _, block in other)
    # Reductions: the 256 threads their PTX requires, grids of as many threads
    # as the occupancy calculator's (4 x 128).
    assert {(grid, block) for _, _, grid, block in reduce} == {(1, 256), (2, 256)}


def test_specializations(report):
    assert report["signatures"] == ["int32(int32, int32, int)", "uint8(uint8, int, uint8)",
                                    "int64(int64, int, int)"]
    # A transposed output is copied to a C-contiguous device array (the first
    # specialization serves it); a strided device view gets its own code.
    assert report["kernel_signatures"] == ["[2-d](float32[xx], float32[xx], float64)",
                                           "[2-d](float32[xx strided], float32[xx], float64)"]


def test_out_arguments(report):
    assert report["out_is_same"] and report["host_out_is_same"] and report["fast_out_is_same"]
    assert report["mixed_is_numpy"]


def test_device_calls_take_the_cpp_path(report):
    # After its first call, a specialization on device arrays and Python
    # numbers is called through C++ (python/src/cuda_call.cpp); the values of
    # those calls are checked in test_every_launch_matches_the_cpu.
    assert report["fast_paths"] == [2, 2, 1]  # the cases with device arrays of one shape


def test_vectorize_errors(report):
    e = report["errors"]
    assert e["overflow gpu"] == e["overflow cpu"] == e["overflow fast"] == [
        "OverflowError", "argument 2: Python int 300 is out of bounds for uint8"]
    assert e["nargs"] == ["TypeError", "triad() takes 2 arguments but 1 was given"]
    assert e["repeating out"] == ["ValueError", "out= repeats elements (strides (0, 8) for "
                                  "shape (4, 4)): every element must have its own place"]
    assert e["device shape"][0] == "ValueError" and "(4, 4)" in e["device shape"][1]
    assert e["out shape"][0] == e["out dtype"][0] == e["out shape fast"][0] == "ValueError"
    assert e["out shape"][1] == e["out shape fast"][1]
    assert e["two devices"] == ["ValueError", "the device arrays of a call are on different "
                                "GPUs [0, 1]; copy them to one first"]
    assert "float32 (3,)" in e["out dtype"][1]
    assert e["bad arg"][0] == e["bad dtype"][0] == "TypeError"
    assert "complex128" in e["bad dtype"][1]
    assert e["target"] == ["ValueError", "unknown target 'tpu'; choose 'cpu' or 'cuda'"]


def test_strided_arguments(report):
    # Views and broadcasts take the strided entry over as few axes as their
    # layouts allow (codegen.h); values are checked against the CPU.
    assert report["strided"] == {
        "transposed": [2], "reversed": [1], "every other column": [1],
        "device row broadcast": [2], "device column broadcast": [2],
        "numpy broadcast 3-d": [2], "numpy column": [2]}
    assert report["strided_out_is_same"]


def test_reduce_over_axes(report):
    r = report["reduce"]
    # Contiguous when the reduced axes are the last ones of C-contiguous
    # arrays (or all of them); strided otherwise; nothing to launch for no results.
    assert [r[f"axis {name}"] for name in ["last", "first", "outer two", "all as tuple",
                                           "long rows", "device", "empty axis",
                                           "no results"]] == [
        [0], [2], [3], [0], [0], [3], [0], []]
    # One segment per result; 9000-element rows: 3 pieces each, then merged.
    assert r["axis tiles"] == [[60, 15], [60, 20], [60, 5], [60, 1], [18000, 6], [60, 12],
                               [0, 3]]
    assert r["bad axis cuda"] == ["AxisError", "axis 3 is out of bounds for array of dimension 3"]
    assert r["repeated axis cuda"] == ["ValueError", "duplicate value in 'axis'"]
    assert r["bool axis cuda"] == r["bool in tuple cuda"] == [
        "TypeError", "axis must be an integer, not bool"]
    assert r["float axis cuda"][0] == "TypeError"
    for name in ["bad axis", "repeated axis", "bool axis", "bool in tuple", "float axis"]:
        assert r[f"{name} cuda"] == r[f"{name} cpu"]


def test_reduce_launches(report):
    # Tiles of 4096 elements, partials merged 4096 at a time, then the finish.
    r = report["reduce"]
    merge, finish = "ember_dot_cuda_merge", "ember_dot_cuda_finish"
    assert r["+ 5000"] == r["+ 100000"] == ["ember_dot_cuda", merge, finish]  # 2 and 25 tiles
    assert r[f"+ {4096 * 4096 + 1}"] == ["ember_dot_cuda", merge, merge, finish]  # 4097 -> 2 -> 1
    assert r["+ 0"] == r["* 40"] == ["ember_dot_cuda", finish]  # one tile
    assert r["tiles"] == [[5000, 2], [100000, 25], [70000, 18], [0, 1], [40, 1],
                          [4096 * 4096 + 1, 4097]]
    assert r["empty min"] == "zero-size array to reduction operation minimum which has no identity"


def test_kernel_errors(report):
    e = report["kernel_errors"]
    assert e["readonly"] == "kernel 'blur' writes to argument 1 ('out'), which is read-only"
    # The GPU's error record becomes the CPU's message.
    assert e["index"].startswith("index 9 is out of bounds for axis 1 with size 6 "
                                 "(array 'img' of shape (5, 6)) in kernel 'blur' at ")
    assert e["cpu_index"].startswith("index 4 is out of bounds for axis 1 with size 4 "
                                     "(array 'img' of shape (5, 4)) in kernel 'blur' at ")


def test_device_memory(report):
    m = report["memory"]
    for dtype in ["bool", "int8", "uint16", "int32", "uint64", "float32", "float64"]:
        assert m[dtype] == [True] * 4, dtype
    assert m["empty"] == [0, [3, 0], 0]
    assert m["dlpack_export"] == [True, [2, 3], [3, 1], 2, 64, 0]
    for protocol in ["cai_import", "dlpack_import"]:
        assert m[protocol] == [True, [2, 3], "float64", [[0, 1, 2], [3, 4, 5]]], protocol
    name, is_cuda_error, driver_name, message = m["oom"]
    assert (name, is_cuda_error, driver_name) == ("CudaOutOfMemoryError", True,
                                                  "CUDA_ERROR_OUT_OF_MEMORY")
    assert "asked for 2.00 GiB on device 0; 1.00 GiB free of 24.00 GiB" in message
    # Every device allocation was given back once its arrays were gone.
    assert report["live_allocations"] == 0
    # All from ember's own pool (one per device, not the device's default
    # pool), told to keep freed memory; running out trimmed it first.
    assert report["plain_allocations"] == 0 and report["release_threshold"] == 2**64 - 1
    assert report["pools_created"] == 1 and report["pool_trims"] >= 1


ONE_ARRAY = textwrap.dedent("""
    import ctypes, json, os, numpy as np, ember
    fake = ctypes.CDLL(os.environ["EMBER_CUDA_DRIVER"])
    d = ember.cuda.to_device(np.arange(5.0))
    out = {"values": d.to_host().tolist(), "plain": fake.fake_plain_allocations(),
           "pools": fake.fake_pools_created(), "trims": fake.fake_pool_trims()}
    del d
    out["live"] = fake.fake_live_allocations()
    print(json.dumps(out))
""")


# A map f and a kernel g on the GPU, for the scripts below.
F_AND_G = textwrap.dedent("""
    import ctypes, json, os, sys, threading, time, numpy as np, ember
    fake = ctypes.CDLL(os.environ["EMBER_CUDA_DRIVER"])
    @ember.vectorize(target="cuda")
    def f(x):
        return x + 1.0
    @ember.kernel(target="cuda")
    def g(out):
        i = ember.tid()
        out[i] = 2.0
""")

MODULE_CACHE = F_AND_G + textwrap.dedent("""
    loads = []
    for call in [lambda: f(np.ones(4)), lambda: f(np.ones(8)), lambda: f(np.ones(4, np.float32)),
                 lambda: f(np.ones(3)), lambda: g[4](np.ones(4)), lambda: g[5](np.ones(5))]:
        call()
        loads.append(fake.fake_module_loads())
    print(json.dumps(loads))
""")


def test_modules_load_once_per_specialization(fake_cuda_driver, tmp_path):
    # The PTX is JIT-compiled by the driver at load: once per specialization and device.
    script = tmp_path / "module_cache.py"
    script.write_text(MODULE_CACHE)
    stdout, stderr, code = run_with_driver(fake_cuda_driver, str(script))
    assert code == 0, stderr
    assert json.loads(stdout) == [1, 1, 2, 2, 3, 3]


PTX_CACHE = F_AND_G + textwrap.dedent("""
    if "noptx" in sys.argv:  # the PTX must come from the disk cache
        import ember._jit
        def refuse(*args):
            raise AssertionError("PTX generated again")
        ember._jit.ptx = refuse
    f(np.arange(4.0))  # the fake driver runs nothing: only where the PTX comes from counts
    g[5](np.zeros(5))
    print(json.dumps({"stats": ember.cache.stats()}))
""")


def test_ptx_comes_from_the_disk_cache(fake_cuda_driver, tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_CACHE_DIR", str(tmp_path / "cache"))
    script = tmp_path / "ptx_cache.py"
    script.write_text(PTX_CACHE)
    reports = []
    for args in [(), ("noptx",)]:
        stdout, stderr, code = run_with_driver(fake_cuda_driver, str(script), args=args)
        assert code == 0, stderr
        reports.append(json.loads(stdout))
    assert reports[0]["stats"]["writes"] == 2 and reports[1]["stats"]["hits"] == 2
    # Damaged: a warning, the PTX made again and replaced.
    for path in (tmp_path / "cache").rglob("*-ptx.ember"):
        path.write_bytes(path.read_bytes()[:-3])
    stdout, stderr, code = run_with_driver(fake_cuda_driver, str(script))
    assert code == 0 and json.loads(stdout)["stats"]["rejected"] == 2, stderr
    assert "checksum" in stderr or "damaged" in stderr


GIL = F_AND_G + textwrap.dedent("""
    f(np.ones(4))  # compiled and loaded: the calls below are copies and launches
    g[4](np.ones(4))
    sys.setswitchinterval(1e-4)
    ticks, running = [], threading.Event()
    def count():
        running.set()
        while running.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.005)
    spans = []
    for call in [lambda: f(np.ones(4)), lambda: g[4](np.ones(4))]:
        t = threading.Thread(target=count)
        ticks.clear()
        t.start()
        running.wait()
        start = time.perf_counter()
        call()  # copy in, launch, copy out: 300 ms in the fake's mode 5
        end = time.perf_counter()
        running.clear()
        t.join()
        inside = [start] + [x for x in ticks if start < x < end] + [end]
        spans.append([end - start, max(b - a for a, b in zip(inside, inside[1:]))])
    print(json.dumps(spans))
""")


def test_copies_and_launches_release_the_gil(fake_cuda_driver, tmp_path):
    # Another Python thread keeps running while the driver copies and launches.
    script = tmp_path / "gil.py"
    script.write_text(GIL)
    stdout, stderr, code = run_with_driver(fake_cuda_driver, str(script), mode=5)
    assert code == 0, stderr
    for seconds, longest_pause in json.loads(stdout):
        # Each driver call takes 100 ms: one made holding the GIL pauses the other thread that long.
        assert seconds >= 0.3 and longest_pause < 0.08, (seconds, longest_pause)


@pytest.mark.parametrize("driver,mode,expected", [
    ("fake_cuda_driver", 4, {"plain": 1, "pools": 0, "trims": 0}),  # a device without pools
    ("old_fake_cuda_driver", 0, {"plain": 1, "pools": 0, "trims": 0}),  # a driver without
    ("fake_cuda_driver", 6, {"plain": 0, "pools": 1, "trims": 1}),  # full: trimmed, then used
])
def test_allocation_without_a_pool_or_from_a_full_one(request, tmp_path, driver, mode, expected):
    script = tmp_path / "one_array.py"
    script.write_text(ONE_ARRAY)
    stdout, stderr, code = run_with_driver(request.getfixturevalue(driver), str(script), mode=mode)
    assert code == 0, stderr
    assert json.loads(stdout) == {"values": [0.0, 1.0, 2.0, 3.0, 4.0], "live": 0, **expected}


FAILING = textwrap.dedent("""
    import json, numpy as np, ember
    @ember.vectorize(target="cuda")
    def f(x):
        return x + 1.0
    try:
        f(np.ones(4))
    except ember.CudaError as e:
        print(json.dumps([type(e).__name__, e.name, e.code, str(e)]))
""")


@pytest.mark.parametrize("mode, name, text", [
    (2, "CUDA_ERROR_INVALID_PTX", "fake JIT failure"),  # the JIT log is in the message
    (3, "CUDA_ERROR_ILLEGAL_ADDRESS", "a kernel faulted"),  # seen at the copy back
])
def test_driver_failures(fake_cuda_driver, tmp_path, mode, name, text):
    script = tmp_path / "failing.py"
    script.write_text(FAILING)
    stdout, stderr, code = run_with_driver(fake_cuda_driver, str(script), mode)
    assert code == 0, stderr
    kind, got_name, _, message = json.loads(stdout)
    assert (kind, got_name) == ("CudaError", name) and text in message


def test_no_gpu_is_a_clear_error(tmp_path):
    script = tmp_path / "no_gpu.py"
    script.write_text(FAILING)
    stdout, stderr, code = run_with_driver(str(tmp_path / "no_libcuda.so.1"), str(script))
    assert code == 0, stderr
    kind, name, _, message = json.loads(stdout)
    assert kind == "CudaError" and name == "no CUDA driver"
    assert message.startswith("target='cuda' needs an NVIDIA GPU and its driver: cannot load")


def test_gpu_benchmark_checks_its_results(fake_cuda_driver, tmp_path):
    # `python -m ember.bench --gpu` on the fake: ember's launches replayed with
    # the CPU kernels, every result checked against NumPy before timing.
    script = os.path.join(FAKE_CUDA_DIR, "bench_scenario.py")
    stdout, stderr, code = run_with_driver(fake_cuda_driver, script, args=[str(tmp_path / "gpu.md")])
    assert code == 0, stderr
    assert json.loads(stdout.splitlines()[-1]) == []
    text = (tmp_path / "gpu.md").read_text()
    assert "| triad | 5,000 |" in text and "| black_scholes | 5,000 |" in text
    assert "| dot | 5,000 |" in text
    assert "16-element device array" in text and "Cold first launch" in text
    assert "ember (fresh process)" in text
    # Kernels that compute the wrong values stop the benchmark.
    _, stderr, code = run_with_driver(fake_cuda_driver, script,
                                      args=[str(tmp_path / "wrong.md"), "wrong"])
    assert code != 0 and "ember gives wrong results for triad" in stderr
