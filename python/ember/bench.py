"""Side-by-side benchmark: ember against NumPy, NumExpr, Numba and a C reference.

    python -m ember.bench [--n 10000000] [--repeat 15] [--markdown FILE]
    python -m ember.bench --gpu [--n 67108864] [--markdown FILE]   # bench_gpu.py

Every kernel runs on the same arrays in one process. Each competitor's result
is checked against NumPy's before it is timed; a competitor that is not
installed (numexpr, numba, a C compiler) is reported as missing. The C
reference is compiled on the spot with the system compiler
(`-O3 -march=native -ffast-math -fopenmp`, glibc's libmvec, one OpenMP thread
per core) and is the ceiling ember is measured against.
"""

import argparse
import ctypes
import datetime
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import timeit

# OpenMP threads (the C reference's, Numba's) spin after each parallel region
# by default and steal the cores the next competitor is timed on; make them
# sleep instead. Set before any OpenMP runtime loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np

import ember
from ember import isa

# --- the kernels, one definition per competitor ------------------------------------------------

C_SOURCE = r"""
#include <math.h>
#include <stdint.h>
#define LOOP _Pragma("omp parallel for simd schedule(static)") for (long i = 0; i < n; ++i)

void triad(long n, const double* x, const double* y, double* o) { LOOP o[i] = x[i] + 3.0 * y[i]; }
void trig(long n, const double* x, const double* y, const double* z, double* o) {
  LOOP o[i] = x[i] * y[i] + sin(z[i]) * cos(x[i]);
}
static inline float cdf(float d) {
  return 0.5f * (1.0f + tanhf(0.7978845608f * (d + 0.044715f * d * d * d)));
}
void black_scholes(long n, const float* s, const float* k, const float* t, float* o) {
  LOOP {
    float sq = sqrtf(t[i]);
    float d1 = (logf(s[i] / k[i]) + (0.02f + 0.5f * 0.09f) * t[i]) / (0.3f * sq);
    float d2 = d1 - 0.3f * sq;
    o[i] = s[i] * cdf(d1) - k[i] * expf(-0.02f * t[i]) * cdf(d2);
  }
}
void poly8(long n, const float* x, float* o) {
  LOOP {
    float v = x[i];
    o[i] = ((((((((0.5f * v + 0.25f) * v - 1.5f) * v + 2.0f) * v - 0.75f) * v + 1.25f) * v
              - 0.125f) * v + 3.0f) * v - 1.0f);
  }
}
void select_clip(long n, const double* x, const double* y, double* o) {
  LOOP {
    double p = x[i] * y[i];
    double c = p < -1.0 ? -1.0 : (p > 1.0 ? 1.0 : p);
    o[i] = x[i] > 0.5 ? c : y[i] - x[i];
  }
}
double dot(long n, const double* x, const double* y) {
  double s = 0.0;
  _Pragma("omp parallel for simd schedule(static) reduction(+:s)")
  for (long i = 0; i < n; ++i) s += x[i] * y[i];
  return s;
}
void hash_mix(long n, const uint64_t* x, uint64_t* o) {
  LOOP {
    uint64_t h = x[i];
    h ^= h >> 33; h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33; h *= 0xc4ceb9fe1a85ec53ULL;
    o[i] = h ^ (h >> 33);
  }
}
"""


@ember.vectorize
def triad(x, y):
    return x + 3.0 * y


@ember.vectorize
def trig(x, y, z):
    return x * y + math.sin(z) * math.cos(x)


@ember.vectorize
def black_scholes(s, k, t):
    sq = math.sqrt(t)
    d1 = (math.log(s / k) + (0.02 + 0.5 * 0.09) * t) / (0.3 * sq)
    d2 = d1 - 0.3 * sq
    cdf1 = 0.5 * (1.0 + math.tanh(0.7978845608 * (d1 + 0.044715 * d1 * d1 * d1)))
    cdf2 = 0.5 * (1.0 + math.tanh(0.7978845608 * (d2 + 0.044715 * d2 * d2 * d2)))
    return s * cdf1 - k * math.exp(-0.02 * t) * cdf2


