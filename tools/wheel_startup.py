"""Start-up times of installed embers, side by side: `import ember` (NumPy
included) and the first compile and call of a small vectorize, each in fresh
interpreters, medians, the interpreters taking turns.

    python3 tools/wheel_startup.py [--repeat 11] VENV_PYTHON [VENV_PYTHON ...]

(tools/wheel leaves dist/ember-*.whl: install it and an older wheel into two
virtual environments and pass their pythons.)
"""

import argparse
import os
import statistics
import subprocess

CODE = r"""
import time
t0 = time.perf_counter()
import ember
t1 = time.perf_counter()
import numpy as np
f = ember.vectorize(lambda s, k, t: s * k + t, cache=False)
x = np.ones(1000)
t2 = time.perf_counter()
y = f(x, x, x)
t3 = time.perf_counter()
assert (y == 2.0).all()
print((t1 - t0) * 1e3, (t3 - t2) * 1e3, ember.__file__)
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("pythons", nargs="+")
    opts = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    times = {python: [] for python in opts.pythons}
    for _ in range(opts.repeat):
        for python in opts.pythons:
            run = subprocess.run([python, "-c", CODE], capture_output=True, text=True, env=env,
                                 cwd="/", check=True)
            imported, first, where = run.stdout.split()
            times[python].append((float(imported), float(first)))
    for python, pairs in times.items():
        print(f"{python}: import ember {statistics.median(a for a, _ in pairs):.1f} ms, "
              f"first compile and call {statistics.median(b for _, b in pairs):.1f} ms "
              f"(medians of {len(pairs)})")


if __name__ == "__main__":
    main()
