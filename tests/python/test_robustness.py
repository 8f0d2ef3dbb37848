"""Defects an adversarial review found (issue 24): each test fails without its
fix. What could crash the interpreter runs in a subprocess with a timeout."""

import gc
import os
import subprocess
import sys
import textwrap
import weakref

import numpy as np
import pytest

import ember
from ember import _core

from conftest import EMBER_PATH as PYTHON_DIR  # the ember under test


def run_script(tmp_path, source, timeout=120):
    """Runs `source` in a fresh interpreter: (exit code, stdout, stderr)."""
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(source))
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
    proc = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True,
                          timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


def test_a_loop_step_of_zero_runs_no_iteration(tmp_path):
    # Row 1: both divisions of the trip count ran, one by zero: SIGFPE.
    code, out, err = run_script(tmp_path, """
        import numpy as np, ember

        @ember.kernel
        def count(out, b, c):
            i = ember.tid()
            for j in range(0, b, c):
                out[i] += 1.0

        for step in (0, 1, -1, 3):
            out = np.zeros(4)
            count[4](out, 10, step)
            ref = np.zeros(4)
            count.interpret(4, ref, 10, step)
            print(step, out[0], ref[0])
    """)
    assert code == 0, err
    assert out.split("\n")[:4] == ["0 0.0 0.0", "1 10.0 10.0", "-1 0.0 0.0", "3 4.0 4.0"]


@pytest.mark.parametrize("arch", ["i386", "i686", "pentium"])
@pytest.mark.parametrize("stage", ["asm", "llvm"])
def test_a_32_bit_cpu_is_a_value_error(arch, stage):
    # Row 3: LLVM aborted the process ("64-bit code requested ...").
    @ember.vectorize(["float64(float64)"], cache=False)
    def f(x):
        return x + 1.0

    with pytest.raises(ValueError, match=f"CPU '{arch}' cannot run 64-bit code"):
        f.inspect(stage, arch=arch)
    assert "znver4" not in f.inspect("asm", arch="x86-64-v3")  # other CPUs still work


def test_a_broadcast_of_more_elements_than_int64_counts_is_refused():
    # Row 8: the element count wrapped and the reduction returned 0.0 at once.
    @ember.reduce("+", cache=False)
    def total(x, y):
        return x * y

    @ember.reduce("max", cache=False)
    def biggest(x, y):
        return x * y

    a, b = np.broadcast_to(1.0, (2**32, 1)), np.broadcast_to(1.0, (1, 2**32))
    for f in (total, biggest):
        with pytest.raises(ValueError, match="iterator is too large"):
            f(a, b)


def _some(x, y):
    return x * y + 1.0


def test_deleted_functions_are_freed_with_their_code():
    # Rows 9 and 10: a cycle through the C++ dispatcher kept every deleted
    # function (and its compiled code) alive.
    def maps():
        with open("/proc/self/maps") as f:
            return sum(1 for _ in f)

    def kernel_body(out, x):
        out[ember.tid()] = x[ember.tid()] * 2.0

    x = np.arange(8.0)
    refs = []
    start = None
    for round in range(60):
        f = ember.vectorize(_some, cache=False)
        r = ember.reduce("+", cache=False)(_some)
        k = ember.kernel(kernel_body.__wrapped__ if hasattr(kernel_body, "__wrapped__")
                         else kernel_body, cache=False)
        assert f(x, 2.0)[1] == 3.0 and r(x, x) == np.sum(x * x + 1)
        out = np.zeros(8)
        k[8](out, x)
        refs += [weakref.ref(f), weakref.ref(r), weakref.ref(k)]
        del f, r, k
        gc.collect()
        if round == 10:
            start = maps()
    assert all(ref() is None for ref in refs)
    assert maps() - start < 20  # 150 more kernels compiled, their code unmapped


@pytest.mark.parametrize("n, error", [(0, ValueError), (-3, ValueError), (2**31, ValueError),
                                      (10**6, ValueError), (2.0, TypeError), (True, TypeError),
                                      ("2", TypeError)])
def test_set_num_threads_names_its_range(n, error):
    # Row 13: 2**31 gave pybind11's "incompatible function arguments"; row 4's cap.
    with pytest.raises(error, match="set_num_threads needs"):
        ember.set_num_threads(n)


def test_set_num_threads_takes_numpy_integers():
    saved = ember.get_num_threads()
    try:
        ember.set_num_threads(np.int64(2))
        assert ember.get_num_threads() == 2
    finally:
        ember.set_num_threads(saved)


