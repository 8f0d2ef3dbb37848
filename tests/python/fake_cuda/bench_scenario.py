"""Runs the GPU benchmark (`python -m ember.bench --gpu`) against the fake
driver, each launch replayed with the CPU version of the benchmark's kernel,
so that the script's wiring and its correctness checks run without a GPU.
Writes the report to argv[1]; prints the replay's problems as JSON. With
argv[2] == "wrong", the replay gets the kernels wrong (the benchmark's checks
must stop it).
"""

import json
import sys

import numpy as np
from replay import current, report, view

from ember import bench, bench_gpu

CPU = {"ember_triad_cuda": bench.triad, "ember_black_scholes_cuda": bench.black_scholes}


def play(slots, entry):
    if entry.startswith("ember_dot_cuda"):  # partial 0 holds the whole sum (float64)
        if entry == "ember_dot_cuda":
            x, y, out, n, _, _ = slots  # one segment of n elements
            view(out, np.float64, (1,))[0] = bench.dot(view(x, np.float32, (n,)),
                                                       view(y, np.float32, (n,)))
        else:  # _merge carries partial 0 over, _finish writes it as float32
            dtype = np.float64 if entry.endswith("_merge") else np.float32
            view(slots[1], dtype, (1,))[0] = view(slots[0], np.float64, (1,))[0]
        return
    *inputs, out, n = slots
    arrays = [view(p, np.float32, (n,)) for p in inputs]
    view(out, np.float32, (n,))[...] = CPU[entry](*arrays) + (sys.argv[2:] == ["wrong"])


current["play"] = play
# A fresh interpreter would not have the replay hook: the cold launch runs here.
bench_gpu._ember_cold_fresh = bench_gpu.cold_child
bench.main(["--gpu", "--n", "5000", "--repeat", "2", "--markdown", sys.argv[1]])
print(json.dumps(report["problems"]))
