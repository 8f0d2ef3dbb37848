"""CUDA code without a GPU: PTX for every operator and dtype, every cast,
every kernel form and the sample kernels, each accepted by NVIDIA's `ptxas`
for sm_80 and sm_90 (skipped when ptxas is not installed); what the PTX
module promises (one visible entry, the architecture asked for); and the
errors of `inspect("ptx")`.
"""

import importlib.util
import os
import re
import shutil
import subprocess
import tempfile

import numpy as np
import pytest

import ember
from ember import _jit, bench_kernels

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float32", "float64"]
ARCHS = ["sm_80", "sm_90"]
PTXAS = shutil.which("ptxas") or (os.path.exists("/usr/local/cuda/bin/ptxas")
                                  and "/usr/local/cuda/bin/ptxas")

COMPARE = ["x == y", "x != y", "x < y", "x <= y", "x > y", "x >= y", "min(x, y)", "max(x, y)",
           "np.minimum(x, y)", "np.maximum(x, y)", "x if x > y else y", "x + y", "x * y"]
ARITH = ["x - y", "x / y", "x // y", "x % y", "x ** y", "-x", "abs(x)"]
BITS = ["x & y", "x | y", "x ^ y", "~x"]
SHIFTS = ["x << y", "x >> y"]
MATH = [f"np.{f}(x)" for f in (
    "sqrt cbrt exp exp2 expm1 log log2 log10 log1p sin cos tan arcsin arccos arctan sinh cosh "
    "tanh arcsinh arccosh arctanh floor ceil trunc rint isnan isinf isfinite signbit").split()]
MATH += ["np.arctan2(x, y)", "np.hypot(x, y)", "np.fmod(x, y)", "np.copysign(x, y)",
         "np.power(x, y)", "math.erf(x)", "math.erfc(x)"]


def expressions(dtype):
    kind = np.dtype(dtype).kind
    exprs = list(COMPARE) + [f"np.{t}(x)" for t in DTYPES if t != "bool"] + ["bool(x)"]
    if kind != "b":
        exprs += ARITH + MATH
    if kind in "biu":
        exprs += BITS
    if kind in "iu":
        exprs += SHIFTS
    return exprs


def kernel_source(dtype):
    lines = [f"@ember.kernel\ndef ops_{dtype}(out, a, b):", "    i = ember.tid()",
             "    x = a[i]", "    y = b[i]"]
    lines += [f"    out[{k}, i] = {e}" for k, e in enumerate(expressions(dtype))]
    return "\n".join(lines)


FORMS = '''
@ember.kernel
def loops(out, x, n):
    i, j = ember.tid()
    s = 0.0
    for k in range(n):
        if k % 3 == 0:
            continue
        s += x[i, k % x.shape[1]]
    for k in range(n, 0, -2):
        s -= 1.0
    t = 0
    while t < n:
        t += 1
        if s > 1e9:
            break
    out[i, j] = s + t
    out[-1, -1] = x[-1, 0]


@ember.kernel
def three_d(out, x):
    i, j, k = ember.tid()
    out[i, j, k, 0] = x[i, j, k, 0] * 2.0 + out.shape[3] + x.ndim
    if i == 0:
        return


@ember.kernel(boundscheck=True)
def checked(out, x):
    i = ember.tid()
    out[i] = x[i + 1]


@ember.kernel(fastmath=True)
def fast(out, x):
    i = ember.tid()
    out[i] = np.exp(x[i]) / (1.0 + x[i] * x[i])


@ember.vectorize
def scaled(x, a):
    return a * x + 1


@ember.vectorize
def is_big(x):
    return x > 0.5
'''

ATOMICS = '''
@ember.kernel
def atomics_{d}(acc, x):
    i = ember.tid()
    ember.atomic_add(acc, 0, x[i])
    ember.atomic_min(acc, 1, x[i])
    ember.atomic_max(acc, 2, x[i])
'''

_DIR = tempfile.mkdtemp(prefix="ember_test_ptx_")