@ember.vectorize
def poly8(v):
    return ((((((((0.5 * v + 0.25) * v - 1.5) * v + 2.0) * v - 0.75) * v + 1.25) * v
              - 0.125) * v + 3.0) * v - 1.0)


@ember.vectorize
def select_clip(x, y):
    return np.clip(x * y, -1.0, 1.0) if x > 0.5 else y - x


@ember.vectorize
def hash_mix(x):
    h = x ^ (x >> 33)
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> 33)
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> 33)


def np_black_scholes(s, k, t):
    sq = np.sqrt(t)
    d1 = (np.log(s / k) + np.float32(0.02 + 0.5 * 0.09) * t) / (np.float32(0.3) * sq)
    d2 = d1 - np.float32(0.3) * sq

    def cdf(d):
        return 0.5 * (1.0 + np.tanh(0.7978845608 * (d + 0.044715 * d * d * d)))
    return s * cdf(d1) - k * np.exp(np.float32(-0.02) * t) * cdf(d2)


def np_poly8(v):
    return ((((((((0.5 * v + 0.25) * v - 1.5) * v + 2.0) * v - 0.75) * v + 1.25) * v
              - 0.125) * v + 3.0) * v - 1.0)


def np_hash_mix(x):
    h = x ^ (x >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))


@ember.reduce("+")
def dot(x, y):
    return x * y


@ember.reduce("+", fastmath=True)
def dot_fastmath(x, y):
    return x * y


# Kernels whose result is one number (the C and Numba versions return it).
REDUCTIONS = {"dot", "dot_fastmath"}
# Rows that time another ember variant against the same competitors.
VARIANT_OF = {"dot_fastmath": "dot"}

NUMPY = {
    "triad": lambda x, y: x + 3.0 * y,
    "trig": lambda x, y, z: x * y + np.sin(z) * np.cos(x),
    "black_scholes": np_black_scholes,
    "poly8": np_poly8,
    "select_clip": lambda x, y: np.where(x > 0.5, np.clip(x * y, -1.0, 1.0), y - x),
    "hash_mix": np_hash_mix,
    "dot": np.dot,
    "dot_fastmath": np.dot,
}

NUMEXPR = {
    "triad": "x + 3.0 * y",
    "trig": "x * y + sin(z) * cos(x)",
    "black_scholes": ("s * (0.5 * (1 + tanh(0.7978845608 * (d1 + 0.044715 * d1**3)))) - k * "
                      "exp(-0.02 * t) * (0.5 * (1 + tanh(0.7978845608 * (d2 + 0.044715 * d2**3))))"),
    "poly8": ("((((((((0.5 * v + 0.25) * v - 1.5) * v + 2.0) * v - 0.75) * v + 1.25) * v"
              " - 0.125) * v + 3.0) * v - 1.0)"),
    "select_clip": "where(x > 0.5, where(x * y < -1, -1, where(x * y > 1, 1, x * y)), y - x)",
    "dot": "sum(x * y)",  # NumExpr's reductions run on one thread
    "dot_fastmath": "sum(x * y)",
    # NumExpr has no shifts or uint64: hash_mix cannot be written in it.
}

