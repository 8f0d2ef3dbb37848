"""ember.cuda without a GPU: the driver is loaded at run time, its absence is
a clear answer (is_available() False, CudaError from device_info), and a
driver's error codes become CudaError with the driver's name and message.
Fake drivers (small C libraries built here) stand in for libcuda.so.1 through
$EMBER_CUDA_DRIVER, each in a fresh interpreter (the driver loads once).
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

import ember

FAKE_DRIVER = r"""
#include <stdlib.h>
#include <string.h>
static int mode(void) { const char* m = getenv("FAKE_CUDA_MODE"); return m ? atoi(m) : 0; }
int cuInit(unsigned flags) { return mode() == 1 ? 100 : 0; }  /* CUDA_ERROR_NO_DEVICE */
int cuDriverGetVersion(int* v) { *v = 12040; return 0; }
int cuDeviceGetCount(int* n) { *n = 1; return 0; }
int cuDeviceGet(int* d, int ordinal) { *d = ordinal; return ordinal == 0 ? 0 : 101; }
int cuDeviceGetName(char* name, int len, int d) { strncpy(name, "Fake GPU", len); return 0; }
int cuDeviceGetAttribute(int* v, int attr, int d) {
  *v = attr == 75 ? 8 : attr == 76 ? 6 : attr == 16 ? 84 : 0; return 0; }
int cuDeviceTotalMem_v2(size_t* bytes, int d) { *bytes = (size_t)24 << 30; return 0; }
int cuGetErrorName(int e, const char** s) {
  *s = e == 100 ? "CUDA_ERROR_NO_DEVICE" : e == 101 ? "CUDA_ERROR_INVALID_DEVICE" : 0;
  return *s ? 0 : 1; }
int cuGetErrorString(int e, const char** s) {
  *s = e == 100 ? "no CUDA-capable device is detected" : "invalid device ordinal"; return 0; }
"""

PROBE = textwrap.dedent("""
    import json, numpy as np, ember
    out = {"available": ember.cuda.is_available(), "why": ember.cuda.unavailable_reason()}
    try:
        out["info"] = ember.cuda.device_info(0)
        out["arch"] = ember.cuda.default_arch()
        @ember.vectorize
        def f(x):
            return x + 1.0
        f(np.ones(2))
        out["target"] = [l for l in f.inspect("ptx").splitlines() if l.startswith(".target")]
        ember.cuda.device_info(1)
    except ember.CudaError as e:
        out["error"] = [str(e), e.name, e.code]
    print(json.dumps(out))
""")


@pytest.fixture(scope="module")
def fake_driver(tmp_path_factory):
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.skip("no C compiler for the fake driver")
    d = tmp_path_factory.mktemp("fake_cuda")
    (d / "fake.c").write_text(FAKE_DRIVER)
    subprocess.run([cc, "-shared", "-fPIC", str(d / "fake.c"), "-o", str(d / "libcuda.so")],
                   check=True)
    return str(d / "libcuda.so")


def probe(driver, mode=0):
    script = os.path.join(os.path.dirname(driver), f"probe_{mode}.py")  # kernels need a file
    with open(script, "w") as f:
        f.write(PROBE)
    env = dict(os.environ, EMBER_CUDA_DRIVER=driver, FAKE_CUDA_MODE=str(mode),
               PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run([sys.executable, script], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_no_driver(tmp_path):
    out = probe(str(tmp_path / "missing_libcuda.so.1"))
    assert out["available"] is False
    assert "cannot load the CUDA driver" in out["why"] and "missing_libcuda" in out["why"]
    message, name, code = out["error"]
    assert name == "no CUDA driver" and code == -1 and "cannot load" in message


def test_driver_error_names_the_driver_error(fake_driver):
    out = probe(fake_driver, mode=1)
    assert out["available"] is False
    message, name, code = out["error"]
    assert name == "CUDA_ERROR_NO_DEVICE" and code == 100
    assert message == ("cuInit failed: CUDA_ERROR_NO_DEVICE: no CUDA-capable device is "
                       "detected")


def test_device_info_and_default_arch(fake_driver):
    out = probe(fake_driver)
    assert out["available"] is True and out["why"] == ""
    assert out["info"] == {"name": "Fake GPU", "compute_capability": [8, 6],
                           "multiprocessors": 84, "total_memory": 24 << 30,
                           "driver_version": [12, 4]}
    assert out["arch"] == "sm_86" and out["target"] == [".target sm_86"]
    # A failing call after a good start: the driver's name, code and message.
    assert out["error"] == ["cuDeviceGet failed: CUDA_ERROR_INVALID_DEVICE: invalid device "
                            "ordinal", "CUDA_ERROR_INVALID_DEVICE", 101]


def test_this_process(monkeypatch):
    # Whatever this machine has, the answers agree with each other.
    if ember.cuda.is_available():
        assert ember.cuda.unavailable_reason() == "" and ember.cuda.device_count() >= 1
    else:
        assert ember.cuda.unavailable_reason()
        with pytest.raises(ember.CudaError):
            ember.cuda.device_info(0)
    with pytest.raises(ValueError, match="device must be an int"):
        ember.cuda.device_info(-1)
