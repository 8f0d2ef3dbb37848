"""pytest setup for ember's Python suites: makes `import ember` find the
package in python/ when PYTHONPATH is not set, and builds the fake CUDA
driver for the GPU path's host-side tests.

EMBER_TEST_TARGET=cuda runs the suites on the GPU instead: @ember.vectorize,
@ember.kernel and @ember.reduce default to target="cuda" (on a machine with
a GPU, e.g. `EMBER_TEST_TARGET=cuda pytest tests/python/test_values.py
tests/python/test_kernel.py tests/python/test_reduce.py
tests/python/test_cuda_gpu.py`)."""

import os
import sys

# The disk cache of this run: a fresh folder, so that the suites compile what
# they test (and fill no user's cache); the subprocesses they start share it.
if "EMBER_CACHE_DIR" not in os.environ:
    import tempfile
    os.environ["EMBER_CACHE_DIR"] = tempfile.mkdtemp(prefix="ember-test-cache-")

# The ember under test: the one PYTHONPATH names when set (tools/sanitize's
# ASan build), the installed one under EMBER_TEST_WHEEL=1 (tools/wheel),
# python/'s otherwise.
_PYTHON_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "python"))
if not os.environ.get("PYTHONPATH") and os.environ.get("EMBER_TEST_WHEEL") != "1" and \
        _PYTHON_DIR not in sys.path:
    sys.path.insert(0, _PYTHON_DIR)
import ember  # noqa: E402

# The folder holding the ember under test: what subprocesses put on their path.
EMBER_PATH = os.path.dirname(os.path.dirname(os.path.abspath(ember.__file__)))

TARGET = os.environ.get("EMBER_TEST_TARGET", "cpu")
if TARGET == "cuda":
    import functools

    import ember

    ember.vectorize = functools.partial(ember.vectorize, target="cuda")
    ember.kernel = functools.partial(ember.kernel, target="cuda")
    ember.reduce = functools.partial(ember.reduce, target="cuda")


import shutil  # noqa: E402
import subprocess  # noqa: E402

import pytest  # noqa: E402

FAKE_CUDA_DIR = os.path.join(os.path.dirname(__file__), "fake_cuda")


@pytest.fixture(scope="session")
def fake_cuda_driver(tmp_path_factory):
    """A fake CUDA driver (fake_cuda/fake_cuda.c) built for this run: a path
    to hand to ember through $EMBER_CUDA_DRIVER, in a fresh interpreter."""
    return _build_fake_driver(tmp_path_factory)


@pytest.fixture(scope="session")
def old_fake_cuda_driver(tmp_path_factory):
    """The fake driver as a driver older than CUDA 11.2: no memory pools."""
    return _build_fake_driver(tmp_path_factory, "-DFAKE_CUDA_BEFORE_POOLS")


def _build_fake_driver(tmp_path_factory, *flags):
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.skip("no C compiler for the fake CUDA driver")
    out = tmp_path_factory.mktemp("fake_cuda") / "libcuda.so"
    subprocess.run([cc, "-shared", "-fPIC", *flags, os.path.join(FAKE_CUDA_DIR, "fake_cuda.c"),
                    "-o", str(out)], check=True)
    return str(out)


def pytest_collection_modifyitems(config, items):
    """Under EMBER_TEST_TARGET=cuda, tests marked cpu_code (they read the
    CPU's LLVM IR or assembly) are skipped; their values are the GPU's too."""
    if TARGET != "cuda":
        return
    skip = pytest.mark.skip(reason="checks CPU code generation (EMBER_TEST_TARGET=cuda)")
    for item in items:
        if "cpu_code" in item.keywords:
            item.add_marker(skip)


def run_with_driver(driver, script, mode=0, cwd=None, args=()):
    """Runs Python file `script` (with `args`) with ember loading `driver`;
    its stdout, stderr and exit code."""
    env = dict(os.environ, EMBER_CUDA_DRIVER=driver, FAKE_CUDA_MODE=str(mode),
               PYTHONPATH=os.pathsep.join([EMBER_PATH] + [p for p in sys.path if p]))
    proc = subprocess.run([sys.executable, script, *args], env=env, capture_output=True, text=True,
                          cwd=cwd, timeout=300)
    return proc.stdout, proc.stderr, proc.returncode
