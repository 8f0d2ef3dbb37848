"""Every stage of one kernel, as a notebook user would look at it.

    PYTHONPATH=python python3 samples/inspect_stages.py

Shows eager compilation from a signature, the IR before and after ember's
passes, the optimized LLVM IR (note the vector math calls `_ZGV...`), a
count of the host assembly and the CUDA code (PTX, no GPU needed), then checks the kernel against NumPy, into a
preallocated `out=` array and with a thread count of 1 and of all cores.
"""

import math

import numpy as np

import ember


@ember.vectorize(["float32(float32, float32)"], fastmath=False)
def softplus_gap(x, y):
    """log(1 + e^x) - y, written the way a scalar function is."""
    big = x > 20.0
    return (x if big else math.log1p(math.exp(x))) - y


def reference(x, y):
    return np.where(x > 20.0, x, np.log1p(np.exp(np.minimum(x, 20.0)))) - y


def main():
    print("signatures:", softplus_gap.signatures)
    print("\n--- IR from the frontend ---")
    print(softplus_gap.inspect("source-ir"))
    print("--- IR after the passes ---")
    print(softplus_gap.inspect("ir"))
    llvm = softplus_gap.inspect("llvm")
    vector_calls = sorted({line.split("@")[1].split("(")[0] for line in llvm.splitlines()
                           if "call" in line and "@_ZGV" in line})
    print("--- LLVM IR: vector math calls:", ", ".join(vector_calls))
    asm = softplus_gap.inspect("asm")
    print(f"--- host assembly ({ember.host_cpu().split(' ')[0]}): {len(asm.splitlines())} lines")
    ptx = softplus_gap.inspect("ptx", arch="sm_90")
    entry = next(line for line in ptx.splitlines() if ".entry" in line)
    print(f"--- PTX for sm_90: {len(ptx.splitlines())} lines, kernel `{entry.strip()}`; "
          f"GPU here: {ember.cuda.is_available()}")

    rng = np.random.default_rng(0)
    x = rng.uniform(-30, 30, 1_000_000).astype(np.float32)
    y = rng.uniform(-1, 1, 1_000_000).astype(np.float32)
    want = reference(x, y)
    out = np.empty_like(x)
    for threads in (1, ember.get_num_threads()):
        ember.set_num_threads(threads)
        assert softplus_gap(x, y, out=out) is out
        np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-6)
        print(f"threads={threads}: matches NumPy (rtol 1e-5), result dtype {out.dtype}")


if __name__ == "__main__":
    main()
