"""The GPU part of the benchmark: ember's target="cuda" kernels against CuPy
(an ElementwiseKernel, and a device-to-device copy as the bandwidth ceiling)
and Triton, on the same device arrays in one run.

    python -m ember.bench --gpu [--markdown FILE]

Every result is checked against NumPy before anything is timed. Kernel times
are medians over batches of calls closed by a synchronization, so that the
host's launch cost overlaps the GPU's work as in a real program. Launch
overhead is the host time of one call on a 16-element device array (no
synchronization); a cold launch is the first call of a kernel no cache has
seen (compile, load, run, synchronize).
"""

import math
import os
import tempfile
import time
import uuid

import numpy as np

import ember
from . import _core, cuda
from .bench import black_scholes, check, dot, np_black_scholes, triad

GPU_TRIAD = ember.vectorize(target="cuda")(triad.py_func)
GPU_BLACK_SCHOLES = ember.vectorize(target="cuda")(black_scholes.py_func)
GPU_DOT = ember.reduce("+", target="cuda")(dot.py_func)

CUPY_TRIAD = ("float32 x, float32 y", "float32 out", "out = x + 3.0f * y")
CUPY_BLACK_SCHOLES = ("float32 s, float32 k, float32 t", "float32 out", """
    float sq = sqrtf(t);
    float d1 = (logf(s / k) + (0.02f + 0.5f * 0.09f) * t) / (0.3f * sq);
    float d2 = d1 - 0.3f * sq;
    float c1 = 0.5f * (1.0f + tanhf(0.7978845608f * (d1 + 0.044715f * d1 * d1 * d1)));
    float c2 = 0.5f * (1.0f + tanhf(0.7978845608f * (d2 + 0.044715f * d2 * d2 * d2)));
    out = s * c1 - k * expf(-0.02f * t) * c2;""")


def gpu_times(competitors, args, repeat, batch_seconds=0.02):
    """Median seconds per call of each competitor (GPU time included): batches
    of calls sized to about `batch_seconds`, each closed by a synchronization,
    timed round-robin."""
    batches = {}
    for who, fn in competitors.items():
        fn(*args)
        cuda.synchronize()
        t0 = time.perf_counter()
        fn(*args)
        cuda.synchronize()
        batches[who] = max(1, min(1000, int(batch_seconds / max(time.perf_counter() - t0, 1e-6))))
    times = {who: [] for who in competitors}
    for _ in range(repeat):
        for who, fn in competitors.items():
            t0 = time.perf_counter()
            for _ in range(batches[who]):
                fn(*args)
            cuda.synchronize()
            times[who].append((time.perf_counter() - t0) / batches[who])
    return {who: float(np.median(t)) for who, t in times.items()}


def host_overhead(fn, args, number=2000, repeat=7):
    """Best host time of one call (the work is queued, not waited for)."""
    fn(*args)
    cuda.synchronize()
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn(*args)
        best = min(best, (time.perf_counter() - t0) / number)
        cuda.synchronize()
    return best


def device_copy(src):
    """The bandwidth ceiling: a copy of `src` (one read and one write of the
    array, cuMemcpyDtoD) into a new array; (that array, a competitor)."""
    dst = cuda.empty(src.shape, src.dtype)
    return dst, lambda *a: _core.cuda_copy_on_device(0, dst.ptr, src.ptr, src.nbytes)


def load_cupy():
    try:
        import cupy
        cupy.cuda.runtime.getDeviceCount()
        return cupy
    except Exception:  # noqa: BLE001 - not installed or no usable GPU: reported as missing
        return None


def load_triton():
    try:
        import torch
        import triton
        import triton.language as tl
        if not torch.cuda.is_available():
            return None
    except Exception:  # noqa: BLE001 - reported as missing
        return None

    @triton.jit
    def triad_kernel(x, y, out, n, BLOCK: tl.constexpr):
        offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        mask = offs < n
        tl.store(out + offs, tl.load(x + offs, mask=mask) + 3.0 * tl.load(y + offs, mask=mask),
                 mask=mask)

    @triton.jit
    def black_scholes_kernel(s_ptr, k_ptr, t_ptr, out, n, BLOCK: tl.constexpr):
        offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        mask = offs < n
        s = tl.load(s_ptr + offs, mask=mask, other=1.0)
        k = tl.load(k_ptr + offs, mask=mask, other=1.0)
        t = tl.load(t_ptr + offs, mask=mask, other=1.0)
        sq = tl.sqrt(t)
        d1 = (tl.log(s / k) + (0.02 + 0.5 * 0.09) * t) / (0.3 * sq)
        d2 = d1 - 0.3 * sq
        # tanh(z) = 1 - 2 / (exp(2z) + 1): Triton has no portable tanh
        z1 = 0.7978845608 * (d1 + 0.044715 * d1 * d1 * d1)
        z2 = 0.7978845608 * (d2 + 0.044715 * d2 * d2 * d2)
        c1 = 0.5 * (2.0 - 2.0 / (tl.exp(2.0 * z1) + 1.0))
        c2 = 0.5 * (2.0 - 2.0 / (tl.exp(2.0 * z2) + 1.0))
        tl.store(out + offs, s * c1 - k * tl.exp(-0.02 * t) * c2, mask=mask)

    def launcher(kernel):
        def call(*args):
            n = args[-1].numel()
            kernel[(triton.cdiv(n, 1024),)](*args, n, BLOCK=1024)
        return call
    return torch, {"triad": launcher(triad_kernel),
                   "black_scholes": launcher(black_scholes_kernel)}


