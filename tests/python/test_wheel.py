"""The installed wheel (issue 25): tools/wheel builds it, installs it into a
fresh virtual environment and runs this file there with EMBER_TEST_WHEEL=1,
along with suites that compile, run and link ahead of time. Skipped in the
development build, whose extensions link Debian's shared libLLVM."""

import glob
import os
import subprocess

import numpy as np
import pytest

import ember

pytestmark = pytest.mark.skipif(os.environ.get("EMBER_TEST_WHEEL") != "1",
                                reason="checks an installed wheel (tools/wheel)")

PACKAGE = os.path.dirname(os.path.abspath(ember.__file__))
# What a machine without LLVM's, spdlog's or their dependencies' packages lacks.
FOREIGN = ("libLLVM", "liblld", "libspdlog", "libfmt", "libz3", "libzstd", "libz.so",
           "libedit", "libxml2", "libffi", "libtinfo")


def test_the_installed_package_is_under_test():
    assert "site-packages" in PACKAGE, PACKAGE


@pytest.mark.parametrize("extension", ["_core", "_jit"])
def test_extensions_need_only_the_c_and_cxx_runtimes(extension):
    path, = glob.glob(os.path.join(PACKAGE, f"{extension}.*.so"))
    needed = subprocess.run(["ldd", path], capture_output=True, text=True, check=True).stdout
    assert "not found" not in needed, needed
    found = [lib for lib in FOREIGN if lib in needed]
    assert not found, f"{extension} needs {found}:\n{needed}"


def test_compiles_with_the_llvm_inside():
    f = ember.vectorize(lambda x, y: x * y + 1.0, cache=False)
    x = np.linspace(0.0, 1.0, 1001)
    np.testing.assert_array_equal(f(x, x), x * x + 1.0)
    assert ember._core.versions()["llvm"].startswith("19.")


def test_the_ahead_of_time_runtime_is_installed():
    assert os.path.getsize(os.path.join(PACKAGE, "ember_aot_runtime.o")) > 0
