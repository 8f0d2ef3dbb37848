"""The GPU suite: ember's CUDA path on a real NVIDIA GPU (skipped without one).

The value suites run on the GPU too: EMBER_TEST_TARGET=cuda makes
@ember.vectorize, @ember.kernel and @ember.reduce default to target="cuda"
(conftest.py), so `EMBER_TEST_TARGET=cuda pytest tests/python/test_values.py
tests/python/test_kernel.py tests/python/test_reduce.py
tests/python/test_cuda_gpu.py` checks every operator x dtype, edge values,
broadcasting, strides, the kernel constructs and the reductions against
NumPy on the GPU. This file adds what only a GPU has: device arrays in place,
interop with CuPy and PyTorch, the sample kernels, atomics under contention,
and the error paths (out of memory, a faulting kernel).
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import ember
from ember import ulp

pytestmark = pytest.mark.skipif(not ember.cuda.is_available(),
                                reason="no CUDA GPU: " + ember.cuda.unavailable_reason())

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float32", "float64"]


def triad(x, y):
    return x + 3.0 * y


@pytest.mark.parametrize("dtype", DTYPES)
def test_device_round_trip(dtype):
    a = (np.arange(1000) % 7).astype(dtype).reshape(10, 100)
    d = ember.cuda.to_device(a)
    assert d.shape == a.shape and d.dtype == a.dtype
    np.testing.assert_array_equal(d.to_host(), a)
    np.testing.assert_array_equal(d.copy().to_host(), a)


def test_device_arrays_stay_on_the_device():
    f, cpu = ember.vectorize(target="cuda")(triad), ember.vectorize(triad)
    x = np.random.default_rng(0).standard_normal(1 << 20)
    dx = ember.cuda.to_device(x)
    y = f(dx, dx)
    assert isinstance(y, ember.cuda.DeviceArray)
    z = f(y, dx)  # chained on the GPU
    ember.cuda.synchronize()
    np.testing.assert_array_equal(z.to_host(), cpu(cpu(x, x), x))
    out = ember.cuda.empty(x.shape)
    assert f(dx, 2.0, out=out) is out
    np.testing.assert_array_equal(out.to_host(), cpu(x, 2.0))


def test_cupy_interop():
    cp = pytest.importorskip("cupy")
    f = ember.vectorize(target="cuda")(triad)
    a = cp.arange(1 << 16, dtype=cp.float32)
    y = f(a, a)
    assert isinstance(y, ember.cuda.DeviceArray)
    back = cp.asarray(y)  # zero copy through __cuda_array_interface__
    assert back.data.ptr == y.ptr
    cp.testing.assert_array_equal(back, a + 3.0 * a)


def test_torch_interop():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("PyTorch without CUDA")
    f = ember.vectorize(target="cuda")(triad)
    t = torch.arange(1 << 16, dtype=torch.float64, device="cuda")
    y = f(t, t)
    shared = torch.from_dlpack(y)  # zero copy through DLPack
    assert shared.data_ptr() == y.ptr
    assert torch.equal(shared, t + 3.0 * t)

    @ember.kernel(target="cuda")
    def scale(x, a):
        i = ember.tid()
        x[i] = x[i] * a

    scale[t.shape[0]](t, 2.0)  # in place in the tensor's memory
    torch.cuda.synchronize()
    assert torch.equal(t, 2.0 * torch.arange(1 << 16, dtype=torch.float64, device="cuda"))


def _sample(name):
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "samples"))
    try:
        return __import__(name)
    finally:
        sys.path.pop(0)


def test_sample_kernels_on_the_gpu():
    mandelbrot = _sample("mandelbrot")
    histogram = _sample("histogram")
    # IEEE on both sides (the sample uses fastmath, which lets each contract differently).
    cpu_m = ember.kernel(target="cpu")(mandelbrot.mandelbrot.py_func)
    gpu_m = ember.kernel(target="cuda")(mandelbrot.mandelbrot.py_func)
    img_cpu, img_gpu = np.zeros((200, 300), np.int32), np.zeros((200, 300), np.int32)
    args = (-2.0, -1.5, 3.0 / 300, 3.0 / 200, 200)
    cpu_m[img_cpu.shape](img_cpu, *args)
    gpu_m[img_gpu.shape](img_gpu, *args)
    np.testing.assert_array_equal(img_gpu, img_cpu)
    # Atomics under contention: a million threads on 16 bins.
    gpu_h = ember.kernel(target="cuda")(histogram.histogram_simple.py_func)
    x = np.random.default_rng(1).random(1 << 20)
    counts = ember.cuda.zeros(16, np.int64)
    gpu_h[x.size](counts, ember.cuda.to_device(x), 0.0, 1.0 / 16)
    np.testing.assert_array_equal(counts.to_host(), np.bincount((x * 16).astype(int), minlength=16))


def test_float_atomics():
    @ember.kernel(target="cuda")
    def total(out, x):
        i = ember.tid()
        ember.atomic_add(out, 0, x[i])
        ember.atomic_max(out, 1, x[i])

    x = np.arange(1 << 16, dtype=np.float64)
    out = np.zeros(2)
    total[x.size](out, x)
    assert out[0] == x.sum() and out[1] == x.max()  # integers: exact in any order


def test_boundscheck_on_the_gpu():
    @ember.kernel(target="cuda", boundscheck=True)
    def shift(out, x):
        i = ember.tid()
        out[i] = x[i + 1]

    with pytest.raises(IndexError, match="index 10 is out of bounds for axis 0 with size 10"):
        shift[10](np.zeros(10), np.ones(10))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64"])
def test_reduce_on_the_gpu(dtype):
    def dot(x, y):
        return x * y

    rng = np.random.default_rng(3)
    x = (rng.standard_normal(3_000_001) * 100).astype(dtype)
    y = (rng.standard_normal(3_000_001) * 100).astype(dtype)
    gpu, cpu = ember.reduce("+", target="cuda")(dot), ember.reduce("+")(dot)
    got = gpu(x, y)
    assert got.dtype == cpu(x, y).dtype
    if dtype.startswith("int"):
        assert got == cpu(x, y)
    else:  # compensated on both sides: both within an ulp or so of the exact sum
        np.testing.assert_allclose(got, cpu(x, y), rtol=1e-6 if dtype == "float32" else 1e-13)
    # Launch-independent: the same bits on device arrays, every time.
    dx, dy = ember.cuda.to_device(x), ember.cuda.to_device(y)
    assert all(gpu(dx, dy) == got for _ in range(3))
    for op, ref in [("min", np.min), ("max", np.max)]:
        assert ember.reduce(op, target="cuda")(dot)(x, y) == ref(x * y)


def _view(base, shape, strides, offset=0):
    """A strided view of a device array, as CuPy or PyTorch hand them over."""
    return ember.cuda.DeviceArray(shape, base.dtype, base.device, _ptr=base.ptr + offset,
                                  _owner=base, _strides=strides)


def test_strided_and_broadcast_device_arrays():
    f, cpu = ember.vectorize(target="cuda")(triad), ember.vectorize(triad)
    m = np.random.default_rng(4).standard_normal((300, 500))
    dm, row = ember.cuda.to_device(m), ember.cuda.to_device(m[0])
    cases = [((_view(dm, (500, 300), (8, 4000)), 2.0), (m.T, 2.0)),
             ((_view(dm, (500,), (-8,), 8 * (m.size - 1)), row), (m[-1, ::-1], m[0])),
             ((_view(dm, (300, 250), (4000, 16)), _view(dm, (300, 250), (4000, 16))),
              (m[:, ::2], m[:, ::2])),
             ((dm, row), (m, m[0])),
             ((dm, ember.cuda.to_device(m[:, :1])), (m, m[:, :1]))]
    for args, host_args in cases:
        got = f(*args)
        assert isinstance(got, ember.cuda.DeviceArray)
        np.testing.assert_array_equal(got.to_host(), cpu(*host_args))
    wide = ember.cuda.zeros((300, 500))
    f(m[:, ::2], 1.0, out=_view(wide, (300, 250), (4000, 16)))
    np.testing.assert_array_equal(wide.to_host()[:, ::2], cpu(m[:, ::2], 1.0))
    np.testing.assert_array_equal(_view(dm, (500, 300), (8, 4000)).to_host(), m.T)


@pytest.mark.parametrize("op", ["+", "*", "min", "max"])
def test_reduce_over_axes_on_the_gpu(op):
    def mapped(x, y):
        return x * y

    rng = np.random.default_rng(5)
    x = rng.uniform(0.5, 1.5, (40, 30, 20))
    gpu, cpu = ember.reduce(op, target="cuda")(mapped), ember.reduce(op)(mapped)
    for axis in [0, 1, 2, -1, (0, 2), (1, 2), (0, 1, 2)]:
        for y in [x, x[0], 1.25]:
            np.testing.assert_allclose(gpu(x, y, axis=axis), cpu(x, y, axis=axis), rtol=1e-13)
    d = ember.cuda.to_device(x)
    got = gpu(_view(d, (20, 30, 40), (8, 160, 4800)), 2.0, axis=0)  # x.T
    assert isinstance(got, ember.cuda.DeviceArray)
    np.testing.assert_allclose(got.to_host(), cpu(x.T, 2.0, axis=0), rtol=1e-13)
    # Rows of 5M: 1221 tiles each, merged per row.
    long_rows = rng.uniform(0.999, 1.001, (3, 5_000_000)).astype(np.float32)
    np.testing.assert_allclose(gpu(long_rows, 1.0, axis=1), cpu(long_rows, 1.0, axis=1),
                               rtol=1e-6)


@pytest.fixture(scope="module")
def gpu_ulp():
    return ulp.measure(points=20000, seed=1, target="cuda")


@pytest.mark.parametrize("name", sorted(ulp.CUDA_MAX_ULP))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gpu_math_within_nvidia_bounds(gpu_ulp, name, dtype):
    # NVIDIA's bounds are against the correctly rounded result; ulp.measure's
    # against the exact one: up to half an ulp more.
    bound = ulp.CUDA_MAX_ULP[name][dtype == "float64"] + 0.5
    err, where = gpu_ulp[(name, dtype)]
    assert err <= bound, f"{name} {dtype} on the GPU: {err:.2f} ulp at {where}"


def test_out_of_memory():
    with pytest.raises(MemoryError, match="asked for"):
        ember.cuda.empty(1 << 50, np.uint8)


def test_a_faulting_kernel_raises(tmp_path):
    script = tmp_path / "fault.py"
    script.write_text(textwrap.dedent("""
        import numpy as np, ember
        real = ember.cuda.zeros(4)
        class Bad:  # a real allocation (the driver knows its pointer), strides far beyond it
            __cuda_array_interface__ = {"shape": (64,), "typestr": "<f8", "strides": (1 << 40,),
                                        "data": (real.__cuda_array_interface__["data"][0], False),
                                        "version": 3}
        @ember.kernel(target="cuda")
        def fill(x):
            i = ember.tid()
            x[i] = 1.0
        try:
            fill[64](Bad())
            ember.cuda.synchronize()
        except ember.CudaError as e:
            print("CudaError", e.name, e)
    """))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "CudaError" in proc.stdout and "a kernel faulted" in proc.stdout