def kernel_rows(n, repeat, cupy, triton_kernels):
    rng = np.random.default_rng(7)
    u = lambda lo, hi: rng.uniform(lo, hi, n).astype(np.float32)
    cases = {"triad": (GPU_TRIAD, CUPY_TRIAD, (u(-1, 1), u(-1, 1)), triad.py_func),
             "black_scholes": (GPU_BLACK_SCHOLES, CUPY_BLACK_SCHOLES,
                               (u(10, 100), u(10, 100), u(0.1, 2)), np_black_scholes)}
    rows = []
    for name, (gpu, cupy_source, host_args, reference) in cases.items():
        want = reference(*host_args)
        args = [cuda.to_device(a) for a in host_args]
        out = cuda.empty(n, np.float32)
        results = {"ember": lambda: out.to_host()}
        competitors = {"ember": lambda *a: gpu(*a, out=out)}
        copy_out, competitors["copy"] = device_copy(args[0])
        if cupy is not None:
            cp_args = [cupy.asarray(a) for a in args]  # zero copy, __cuda_array_interface__
            cp_out, cp_copy = cupy.empty(n, np.float32), cupy.empty(n, np.float32)
            kernel = cupy.ElementwiseKernel(*cupy_source, name=f"cupy_{name}")
            competitors["CuPy"] = lambda *a: kernel(*cp_args, cp_out)
            competitors["CuPy copy"] = lambda *a: cupy.copyto(cp_copy, cp_args[0])
            results["CuPy"] = lambda: cupy.asnumpy(cp_out)
        if triton_kernels is not None:
            torch, kernels = triton_kernels
            t_args = [torch.from_dlpack(a) for a in args]  # zero copy, DLPack
            t_out = torch.empty(n, dtype=torch.float32, device="cuda")
            competitors["Triton"] = lambda *a: kernels[name](*t_args, t_out)
            results["Triton"] = lambda: t_out.cpu().numpy()
        for who, fn in competitors.items():
            fn(*args)
            if who in results:
                check(name, who, results[who](), want)
        cuda.synchronize()
        np.testing.assert_array_equal(copy_out.to_host(), host_args[0])
        times = gpu_times(competitors, args, repeat)
        nbytes = sum(a.nbytes for a in host_args) + want.nbytes
        rows.append((name, n, nbytes, times))
    rows.append(dot_row(n, repeat, cupy))
    return rows


def dot_row(n, repeat, cupy):
    """@ember.reduce("+") (compensated, float64 accumulation) against
    cupy.dot (cuBLAS); both wait for their scalar."""
    rng = np.random.default_rng(9)
    host_args = [rng.uniform(-1, 1, n).astype(np.float32) for _ in range(2)]
    want = np.dot(host_args[0].astype(np.float64), host_args[1].astype(np.float64))
    args = [cuda.to_device(a) for a in host_args]
    competitors = {"ember": GPU_DOT}
    competitors["copy"] = device_copy(args[0])[1]
    if cupy is not None:
        cp_args = [cupy.asarray(a) for a in args]
        competitors["CuPy"] = lambda *a: float(cupy.dot(*cp_args))
    for who in ("ember", "CuPy"):
        if who in competitors:
            got = competitors[who](*args)
            if not np.isclose(got, want, rtol=1e-4, atol=1e-3 * math.sqrt(n)):
                raise AssertionError(f"{who} gives wrong results for dot: {got} != {want}")
    return ("dot", n, sum(a.nbytes for a in host_args), gpu_times(competitors, args, repeat))


def launch_overheads(cupy, triton_kernels):
    x = cuda.to_device(np.arange(16, dtype=np.float32))
    out = cuda.empty(16, np.float32)
    times = {"ember": host_overhead(lambda: GPU_TRIAD(x, x, out=out), ())}
    np.testing.assert_array_equal(out.to_host(), 4 * np.arange(16, dtype=np.float32))
    if cupy is not None:
        kernel = cupy.ElementwiseKernel(*CUPY_TRIAD, name="cupy_triad16")
        cx, co = cupy.asarray(x), cupy.empty(16, np.float32)
        times["CuPy"] = host_overhead(lambda: kernel(cx, cx, co), ())
    if triton_kernels is not None:
        torch, kernels = triton_kernels
        tx, to = torch.from_dlpack(x), torch.empty(16, dtype=torch.float32, device="cuda")
        times["Triton"] = host_overhead(lambda: kernels["triad"](tx, tx, to), ())
    return times


