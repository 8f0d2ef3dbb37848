"""ember.cuda without a GPU: the driver is loaded at run time, its absence is
a clear answer (is_available() False, CudaError from device_info), and a
driver's error codes become CudaError with the driver's name and message.
A fake driver (fake_cuda/fake_cuda.c, built by conftest) stands in for
libcuda.so.1 through $EMBER_CUDA_DRIVER, in a fresh interpreter each time
(the driver loads once per process).
"""

import json
import os
import textwrap

import pytest
from conftest import run_with_driver

import ember

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


def probe(driver, mode=0):
    script = os.path.join(os.path.dirname(driver), f"probe_{mode}.py")  # kernels need a file
    with open(script, "w") as f:
        f.write(PROBE)
    stdout, stderr, code = run_with_driver(driver, script, mode)
    assert code == 0, stderr
    return json.loads(stdout)


def test_no_driver(tmp_path):
    out = probe(str(tmp_path / "missing_libcuda.so.1"))
    assert out["available"] is False
    assert "cannot load the CUDA driver" in out["why"] and "missing_libcuda" in out["why"]
    message, name, code = out["error"]
    assert name == "no CUDA driver" and code == -1 and "cannot load" in message


def test_driver_error_names_the_driver_error(fake_cuda_driver):
    out = probe(fake_cuda_driver, mode=1)
    assert out["available"] is False
    message, name, code = out["error"]
    assert name == "CUDA_ERROR_NO_DEVICE" and code == 100
    assert message == ("cuInit failed: CUDA_ERROR_NO_DEVICE: no CUDA-capable device is "
                       "detected")


def test_device_info_and_default_arch(fake_cuda_driver):
    out = probe(fake_cuda_driver)
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
