"""Measures ahead-of-time libraries (issue 20): build time of samples/aot
for one ISA and for three, library sizes, load time (dlopen to the first
call's return, from C), and each export's per-call time from C, through
ember.load and through the JIT, on the same arrays, every result checked.

    python -m ember.bench_aot [--n 10000000] [--repeat 5] [--markdown FILE]
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from . import _core, host_cpu, load

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLE = os.path.join(ROOT, "samples", "aot")
ISAS = {"x86-64-v4": "avx512f", "x86-64-v3": "avx2", "x86-64-v2": "sse4.2"}


def _build(out, targets):
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ember", "aot", "build", os.path.join(SAMPLE, "pricing.py"),
                    "-o", out, "--target", targets], check=True, env=env, capture_output=True)
    return time.perf_counter() - start


def _best(repeat, call):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def _python_times(module, n, repeat):
    """{export: ms} of `module`'s functions (a loaded library or the JIT's),
    and their results."""
    side = int(n ** 0.5)
    i = np.arange(n)
    s, k, t = 50 + (i % 1000) * 0.1, 60.0 + i % 37, 0.25 + (i % 11) * 0.2
    s32, k32, t32 = (v.astype(np.float32) for v in (s, k, t))
    out, out32, grid = np.empty(n), np.empty(n, np.float32), np.empty((side, side))
    a = s[:side * side].reshape(side, side)
    calls = {"price_f64": lambda: module.price(s, k, t, out=out),
             "price_f32": lambda: module.price(s32, k32, t32, out=out32),
             "dot": lambda: module.dot(s, t),
             "blur": lambda: module.blur[a.shape](grid, a)}
    results = {name: call() for name, call in calls.items()}
    results.update(price_f64=out.copy(), price_f32=out32.copy(), blur=grid.copy())
    return {name: _best(repeat, call) for name, call in calls.items()}, results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--markdown", help="also write the tables to this file")
    args = parser.parse_args(argv)
    features = set(_core.host_features())
    best = next(isa for isa, f in ISAS.items() if f in features)
    lines = [f"Host: {host_cpu().split()[0]} (LLVM target), {os.cpu_count()} cores; "
             f"`python -m ember.bench_aot --n {args.n} --repeat {args.repeat}`", ""]
    with tempfile.TemporaryDirectory() as tmp:
        one, three = os.path.join(tmp, "one"), os.path.join(tmp, "three")
        _build(one, best)  # warms the disk cache for the module's own JIT compile at import
        build_one = _build(one, best)
        build_three = _build(three, "x86-64-v2,x86-64-v3,x86-64-v4")
        sizes = {f: os.path.getsize(os.path.join(d, f)) for d, f in
                 [(one, "libpricing.so"), (three, "libpricing.so"), (three, "libpricing.a")]}
        lines += ["| build (`ember aot build samples/aot/pricing.py`) | seconds | libpricing.so |",
                  "|---|---|---|",
                  f"| 1 ISA ({best}) | {build_one:.2f} | "
                  f"{os.path.getsize(os.path.join(one, 'libpricing.so')) / 1024:.0f} KiB |",
                  f"| 3 ISAs (x86-64-v2,v3,v4) | {build_three:.2f} | "
                  f"{sizes['libpricing.so'] / 1024:.0f} KiB (libpricing.a "
                  f"{sizes['libpricing.a'] / 1024:.0f} KiB) |", ""]
        bench = os.path.join(tmp, "bench")
        subprocess.run(["cc", "-O2", os.path.join(SAMPLE, "bench.c"), f"-I{three}", "-ldl", "-lm",
                        "-o", bench], check=True)
        library = os.path.join(three, "libpricing.so")
        c_small = json.loads(subprocess.run([bench, library, "16", str(args.repeat * 200)],
                                            check=True, capture_output=True, text=True).stdout)
        c_large = json.loads(subprocess.run([bench, library, str(args.n), str(args.repeat)],
                                            check=True, capture_output=True, text=True).stdout)
        loaded = load(library)
        spec = importlib.util.spec_from_file_location("pricing", os.path.join(SAMPLE, "pricing.py"))
        jit = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(jit)
        lines += [f"Load: dlopen to the first call's return, from C: {c_small['load_ms']:.2f} ms "
                  f"(library selects {loaded.isa}).", "",
                  "| export | n | C ms | ember.load ms | JIT ms |", "|---|---|---|---|---|"]
        for n, c, repeat in [(16, c_small, args.repeat * 200), (args.n, c_large, args.repeat)]:
            lib_ms, lib_results = _python_times(loaded, n, repeat)
            jit_ms, jit_results = _python_times(jit, n, repeat)
            for name in lib_ms:
                np.testing.assert_allclose(lib_results[name], jit_results[name], rtol=1e-12)
                shown = f"{n} ({c['blur_side']}x{c['blur_side']})" if name == "blur" else n
                lines.append(f"| {name} | {shown} | {c[name]:.4f} | {lib_ms[name]:.4f} | "
                             f"{jit_ms[name]:.4f} |")
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write("# Ahead-of-time libraries\n\n" + text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