def cold_child():
    """Seconds to the first result of a new Black-Scholes kernel (checked),
    with the CUDA context already up: run in a fresh interpreter, this
    includes loading LLVM and libdevice."""
    s = cuda.to_device(np.random.default_rng(8).uniform(10, 100, 1 << 16).astype(np.float32))
    cuda.synchronize()
    fresh = ember.vectorize(target="cuda")(black_scholes.py_func)
    t0 = time.perf_counter()
    got = fresh(s, s, s)
    cuda.synchronize()
    seconds = time.perf_counter() - t0
    host = s.to_host()
    check("cold black_scholes", "ember", got.to_host(), np_black_scholes(host, host, host))
    return seconds


def _ember_cold_fresh():
    return _fresh_interpreter("from ember.bench_gpu import cold_child\nprint(cold_child())\n")


def cold_launches(cupy, triton_available):
    """Seconds from nothing to the first result of a new Black-Scholes kernel:
    ember's in this process (its compiler loaded by the kernels before, as
    CuPy's is) and in a fresh interpreter (as Triton's is measured)."""
    times = {"ember": cold_child(), "ember (fresh process)": _ember_cold_fresh()}
    s = cuda.to_device(np.random.default_rng(8).uniform(10, 100, 1 << 16).astype(np.float32))
    if cupy is not None:
        # A source no cache has seen (CuPy keeps compiled kernels on disk).
        params, outs, body = CUPY_BLACK_SCHOLES
        kernel = cupy.ElementwiseKernel(params, outs, body + f"\n// {uuid.uuid4().hex}",
                                        name="cupy_black_scholes_cold")
        cs = cupy.asarray(s)
        t0 = time.perf_counter()
        kernel(cs, cs, cs)
        cupy.cuda.runtime.deviceSynchronize()
        times["CuPy"] = time.perf_counter() - t0
    if triton_available:
        # A fresh cache directory and a fresh interpreter: Triton caches on disk.
        times["Triton"] = _triton_cold()
    return times


def _fresh_interpreter(code, **env):
    """The last word `code` prints, run in a new interpreter."""
    import subprocess
    import sys
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p), **env)
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True)
    return float(proc.stdout.split()[-1])


def _triton_cold():
    code = ("import time, torch\n"
            "from ember.bench_gpu import load_triton\n"
            "torch_, kernels = load_triton()\n"
            "s = torch.rand(1 << 16, device='cuda') * 90 + 10\n"
            "out = torch.empty_like(s)\n"
            "torch.cuda.synchronize()\n"
            "t0 = time.perf_counter()\n"
            "kernels['black_scholes'](s, s, s, out)\n"
            "torch.cuda.synchronize()\n"
            "print(time.perf_counter() - t0)\n")
    return _fresh_interpreter(code, TRITON_CACHE_DIR=tempfile.mkdtemp(prefix="ember_triton_"))


def run(n=1 << 26, repeat=15):
    """The GPU tables as Markdown lines (a list), or None without a GPU."""
    if not cuda.is_available():
        return None
    cupy = load_cupy()
    triton_kernels = load_triton()
    rows = kernel_rows(n, repeat, cupy, triton_kernels)
    overheads = launch_overheads(cupy, triton_kernels)
    cold = cold_launches(cupy, triton_kernels is not None)
    info = cuda.device_info(0)
    versions = [f"CuPy {cupy.__version__}" if cupy else "CuPy not installed"]
    if triton_kernels:
        import triton
        versions.append(f"Triton {triton.__version__} (PyTorch {triton_kernels[0].__version__})")
    else:
        versions.append("Triton not installed")
    return format_report(rows, overheads, cold, info, versions)


def format_report(rows, overheads, cold, info, versions):
    who = ["ember", "CuPy", "Triton", "copy", "CuPy copy"]
    lines = [f"GPU: {info['name']} (sm_{info['compute_capability'][0]}"
             f"{info['compute_capability'][1]}), CUDA driver "
             f"{'.'.join(map(str, info['driver_version']))}; "
             + ", ".join(versions) + ".",
             "",
             "| kernel (float32) | n | " + " | ".join(f"{w} µs" for w in who) +
             " | ember TB/s | ember / best copy | CuPy/ember | Triton/ember |",
             "|---" * (len(who) + 6) + "|"]
    for name, n, nbytes, times in rows:
        copy_bytes = 2 * 4 * n  # one float32 array read and written
        best_copy = max(copy_bytes / times[w] for w in ("copy", "CuPy copy") if w in times)
        ember_bw = nbytes / times["ember"]
        cells = [f"{times[w] * 1e6:.1f}" if w in times else "—" for w in who]
        ratios = [f"{times[w] / times['ember']:.2f}x" if w in times else "—"
                  for w in ("CuPy", "Triton")]
        lines.append(f"| {name} | {n:,} | " + " | ".join(cells) +
                     f" | {ember_bw / 1e12:.2f} | {ember_bw / best_copy:.0%} | " +
                     " | ".join(ratios) + " |")
    lines += ["",
              "Host time of one call on a 16-element device array (queued, not waited for): " +
              ", ".join(f"{w} {t * 1e6:.1f} µs" for w, t in overheads.items()) + ".  ",
              "Cold first launch of a new Black-Scholes kernel (compile, load, run, "
              "synchronize): " + ", ".join(f"{w} {t * 1e3:.0f} ms" for w, t in cold.items()) + "."]
    return lines
