"""What reports cost (issue 21): the compile of a report with debug
locations against the same compile without them (best of --repeat), the
machine code checked to be the same instruction for instruction (so the
code that runs, which never carries debug locations, is not slowed), and
the time and size of a report, for the README's price, the mandelbrot
sample and a 200-statement function.

    python -m ember.bench_inspect [--repeat 7]
"""

import argparse
import importlib.util
import math  # noqa: F401  (the generated function's globals)
import os
import sys
import tempfile
import time

import numpy as np

from . import _jit, host_cpu
from .vectorize import vectorize

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _module(name, source):
    path = os.path.join(tempfile.mkdtemp(), f"{name}.py")
    with open(path, "w") as f:
        f.write(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _kernels():
    price = _module("readme_price", "import math\nimport ember\n\n\n"
                    "@ember.vectorize(['float64(float64, float64, float64)'])\n"
                    "def price(s, k, t):\n"
                    "    d = (math.log(s / k) + 0.02 * t) / math.sqrt(t)\n"
                    "    return s * math.exp(-t) if d > 0 else k - s\n").price
    spec = importlib.util.spec_from_file_location("mandelbrot_sample",
                                                  os.path.join(ROOT, "samples", "mandelbrot.py"))
    sample = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sample)
    image = np.zeros((8, 8), np.int32)
    sample.mandelbrot[image.shape](image, -2.0, -1.5, 0.4, 0.4, 50)
    lines = ["import math\nimport ember\n\n\n@ember.vectorize(['float64(float64, float64)'])",
             "def long(x, y):", "    a = x"]
    for i in range(200):
        lines.append(f"    a = a * 0.999 + math.sin(y + {i}) if a > {i % 7} else a - math.exp(-y)")
    lines.append("    return a")
    big = _module("long_function", "\n".join(lines) + "\n").long
    return [("price (README)", price, price._compiled[-1][2]),
            ("mandelbrot (samples)", sample.mandelbrot, sample.mandelbrot._compiled[-1][1]),
            ("200 statements", big, big._compiled[-1][2])]


def _instructions(asm):
    out = []
    for line in asm.splitlines():
        s = line.split("#")[0].strip()
        if s.startswith(".section") and (".debug_" in s or ".note.GNU-stack" in s):
            break
        if s and not s.startswith((".loc", ".file", ".Ltmp", ".Lfunc_", ".L", ".cfi")):
            out.append(s)
    return out


def _best(repeat, call):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times) * 1e3


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    print(f"Host: {host_cpu().split()[0]} (LLVM target); `python -m ember.bench_inspect "
          f"--repeat {args.repeat}`\n")
    print("| function | compile without debug locations ms | with ms | cost | same machine code "
          "| report ms | HTML KiB |")
    print("|---|---|---|---|---|---|---|")
    for name, func, kernel in _kernels():
        plain = _jit.inspection(kernel, "", False)
        located = _jit.inspection(kernel, "", True)
        same = _instructions(plain.assembly) == _instructions(located.assembly)
        if not same:
            raise SystemExit(f"{name}: debug locations changed the machine code")
        without = _best(args.repeat, lambda: _jit.inspection(kernel, "", False))
        with_ = _best(args.repeat, lambda: _jit.inspection(kernel, "", True))
        report_ms = _best(max(1, args.repeat // 2), lambda: func.inspect().html())
        size = len(func.inspect().html()) / 1024
        print(f"| {name} | {without:.1f} | {with_:.1f} | {100 * (with_ / without - 1):+.0f}% | "
              f"{'yes' if same else 'NO'} | {report_ms:.0f} | {size:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
