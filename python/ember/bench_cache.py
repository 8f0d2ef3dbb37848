"""The first call of a kernel in a fresh process, with a cold and a warm disk cache.

    python -m ember.bench_cache [--repeat 7] [--markdown FILE]

Four programs (the README's `price`, a Black-Scholes-sized function, a
@kernel with loops, a 400-statement function with 800 math calls) each run
in fresh interpreters: `import ember` and the first call (on 1000
elements, or a 60x90 domain) are timed inside the process; every result is
checked against NumPy, after the timing. Cold: an empty cache
folder each run; warm: a folder that one earlier run filled.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

PRELUDE = '''
import json, math, sys, time
t0 = time.perf_counter()
import numpy as np
t1 = time.perf_counter()
import ember
t2 = time.perf_counter()
'''

TIMED = '''
t3 = time.perf_counter()
got = call()
t4 = time.perf_counter()
call()
t5 = time.perf_counter()
'''

REPORT = '''
print(json.dumps({"import": t2 - t1, "first": t4 - t3, "later": t5 - t4, "ok": bool(ok),
                  "hits": ember.cache.stats()["hits"], "llvm": "ember._jit" in sys.modules}))
'''

PROGRAMS = {
    "price (README)": '''
@ember.vectorize
def price(s, k, t):
    d = (math.log(s / k) + 0.02 * t) / math.sqrt(t)
    return s * math.exp(-t) if d > 0 else k - s

x = np.linspace(0.5, 2.0, 1000)
call = lambda: price(x, 1.5, x)
#check
d = (np.log(x / 1.5) + 0.02 * x) / np.sqrt(x)
ok = np.allclose(got, np.where(d > 0, x * np.exp(-x), 1.5 - x))
''',
    "black_scholes (float32)": '''
@ember.vectorize
def call_price(s, k, t):
    r, v = np.float32(0.02), np.float32(0.3)
    sq = np.sqrt(t)
    d1 = (np.log(s / k) + (r + v * v * np.float32(0.5)) * t) / (v * sq)
    d2 = d1 - v * sq
    n1 = np.float32(0.5) * (np.float32(1) + math.erf(d1 * np.float32(0.7071067811865476)))
    n2 = np.float32(0.5) * (np.float32(1) + math.erf(d2 * np.float32(0.7071067811865476)))
    return s * n1 - k * np.exp(-r * t) * n2

x = np.linspace(1, 2, 1000, dtype=np.float32)
call = lambda: call_price(x, x, x)
#check
from math import erf
want = [call_price.py_func(a, a, a) for a in x[:50].tolist()]
ok = got.dtype == np.float32 and np.allclose(got[:50], want, rtol=1e-4, atol=1e-5)
''',
    "kernel with loops": '''
@ember.kernel
def mandelbrot(img, x0, y0, dx, dy, limit):
    i, j = ember.tid()
    cx, cy = x0 + j * dx, y0 + i * dy
    x, y, n = 0.0, 0.0, 0
    while x * x + y * y <= 4.0 and n < limit:
        x, y = x * x - y * y + cx, 2.0 * x * y + cy
        n += 1
    img[i, j] = n

img = np.zeros((60, 90), np.int32)
call = lambda: mandelbrot[img.shape](img, -2.0, -1.5, 3.0 / 90, 3.0 / 60, 50)
#check
want = np.zeros_like(img)
for i in range(60):
    for j in range(90):
        c = complex(-2.0 + j * 3.0 / 90, -1.5 + i * 3.0 / 60)
        z, n = 0j, 0
        while abs(z) <= 2.0 and n < 50:
            z, n = z * z + c, n + 1
        want[i, j] = n
ok = np.abs(img - want).max() <= 1
''',
}


def _big_program(statements=400):
    body = ["    a0 = x"]
    for i in range(1, statements):
        body.append(f"    a{i} = np.sin(a{i - 1}) * 0.5 + np.exp(-a{i - 1} * a{i - 1}) * 0.25")
    source = "@ember.vectorize\ndef big(x):\n" + "\n".join(body) + f"\n    return a{statements - 1}\n"
    return source + '''
x = np.linspace(-2, 2, 1000)
call = lambda: big(x)
#check
ok = np.allclose(got, big.py_func(x))
'''


PROGRAMS["400 statements, 800 calls"] = _big_program()


def _run(path, cache_dir):
    env = dict(os.environ, EMBER_CACHE_DIR=cache_dir,
               PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # timed as an installed package imports
    env.pop("EMBER_CACHE", None)
    proc = subprocess.run([sys.executable, path], env=env, capture_output=True, text=True,
                          timeout=600)
    if proc.returncode:
        raise RuntimeError(f"{path} failed:\n{proc.stderr}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if not result["ok"]:
        raise RuntimeError(f"{path}: wrong result")
    return result


def run(repeat):
    """Rows of (program, import s, first call s with a cold cache, with a warm
    cache, the second call s, whether LLVM loaded in a warm run)."""
    rows = []
    work = tempfile.mkdtemp(prefix="ember_bench_cache_")
    for i, (name, body) in enumerate(PROGRAMS.items()):
        path = os.path.join(work, f"program{i}.py")
        definitions, check = body.split("#check\n")
        with open(path, "w") as f:
            f.write(PRELUDE + definitions + TIMED + check + REPORT)
        warm_dir = os.path.join(work, f"warm{i}")
        _run(path, warm_dir)  # fills the warm folder (and writes the bytecode)
        cold, warm, later, imports, llvm = [], [], [], [], False
        for r in range(repeat):
            c = _run(path, os.path.join(work, f"cold{i}_{r}"))
            w = _run(path, warm_dir)
            if c["hits"] or not w["hits"]:
                raise RuntimeError(f"{name}: the cold run hit or the warm run missed")
            cold.append(c["first"])
            warm.append(w["first"])
            later.append(w["later"])
            imports += [c["import"], w["import"]]
            llvm |= w["llvm"]
        rows.append((name, statistics.median(imports), statistics.median(cold),
                     statistics.median(warm), statistics.median(later), llvm))
    return rows


def format_table(rows):
    lines = ["| program | `import ember` ms | first call, cold cache ms | first call, warm cache ms "
             "| second call ms | warm first call beyond the second ms | LLVM loaded (warm) |",
             "|---|---|---|---|---|---|---|"]
    for name, imported, cold, warm, later, llvm in rows:
        lines.append(f"| {name} | {imported * 1e3:.1f} | {cold * 1e3:.1f} | {warm * 1e3:.2f} | "
                     f"{later * 1e3:.2f} | {(warm - later) * 1e3:.2f} | {'yes' if llvm else 'no'} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--markdown", help="also write the table to this file")
    opts = parser.parse_args(argv)
    text = format_table(run(opts.repeat))
    print(text)
    if opts.markdown:
        with open(opts.markdown, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