def test_a_pool_that_cannot_start_its_threads_is_an_exception(tmp_path):
    # Row 4: std::terminate when a thread could not start (here: no address
    # space left for the threads' stacks).
    code, out, err = run_script(tmp_path, """
        import re, resource, numpy as np, ember

        @ember.vectorize
        def f(x):
            return x + 1.0

        x = np.ones(2_000_000)
        out = np.empty_like(x)
        f(x, out=out)  # compiled, and the default pool started
        with open("/proc/self/status") as status:
            size = int(re.search(r"VmSize:\\s+(\\d+) kB", status.read()).group(1)) * 1024
        resource.setrlimit(resource.RLIMIT_AS, (size + (64 << 20), resource.RLIM_INFINITY))
        ember.set_num_threads(200)  # 199 stacks of 8 MiB do not fit
        try:
            f(x, out=out)
            print("ran")
        except RuntimeError as e:
            print("error:", e)
        ember.set_num_threads(1)
        f(x, out=out)
        print("after:", out[0])
    """)
    assert code == 0, err
    assert "could not start thread" in out and "ember.set_num_threads" in out, out
    assert "after: 2.0" in out


class FailingArray:
    def __array__(self, dtype=None, copy=None):
        raise ZeroDivisionError("the data is not ready")


def test_an_exception_from___array___is_raised_as_it_is():
    # Row 13: it became "argument 2 ... is not an array or a number".
    @ember.vectorize(cache=False)
    def f(x, y):
        return x + y

    with pytest.raises(ZeroDivisionError, match="the data is not ready"):
        f(1.0, FailingArray())
    with pytest.raises(TypeError, match="dtype object"):
        f(1.0, object())


def test_interpret_raises_compile_errors_as_a_launch_does():
    # Row 13: interpret() raised the internal _core.BuildError.
    @ember.kernel(cache=False)
    def k(out):
        out[ember.tid()] = out[ember.tid()] + 300

    out = np.zeros(3, np.uint8)
    with pytest.raises(ember.CompileError) as launched:
        k[3](out)
    with pytest.raises(ember.CompileError) as interpreted:
        k.interpret(3, out)
    assert str(interpreted.value) == str(launched.value)
    assert not isinstance(interpreted.value, _core.BuildError)


def test_uninitialized_objects_and_bad_callbacks_are_type_errors():
    # Row 11: launch() read garbage ("takes 757782599 arguments"); a compile
    # callback returning None crashed.
    for cls, call in [(ember.Kernel, lambda k: k.launch(1, 1.0)),
                      (ember.Kernel, len), (ember.Vectorized, lambda v: v(1.0)),
                      (ember.Vectorized, len), (ember.Vectorized, lambda v: v.specialize([]))]:
        with pytest.raises(TypeError, match="not initialized"):
            call(cls.__new__(cls))
    dispatcher = _core.Dispatcher("f", 1, lambda types: None)
    with pytest.raises(TypeError, match="returned NoneType, not a compiled kernel"):
        dispatcher(1.0)
    launcher = _core.Launcher("k", 1, lambda types, rank: 42)
    with pytest.raises(TypeError, match="returned int, not a compiled kernel"):
        launcher.launch(1, (np.zeros(1),))


def test_a_child_forked_while_another_thread_compiles_can_compile(tmp_path):
    # Row 5: the child blocked forever on the JIT's mutex that fork copied locked.
    code, out, err = run_script(tmp_path, """
        import os, threading, numpy as np, ember

        def body(x):
            return x * 3.0 + 1.0

        busy = threading.Event()
        done = threading.Event()

        def compile_forever():
            while not done.is_set():
                ember.vectorize(body, cache=False)(np.float32(1))  # LLVM, every time
                busy.set()

        worker = threading.Thread(target=compile_forever)
        worker.start()
        busy.wait()
        statuses = []
        for _ in range(20):
            pid = os.fork()
            if pid == 0:
                f = ember.vectorize(lambda x: x - 0.5, cache=False)
                os._exit(0 if f(2.0) == 1.5 else 3)
            statuses.append(os.waitpid(pid, 0)[1])
        done.set()
        worker.join()
        print(statuses)
    """, timeout=120)
    assert code == 0, err
    assert out.strip() == str([0] * 20)