NUMBA_SOURCE = textwrap.dedent("""
    import math, numpy as np
    from numba import njit, prange

    @njit(parallel=True, fastmath=True)
    def triad(x, y, o):
        for i in prange(x.size):
            o[i] = x[i] + 3.0 * y[i]

    @njit(parallel=True, fastmath=True)
    def trig(x, y, z, o):
        for i in prange(x.size):
            o[i] = x[i] * y[i] + math.sin(z[i]) * math.cos(x[i])

    @njit(fastmath=True)
    def _cdf(d):
        return np.float32(0.5) * (np.float32(1.0) + math.tanh(np.float32(0.7978845608) * (d + np.float32(0.044715) * d * d * d)))

    @njit(parallel=True, fastmath=True)
    def black_scholes(s, k, t, o):
        for i in prange(s.size):
            sq = math.sqrt(t[i])
            d1 = (math.log(s[i] / k[i]) + np.float32(0.065) * t[i]) / (np.float32(0.3) * sq)
            d2 = d1 - np.float32(0.3) * sq
            o[i] = s[i] * _cdf(d1) - k[i] * math.exp(np.float32(-0.02) * t[i]) * _cdf(d2)

    @njit(parallel=True, fastmath=True)
    def poly8(x, o):
        for i in prange(x.size):
            v = x[i]
            o[i] = ((((((((np.float32(0.5) * v + np.float32(0.25)) * v - np.float32(1.5)) * v + np.float32(2.0)) * v
                     - np.float32(0.75)) * v + np.float32(1.25)) * v - np.float32(0.125)) * v + np.float32(3.0)) * v - np.float32(1.0))

    @njit(parallel=True, fastmath=True)
    def select_clip(x, y, o):
        for i in prange(x.size):
            p = x[i] * y[i]
            c = -1.0 if p < -1.0 else (1.0 if p > 1.0 else p)
            o[i] = c if x[i] > 0.5 else y[i] - x[i]

    @njit(parallel=True, fastmath=True)
    def dot(x, y):
        s = 0.0
        for i in prange(x.size):
            s += x[i] * y[i]
        return s

    @njit(parallel=True, fastmath=True)
    def hash_mix(x, o):
        for i in prange(x.size):
            h = x[i]
            h ^= h >> np.uint64(33)
            h *= np.uint64(0xFF51AFD7ED558CCD)
            h ^= h >> np.uint64(33)
            h *= np.uint64(0xC4CEB9FE1A85EC53)
            o[i] = h ^ (h >> np.uint64(33))
""")


def make_inputs(n, rng):
    u = lambda lo, hi, dt=np.float64: rng.uniform(lo, hi, n).astype(dt)
    inputs = {
        "triad": (u(-1, 1), u(-1, 1)),
        "trig": (u(-3, 3), u(-3, 3), u(-3, 3)),
        "black_scholes": (u(10, 100, np.float32), u(10, 100, np.float32),
                          u(0.1, 2, np.float32)),
        "poly8": (u(-1, 1, np.float32),),
        "select_clip": (u(0, 1), u(-3, 3)),
        "hash_mix": (rng.integers(0, 2**63, n, dtype=np.uint64),),
        "dot": (u(-1, 1), u(-1, 1)),
    }
    for variant, base in VARIANT_OF.items():
        inputs[variant] = inputs[base]
    return inputs


# --- competitors ---------------------------------------------------------------------------