def load(source, name):
    path = os.path.join(_DIR, name + ".py")
    with open(path, "w") as f:
        f.write("import math\nimport numpy as np\nimport ember\n\n" + source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sample(dtype, n):
    if dtype == "bool":
        return np.arange(n) % 2 == 0
    return (np.arange(n) % 5 + 1).astype(dtype)


def compiled_kernels():
    """(name, compiled specialization) for every case, each compiled on the CPU first."""
    cases = []
    for dtype in DTYPES:
        kernel = getattr(load(kernel_source(dtype), f"ops_{dtype}"), f"ops_{dtype}")
        a, b = sample(dtype, 8), sample(dtype, 8)
        kernel[8](np.zeros((len(expressions(dtype)), 8)), a, b)
        cases.append((f"ops_{dtype}", kernel._compiled[-1][1]))
    forms = load(FORMS, "forms")
    forms.loops[(4, 3)](np.zeros((4, 3)), np.ones((4, 5)), 7)
    forms.three_d[(2, 2, 2)](np.zeros((2, 2, 2, 2)), np.ones((2, 2, 2, 3)))
    forms.checked[3](np.zeros(3), np.ones(4))
    forms.fast[3](np.zeros(3), np.ones(3))
    forms.scaled(np.ones(3, np.float32), 2)
    forms.is_big(np.ones(3))
    for name in ("loops", "three_d", "checked", "fast"):
        cases.append((name, getattr(forms, name)._compiled[-1][1]))
    for name in ("scaled", "is_big"):
        cases.append((name, getattr(forms, name)._compiled[-1][2]))
    for dtype in ("int32", "int64", "uint32", "uint64", "float32", "float64"):
        kernel = getattr(load(ATOMICS.format(d=dtype), f"atomics_{dtype}"), f"atomics_{dtype}")
        kernel[4](np.zeros(3, dtype), np.ones(4, dtype))
        cases.append((f"atomics_{dtype}", kernel._compiled[-1][1]))
    samples = ember_samples()
    return cases + [(name, k._compiled[-1][1]) for name, k in samples]


def ember_samples():
    img = np.zeros((4, 6), np.int32)
    bench_kernels.mandelbrot[img.shape](img, -2.0, -1.5, 0.5, 0.5, 10)
    counts, scratch = np.zeros(4, np.int64), np.zeros((2, 4), np.int64)
    bench_kernels.histogram_chunked[2](counts, np.random.default_rng(0).random(10), 5, scratch)
    u = np.ones((5, 5))
    bench_kernels.jacobi_sweep[(3, 3)](np.zeros_like(u), u)
    return [("mandelbrot", bench_kernels.mandelbrot), ("histogram", bench_kernels.histogram_chunked),
            ("jacobi", bench_kernels.jacobi_sweep)]


CASES = compiled_kernels()


@pytest.mark.skipif(not PTXAS, reason="ptxas (CUDA toolkit) not installed")
@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("name,compiled", CASES, ids=[name for name, _ in CASES])
def test_ptxas_accepts(name, compiled, arch, tmp_path):
    code = _jit.ptx(compiled, arch)
    assert code.arch == arch
    assert f".target {arch}" in code.ptx
    # One launchable entry; everything else (libdevice included) is internal.
    assert code.ptx.count(".entry") == 1 and f".visible .entry {code.entry}(" in code.ptx
    assert "__nvvm_reflect" not in code.ptx
    path = tmp_path / f"{name}.ptx"
    path.write_text(code.ptx)
    proc = subprocess.run([PTXAS, f"-arch={arch}", str(path), "-o", str(tmp_path / "out.cubin")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_math_links_libdevice():
    compiled = dict(CASES)["ops_float64"]
    text = _jit.gpu_llvm_ir(compiled, "sm_90")
    # libdevice's code is linked in (and inlined): only LLVM intrinsics stay declared.
    declared = [line for line in text.splitlines() if line.startswith("declare ")]
    assert declared and all("@llvm." in line for line in declared), declared
    assert "@__cudart_i2opi_d = internal" in text  # libdevice's table for sin/cos/tan


def test_inspect_ptx_and_defaults():
    @ember.vectorize
    def triad(x, y):
        return x + 3.0 * y

    x = np.ones(4)
    triad(x, x)
    newest = max((a for a in _jit.gpu_archs() if a[3:].isdigit()), key=lambda a: int(a[3:]))
    assert f".target {newest}" in triad.inspect("ptx")
    assert ".target sm_80" in triad.inspect("ptx", arch=80)
    assert "fma.rn.f64" not in triad.inspect("ptx", arch="sm_80")  # IEEE: no contraction
    assert "nvptx64-nvidia-cuda" in triad.inspect("cuda-llvm", arch="sm_80")
    with pytest.raises(ValueError, match="unknown GPU architecture 'sm_12'"):
        triad.inspect("ptx", arch="sm_12")
    with pytest.raises(ValueError, match="unknown CPU 'sm_80'"):
        triad.inspect("asm", arch="sm_80")
    with pytest.raises(ValueError, match="arch= applies to the stages 'llvm', 'asm'"):
        triad.inspect("ir", arch="sm_80")
    with pytest.raises(TypeError, match="arch must be"):
        triad.inspect("ptx", arch=8.0)
    with pytest.raises(ValueError, match="unknown stage 'cubin'"):
        triad.inspect("cubin")


REDUCE_CASES = [(op, dtype, fastmath) for op in ["+", "*", "min", "max"]
                for dtype in ["bool", "int8", "int32", "uint64", "float32", "float64"]
                for fastmath in ([False, True] if op == "+" else [False])]


def exp_times(x, y):
    return np.exp(x) * y


def first(x, y):
    return x


@pytest.mark.skipif(not PTXAS, reason="ptxas (CUDA toolkit) not installed")
@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("op,dtype,fastmath", REDUCE_CASES)
def test_reduce_ptx(op, dtype, fastmath, arch, tmp_path):
    # Three kernels (tiles, merge, finish) of 256-thread blocks: warp
    # shuffles, then a block combine through shared memory.
    mapped = ember.reduce(op, fastmath=fastmath)(exp_times if dtype.startswith("float") else first)
    mapped(np.ones(4, dtype), 2)
    code = _jit.ptx(mapped._compiled[-1][2], arch)
    entries = [line.split()[2].split("(")[0] for line in code.ptx.splitlines()
               if line.startswith(".visible .entry")]
    assert entries == [code.entry, code.entry + "_merge", code.entry + "_finish"]
    assert code.ptx.count(".reqntid 256, 1, 1") == 3
    for kernel in code.ptx.split(".visible .entry")[1:3]:
        assert "shfl.sync.down.b32" in kernel and "bar.sync" in kernel and ".shared" in kernel
    path = tmp_path / "reduce.ptx"
    path.write_text(code.ptx)
    proc = subprocess.run([PTXAS, f"-arch={arch}", str(path), "-o", str(tmp_path / "out.cubin")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("arch", ["sm_30", "sm_50", "sm_61", "sm_70"])
def test_old_archs_get_a_ptx_isa_with_warp_shuffles(arch):
    """LLVM's default PTX ISA for sm_30 to sm_62 (5.0 or older) has no
    shfl.sync; ember asks for 6.0 there (LLVM stopped the process with
    "Cannot select" instead). CUDA 13's ptxas no longer assembles these
    archs, so the check is on the text."""
    mapped = ember.reduce("+")(exp_times)
    mapped(np.ones(4, np.float32), 2)
    code = _jit.ptx(mapped._compiled[-1][2], arch)
    version = float(re.search(r"^\.version (\d+\.\d+)", code.ptx, re.M).group(1))
    assert version >= 6.0 and f".target {arch}" in code.ptx
    assert "shfl.sync.down.b32" in code.ptx
    with pytest.raises(ValueError, match="unknown GPU architecture 'sm_21'; ember targets sm_30 "):
        _jit.ptx(mapped._compiled[-1][2], "sm_21")


@pytest.mark.skipif(not PTXAS, reason="ptxas (CUDA toolkit) not installed")
def test_gpu_kernel_ptx_without_a_launch(tmp_path):
    """A target="cuda" kernel cannot launch here (no GPU), but its PTX for
    a launch's arguments can be inspected."""
    gpu = ember.kernel(target="cuda")(bench_kernels.mandelbrot.py_func)
    img = np.zeros((4, 6), np.int32)
    args = (img, -2.0, -1.5, 0.5, 0.5, 10)
    with pytest.raises(ValueError, match="launch it first, or pass domain= and args="):
        gpu.inspect("ptx")
    for partial in ({"args": args}, {"domain": img.shape}):
        with pytest.raises(TypeError, match="takes domain= and args= together"):
            gpu.inspect("ptx", **partial)
    code = gpu.inspect("ptx", arch="sm_80", domain=img.shape, args=args)
    assert ".visible .entry ember_mandelbrot_cuda" in code and ".target sm_80" in code
    assert gpu.inspect("ir", domain=img.shape, args=args).startswith("kernel mandelbrot(img: i32[2]")
    assert gpu.signatures == ["[2-d](int32[xx], float64, float64, float64, float64, int64)"]
    # a launch copies a NumPy array to a contiguous one on the GPU: a strided
    # view inspects as that same specialization, not a strided one
    assert gpu.inspect("ir", domain=(4, 3), args=(img[:, ::2],) + args[1:]) == \
        gpu.inspect("ir", domain=img.shape, args=args)
    assert len(gpu.signatures) == 1
    path = tmp_path / "mandelbrot.ptx"
    path.write_text(code)
    proc = subprocess.run([PTXAS, "-arch=sm_80", str(path), "-o", str(tmp_path / "out.cubin")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def entry_params(ptx, entry):
    head = ptx.split(f".entry {entry}(")[1].split(")")[0]
    return head.count(".param")


@pytest.mark.skipif(not PTXAS, reason="ptxas (CUDA toolkit) not installed")
@pytest.mark.parametrize("strided", [1, 2, 3])
def test_strided_entries_ptx(strided, tmp_path):
    # The strided ABI (codegen.h): each array pointer followed by its byte
    # strides, the extents after the output (or the partials).
    mapped = ember.reduce("+")(exp_times)
    mapped(np.ones(4, np.float32), np.ones(4, np.float32))
    forms = load(FORMS, "forms_strided")
    forms.scaled(np.ones(3, np.float32), 2)  # a scalar-layout parameter
    forms.is_big(np.ones(3))                 # a bool result
    for compiled, params in [
            (forms.scaled._compiled[-1][2], 1 + strided + 1 + 1 + strided + strided + 1),
            (forms.is_big._compiled[-1][2], 2 * (1 + strided) + strided + 1),
            (mapped._compiled[-1][2], 2 * (1 + strided) + 1 + strided + 3)]:
        code = _jit.ptx(compiled, "sm_90", strided)
        assert entry_params(code.ptx, code.entry) == params
        path = tmp_path / "strided.ptx"
        path.write_text(code.ptx)
        proc = subprocess.run([PTXAS, "-arch=sm_90", str(path), "-o", str(tmp_path / "out.cubin")],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    with pytest.raises(ValueError, match="strided: 0 to 64 axes, got -1"):
        _jit.ptx(compiled, "sm_90", -1)


def test_math_without_libdevice_is_a_clear_error(monkeypatch):
    compiled = dict(CASES)["ops_float32"]
    monkeypatch.setenv("EMBER_LIBDEVICE", "/nonexistent/libdevice.10.bc")
    with pytest.raises(RuntimeError, match="comes from libdevice .* EMBER_LIBDEVICE"):
        _jit.ptx(compiled, "sm_80")
    # Kernels without math need no libdevice.
    assert ".entry" in _jit.ptx(dict(CASES)["jacobi"], "sm_80").ptx