def test_reductions_of_empty_views_with_strides(tmp_path):
    # An empty slice keeps its parent's strides: the reducer took a remainder
    # by the empty extent (SIGFPE). Found through dask's empty meta arrays.
    code, out, err = run_script(tmp_path, """
        import itertools, numpy as np, ember

        @ember.reduce("+")
        def total(x, y):
            return x * y

        base = np.arange(120.0).reshape(4, 5, 6)
        bad = []
        for cut in [(slice(0, 0),), (slice(None), slice(0, 0)), (slice(0, 0), slice(0, 0)),
                    (slice(None), slice(None), slice(0, 0))]:
            x = base[cut]
            for axis in [None, 0, 1, 2, (0, 1), (0, 2), (1, 2), (0, 1, 2)]:
                got, want = total(x, x, axis=axis), np.sum(x * x, axis=axis)
                if np.shape(got) != np.shape(want) or not np.array_equal(got, want):
                    bad.append((x.shape, axis))
        print("bad:", bad)
    """)
    assert code == 0, err
    assert out.strip() == "bad: []"


def test_long_elif_chains_compile(tmp_path):
    # Row 12: 300 branches were "an expression nests too deeply" (the
    # frontend recursed once per elif).
    n = 1200
    lines = ["import ember", "", "@ember.vectorize(cache=False)", "def bucket(x):",
             "    if x < 0.0:", "        return -1.0"]
    for i in range(1, n):
        lines += [f"    elif x < {i}.0:", f"        return {i}.5"]
    lines += ["    else:", "        return 0.0"]
    (tmp_path / "chain.py").write_text("\n".join(lines) + "\n")
    sys.path.insert(0, str(tmp_path))
    try:
        import chain
    finally:
        sys.path.remove(str(tmp_path))
    x = np.array([-3.0, 0.5, 7.2, 1199.5, 5000.0])
    assert chain.bucket(x).tolist() == [-1.0, 1.5, 8.5, 0.0, 0.0]


def test_uint64_indices_never_count_from_the_end():
    # Row 7: index 2**64 - 1 from a uint64 array wrote a[-1]; 2**63 was shown
    # negative; interpret() did the same.
    @ember.kernel(boundscheck=True, cache=False)
    def gather(out, a, idx):
        i = ember.tid()
        out[i] = a[idx[i]]

    a = np.arange(10.0)
    out = np.zeros(3)
    gather[3](out, a, np.array([0, 9, 4], np.uint64))
    assert out.tolist() == [0.0, 9.0, 4.0]
    for bad in (2**64 - 1, 2**63, 10):
        idx = np.array([1, bad, 2], np.uint64)
        for run in (lambda: gather[3](out, a, idx), lambda: gather.interpret(3, out, a, idx)):
            with pytest.raises(IndexError, match=f"index {bad} is out of bounds for axis 0 "
                                                 "with size 10"):
                run()
    signed = np.zeros(3)
    gather[3](signed, a, np.array([-1, -10, 0], np.int64))  # int64 still counts from the end
    assert signed.tolist() == [9.0, 0.0, 0.0]


@pytest.mark.parametrize("form", ["vectorize", "kernel", "reduce"])
def test_exit_while_a_daemon_thread_runs_a_kernel(tmp_path, form):
    # Row 2: "terminate called without an active exception" (the GIL retaken
    # in a noexcept destructor while Python exits) or SIGSEGV (the code freed
    # under the running thread). Exit status 0, as with np.sin.
    source = """
        import sys, threading, time, numpy as np, ember

        @ember.vectorize
        def heavy(x):
            return np.sin(x) * np.cos(x) + np.exp(-x * x)

        @ember.reduce("+")
        def total(x):
            return np.sin(x) * x

        @ember.kernel
        def spin(out, n):
            i = ember.tid()
            acc = 0.0
            for j in range(n):
                acc += j * 0.5
            out[i] = acc

        x = np.random.rand(3_000_000)
        out = np.zeros(64)
        calls = {"vectorize": lambda: heavy(x), "reduce": lambda: total(x),
                 "kernel": lambda: spin[64](out, 2_000_000)}
        call = calls[FORM]
        call()
        def work():
            while True:
                call()
        threading.Thread(target=work, daemon=True).start()
        time.sleep(0.2)
        print("exiting")
    """.replace("FORM", repr(form))
    for _ in range(3):
        code, out, err = run_script(tmp_path, source)
        assert code == 0 and out.strip() == "exiting", err[-2000:]