def load_c_reference(workdir):
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if not cc:
        return None, "no C compiler"
    src = os.path.join(workdir, "ref.c")
    lib = os.path.join(workdir, "ref.so")
    with open(src, "w") as f:
        f.write(C_SOURCE)
    cmd = [cc, "-O3", "-march=native", "-ffast-math", "-fopenmp", "-shared", "-fPIC", src,
           "-o", lib, "-lmvec", "-lm"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        return None, "C compile failed: " + proc.stderr.strip()[:200]
    return ctypes.CDLL(lib), " ".join(os.path.basename(c) if i == 0 else c
                                        for i, c in enumerate(cmd[:5]))


def c_caller(lib, name):
    fn = getattr(lib, VARIANT_OF.get(name, name))
    fn.restype = ctypes.c_double if name in REDUCTIONS else None

    def call(*args):
        if name in REDUCTIONS:
            return np.float64(fn(ctypes.c_long(args[0].size),
                                 *(a.ctypes.data_as(ctypes.c_void_p) for a in args)))
        out = np.empty_like(args[0])
        fn(ctypes.c_long(args[0].size), *(a.ctypes.data_as(ctypes.c_void_p) for a in args),
           out.ctypes.data_as(ctypes.c_void_p))
        return out
    return call


def load_numba(workdir):
    try:
        import numba  # noqa: F401
    except ImportError:
        return None, "not installed"
    path = os.path.join(workdir, "numba_kernels.py")
    with open(path, "w") as f:
        f.write(NUMBA_SOURCE)
    sys.path.insert(0, workdir)
    import numba_kernels
    return numba_kernels, "numba " + numba.__version__


def numba_caller(module, name):
    fn = getattr(module, VARIANT_OF.get(name, name))

    def call(*args):
        if name in REDUCTIONS:
            return np.float64(fn(*args))
        out = np.empty_like(args[0])
        fn(*args, out)
        return out
    return call


def numexpr_caller(expr, name):
    import numexpr

    def call(*args):
        names = {"triad": "xy", "trig": "xyz", "poly8": "v", "select_clip": "xy",
                 "dot": "xy", "dot_fastmath": "xy"}.get(name)
        if name == "black_scholes":
            s, k, t = args
            sq = np.sqrt(t)
            env = {"s": s, "k": k, "t": t,
                   "d1": numexpr.evaluate("(log(s / k) + 0.065 * t) / (0.3 * sq)",
                                          local_dict={"s": s, "k": k, "t": t, "sq": sq})}
            env["d2"] = numexpr.evaluate("d1 - 0.3 * sq", local_dict={"d1": env["d1"], "sq": sq})
            return numexpr.evaluate(expr, local_dict=env)
        return numexpr.evaluate(expr, local_dict=dict(zip(names, args)))
    return call


# --- measuring ------------------------------------------------------------------------------

def other_threads_busy():
    """Whether a thread of this process other than the caller is running
    (Linux /proc; False where it cannot tell)."""
    me = str(threading.get_native_id())
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return False
    for tid in tasks:
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if tid != me and state == "R":
            return True
    return False


def settle(timeout=0.25):
    """Waits until the worker threads of whatever ran last have gone idle:
    OpenMP (Numba, the C reference) and OpenBLAS keep theirs spinning for
    milliseconds after a call returns, and on a 2-core machine a spinning
    thread takes a core from whatever runs next."""
    end = time.perf_counter() + timeout
    while other_threads_busy() and time.perf_counter() < end:
        time.sleep(0.001)


def median_times(competitors, args, repeat):
    """Median seconds per call of each competitor, timed round-robin so that
    the machine's drift (a shared, noisy host) hits all of them alike. Each
    turn waits for the previous competitor's threads to go idle, then makes
    one untimed call and one timed call: each competitor is timed as it runs
    when called repeatedly on its own."""
    for fn in competitors.values():
        fn(*args)  # warm up (and compile, for JITs)
    times = {who: [] for who in competitors}
    for _ in range(repeat):
        for who, fn in competitors.items():
            settle()
            fn(*args)
            t0 = time.perf_counter()
            fn(*args)
            times[who].append(time.perf_counter() - t0)
    return {who: float(np.median(t)) for who, t in times.items()}


def check(name, who, got, want):
    if np.issubdtype(want.dtype, np.integer):
        ok = np.array_equal(got, want)
    else:
        tol = 2e-4 if want.dtype == np.float32 else 1e-9
        ok = np.allclose(got, want, rtol=tol, atol=tol)
    if not ok:
        raise AssertionError(f"{who} gives wrong results for {name}")


def vector_bits(fn):
    """The widest vector register the code ember made for `fn` uses."""
    code = fn.inspect("asm")
    return next((bits for reg, bits in (("%zmm", 512), ("%ymm", 256), ("%xmm", 128))
                 if reg in code), 64)


def dispatch_overhead(repeat):
    x = np.random.default_rng(0).random(16)
    y = x.copy()
    add = ember.vectorize(lambda a, b: a + b)
    add(x, y)
    np.testing.assert_array_equal(add(x, y), np.add(x, y))
    number = 20000
    best = {}
    for _ in range(repeat):  # alternating, each after other threads went idle
        for name, call in (("ember", lambda: add(x, y)), ("numpy", lambda: np.add(x, y))):
            settle()
            t = timeit.timeit(call, number=number) / number
            best[name] = min(best.get(name, t), t)
    return best["ember"], best["numpy"]


def cold_compile():
    # A kernel the process has not seen: frontend, passes, LLVM and the first call.
    x = np.random.default_rng(1).uniform(1, 2, 16).astype(np.float32)
    fresh = ember.vectorize(black_scholes.py_func, cache=False)  # compiled, not loaded
    t0 = time.perf_counter()
    got = fresh(x, x, x)
    elapsed = time.perf_counter() - t0
    check("cold black_scholes", "ember", got, np_black_scholes(x, x, x))
    return elapsed


def import_time(repeat=5):
    """Best wall time of `import ember` in a fresh interpreter (NumPy's import
    included), with bytecode as an installed package has it: the children may
    write __pycache__ even where PYTHONDONTWRITEBYTECODE is set, and the first,
    untimed run compiles it."""
    code = ("import time; t = time.perf_counter(); import ember; "
            "print(time.perf_counter() - t)")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    times = [float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                  text=True, check=True).stdout) for _ in range(repeat + 1)]
    return min(times[1:])


