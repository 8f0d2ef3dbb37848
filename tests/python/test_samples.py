"""The samples run and pass their own correctness checks."""

import os
import pathlib
import subprocess
import sys

import pytest

SAMPLES = pathlib.Path(__file__).resolve().parents[2] / "samples"


@pytest.mark.parametrize("script, args", [("demo.py", ["20000"]), ("inspect_stages.py", []),
                                          ("reductions.py", ["200000"]),
                                          ("mandelbrot.py", ["120"]),
                                          ("histogram.py", ["300000"]), ("jacobi.py", ["300", "5"]),
                                          ("dask_blackscholes.py", ["300000"])])
def test_sample_runs(script, args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run([sys.executable, str(SAMPLES / script), *args], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "matches NumPy" in proc.stdout


def test_gpu_sample():
    # On a machine with a GPU it checks its results; without one it shows the PTX.
    import ember
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run([sys.executable, str(SAMPLES / "gpu.py"), "100000"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    if ember.cuda.is_available():
        assert "matches NumPy" in proc.stdout
    else:
        assert "no GPU here" in proc.stdout and ".entry ember_triad_cuda(" in proc.stdout