def run(n, repeat, only=None):
    rng = np.random.default_rng(42)
    inputs = make_inputs(n, rng)
    if only:
        inputs = {name: args for name, args in inputs.items() if name in only}
    workdir = tempfile.mkdtemp(prefix="ember_bench_")
    clib, c_info = load_c_reference(workdir)
    numba_mod, numba_info = load_numba(workdir)
    try:
        import numexpr
        numexpr_info = "numexpr " + numexpr.__version__
    except ImportError:
        numexpr = None
        numexpr_info = "not installed"

    kernels = {"triad": triad, "trig": trig, "black_scholes": black_scholes, "poly8": poly8,
               "select_clip": select_clip, "hash_mix": hash_mix, "dot": dot,
               "dot_fastmath": dot_fastmath}
    rows = []
    for name, args in inputs.items():
        want = NUMPY[name](*args)
        competitors = {"ember": kernels[name], "NumPy": NUMPY[name]}
        if numexpr and name in NUMEXPR:
            competitors["NumExpr"] = numexpr_caller(NUMEXPR[name], name)
        if numba_mod:
            competitors["Numba"] = numba_caller(numba_mod, name)
        if clib:
            competitors["C"] = c_caller(clib, name)
        for who, fn in competitors.items():
            check(name, who, fn(*args), want)
        times = median_times(competitors, args, repeat)
        nbytes = sum(a.nbytes for a in args) + want.nbytes
        rows.append((name, str(want.dtype), times, nbytes, vector_bits(kernels[name])))
    return rows, {"C": c_info, "Numba": numba_info, "NumExpr": numexpr_info}


# Every competitor on one thread: OpenBLAS, OpenMP and Numba read these when
# they load, so the one-thread rows run in a child process.
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "NUMBA_NUM_THREADS": "1", "EMBER_NUM_THREADS": "1"}


def one_thread_rows(n, repeat):
    """The reductions' rows with one thread for every competitor."""
    env = dict(os.environ, **ONE_THREAD, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, "-m", "ember.bench", "--n", str(n), "--repeat",
                          str(repeat), "--reductions-json"], env=env, capture_output=True,
                         text=True)
    if out.returncode:
        raise RuntimeError("the one-thread run failed:\n" + out.stderr[-2000:])
    result = json.loads(out.stdout)
    return [tuple(row) for row in result["rows"]], result["threads"]


def threads_in_use():
    """ember's thread count, and OpenBLAS's where NumPy links it."""
    threads = {"ember": ember.get_num_threads()}
    try:
        from numpy._core import _multiarray_umath as umath
        lib = ctypes.CDLL(umath.__file__)
        for name in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
                     "openblas_get_num_threads"):
            if hasattr(lib, name):
                threads["OpenBLAS"] = getattr(lib, name)()
                break
    except (ImportError, OSError):
        pass
    return threads


def format_table(rows, n, label="kernel"):
    who = ["ember", "NumPy", "NumExpr", "Numba", "C"]
    lines = [f"| {label} (n = {n:,}) | dtype | vector | " + " | ".join(f"{w} ms" for w in who) +
             " | ember GB/s | NumPy/ember | NumExpr/ember | Numba/ember | C/ember |",
             "|---" * (len(who) + 8) + "|"]
    for name, dtype, times, nbytes, bits in rows:
        cells = [f"{times[w] * 1e3:.2f}" if w in times else "—" for w in who]
        ratios = [f"{times[w] / times['ember']:.2f}x" if w in times else "—" for w in who[1:]]
        gbs = nbytes / times["ember"] / 1e9
        lines.append(f"| {name} | {dtype} | {bits}-bit | " + " | ".join(cells) + f" | {gbs:.1f} | " +
                     " | ".join(ratios) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, help="elements per array (default 10^7, GPU 2^26)")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--markdown", help="also write the report to this file")
    parser.add_argument("--gpu", action="store_true",
                        help="the GPU benchmark (target='cuda' against CuPy and Triton) instead")
    parser.add_argument("--reductions-json", action="store_true", help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.gpu:
        return gpu_main(opts)
    opts.n = opts.n or 10_000_000
    if opts.reductions_json:  # one_thread_rows' child
        print(json.dumps({"rows": run(opts.n, opts.repeat, REDUCTIONS)[0],
                          "threads": threads_in_use()}))
        return

    rows, versions = run(opts.n, opts.repeat)
    single, single_threads = one_thread_rows(opts.n, opts.repeat)
    if set(single_threads.values()) != {1}:
        raise RuntimeError(f"the one-thread run used {single_threads} threads")
    from . import bench_kernels
    sample_rows, _ = bench_kernels.run(opts.repeat, median_times)
    t_ember, t_numpy = dispatch_overhead(7)
    cold = cold_compile()
    imported = import_time()
    from . import bench_cache
    first_calls = bench_cache.format_table(bench_cache.run(5))
    target, level = ember.host_cpu().split(" ")[0], isa.level()
    report = [
        f"## {target} ({level}), {os.cpu_count()} cores: {datetime.date.today().isoformat()}",
        "",
        f"Command: `python -m ember.bench --n {opts.n} --repeat {opts.repeat}`  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, LLVM target "
        f"{target}, ISA level {level}; ember threads {ember.get_num_threads()}  ",
        f"Versions: ember {ember.__version__}, NumPy {np.__version__}, {versions['NumExpr']}, "
        f"{versions['Numba']}; C reference: `{versions['C']}`",
        "",
        "Median wall time per call, competitors timed round-robin; each turn waits until "
        "the previous competitor's threads are idle (OpenMP and OpenBLAS workers spin for "
        "milliseconds after a call), then makes one untimed and one timed call (every "
        "result checked "
        "against NumPy first); ratios > 1 mean ember is faster. Every call returns a new "
        "array: NumPy and NumExpr allocate their own, the Numba and C wrappers use "
        "`np.empty_like`, ember reuses freed outputs of 1 MiB or more through its block "
        "cache ([performance.md](performance.md)), which saves the page faults of fresh memory.",
        "",
        format_table(rows, opts.n),
        "",
        "The same reductions with one thread for every competitor (`OPENBLAS_NUM_THREADS`, "
        "`OMP_NUM_THREADS`, `NUMBA_NUM_THREADS` and `EMBER_NUM_THREADS` set to 1 in a child "
        "process):",
        "",
        format_table(single, opts.n, "one thread"),
        "",
        "`vector` is the widest vector register in the code ember made for the kernel on this "
        "host (its `inspect(\"asm\")`).",
        "",
        "`dot` is `@ember.reduce(\"+\")` (compensated float sum), `dot_fastmath` the same "
        "with `fastmath=True` (plain lane sums); both give results independent of the "
        "thread count. NumPy's is `numpy.dot` (OpenBLAS ddot), NumExpr's `sum(x * y)` "
        "(one thread), Numba's a `prange` reduction, C's an OpenMP `reduction(+:s)`.",
        "",
        f"Per-call time on 16 float64 elements: ember {t_ember * 1e9:.0f} ns, numpy.add "
        f"{t_numpy * 1e9:.0f} ns (ember/NumPy = {t_ember / t_numpy:.2f}).  ",
        f"Cold compile (new Black-Scholes kernel, first call, float32): {cold * 1e3:.1f} ms.  ",
        f"`import ember` in a fresh interpreter (NumPy included): {imported * 1e3:.0f} ms.",
        "",
        "### First call in a fresh process: cold and warm disk cache",
        "",
        "python/ember/bench_cache.py (also `python -m ember.bench_cache`): each program runs in "
        "fresh interpreters (medians of 5); `import ember` and the first call are timed inside "
        "the process, every result is checked after the timing. Cold: an empty cache folder; "
        "warm: the folder an earlier run filled (the code is loaded, LLVM is not).",
        "",
        first_calls,
        "",
        "### Sample kernels (@ember.kernel, @ember.reduce)",
        "",
        "The kernels of samples/ (python/ember/bench_kernels.py) against NumPy and Numba "
        "(`njit(parallel=True, fastmath=True)` with prange), same data, timed round-robin "
        "like the table above: mandelbrot 1000x1500 (100 iterations, ember and Numba with "
        "fastmath), histogram of 10^7 values into 256 bins (per-chunk counts merged with "
        "atomics; NumPy: np.bincount), one Jacobi sweep on 2000x2000, row norms of "
        "1000x10000 (ember: sum-reduce over axis=1), softmax over rows of "
        "10000x1000 float32 (ember: max-reduce, sum-reduce, map); ember's sums and maps "
        "use fastmath like Numba's (plain lane sums, no compensation).",
        "",
        bench_kernels.format_table(sample_rows),
    ]
    print("\n".join(report))
    if opts.markdown:
        update_host_section(opts.markdown, f"{target} {level}", report)


def gpu_main(opts):
    from . import bench_gpu
    n = opts.n or 1 << 26
    lines = bench_gpu.run(n, opts.repeat)
    if lines is None:
        sys.exit(f"no GPU to benchmark: {ember.cuda.unavailable_reason()}")
    emit([f"# ember GPU benchmark, {datetime.date.today().isoformat()}", "",
          f"Command: `python -m ember.bench --gpu --n {n} --repeat {opts.repeat}`  ",
          f"Versions: ember {ember.__version__}, NumPy {np.__version__}", "",
          "Median time per call over batches closed by a synchronization, on the same "
          "device arrays (CuPy through `__cuda_array_interface__`, Triton through DLPack, "
          "no copies), every result checked against NumPy first. TB/s counts each input "
          "read and the output written once; `copy` is a device-to-device copy of one "
          "array (cuMemcpyDtoD; CuPy's `copyto` too), the bandwidth ceiling.", "",
          *lines], opts.markdown)


HOSTS_HEADER = """# ember benchmarks on the CPU, one section per host kind

`python -m ember.bench --markdown docs/benchmarks.md` (or `tools/bench --markdown
docs/benchmarks.md`) replaces the section of the host it runs on (LLVM target and
x86-64 level) and keeps the others: the hosts the project is developed on change
from session to session (Zen 3 with AVX2, Zen 4 and Intel parts with AVX-512).
Compare ratios within one section only: each is one run on one machine.
"""


def update_host_section(path, host, lines):
    """Writes `lines` as `host`'s section of the markdown file at `path`,
    keeping the other hosts' sections (marked by HTML comments)."""
    end = "<!-- end of host -->"
    sections, order = {}, []
    if os.path.exists(path):
        text = open(path).read()
        for chunk in text.split("<!-- host: ")[1:]:
            key, _, body = chunk.partition(" -->\n")
            sections[key] = body.split(end)[0].rstrip("\n")
            order.append(key)
    if host not in sections:
        order.append(host)
    sections[host] = "\n".join(lines)
    with open(path, "w") as f:
        f.write(HOSTS_HEADER)
        for key in order:
            f.write(f"\n<!-- host: {key} -->\n{sections[key]}\n{end}\n")


def emit(lines, markdown):
    text = "\n".join(lines)
    print(text)
    if markdown:
        with open(markdown, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
