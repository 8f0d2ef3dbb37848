"""The benchmark's kernels at every x86 ISA level (through inspect(arch=), so
on any host): contiguous access never becomes gathers or scatters, and no
vectorized loop calls scalar libm (issue 23's guard)."""

import math
import platform
import re

import numpy as np
import pytest

import ember
from ember import bench, bench_kernels
from test_math_simd import LIBM, _vector_body

pytestmark = [pytest.mark.cpu_code,
              pytest.mark.skipif(platform.machine() != "x86_64", reason="x86 CPU names")]

CPUS = ["x86-64-v2", "x86-64-v3", "x86-64-v4", "znver4"]

# (function, signature) of the benchmark's maps and reductions, as it calls them.
MAPS = [(bench.triad, "(float64, float64)"), (bench.trig, "(float64, float64, float64)"),
        (bench.black_scholes, "(float32, float32, float32)"), (bench.poly8, "(float32)"),
        (bench.select_clip, "(float64, float64)"), (bench.hash_mix, "(uint64)"),
        (bench_kernels.scaled_exp, "(float32, float32, float32)")]
REDUCES = [(bench.dot, "(float64, float64)"), (bench.dot_fastmath, "(float64, float64)"),
           (bench_kernels.squares, "(float64)"), (bench_kernels.row_max, "(float32)"),
           (bench_kernels.exp_sum, "(float32, float32)")]


def _scalar_calls(llvm_text):
    calls = re.findall(r"call [^@]*@([\w.]+)", llvm_text)
    return [c for c in calls if c in LIBM or (c.endswith("f") and c[:-1] in LIBM)]


def _reduce_loop(llvm_text):
    """The main loop of the reduce entry point (its block "loop"; the tail
    after it may call scalar math for the last elements)."""
    match = re.search(r"\ndefine [^\n]*_reduce\(.*?\n}\n", llvm_text, re.S)
    assert match, "no _reduce function"
    loop = re.search(r"\nloop:.*?(?=\n\n|\n[\w.]+:)", match.group(0), re.S)
    assert loop, "no main loop in _reduce"
    return loop.group(0)


@pytest.mark.parametrize("cpu", CPUS)
@pytest.mark.parametrize("fn, signature, loop_of",
                         [(f, sig, _vector_body) for f, sig in MAPS] +
                         [(f, sig, _reduce_loop) for f, sig in REDUCES],
                         ids=lambda v: getattr(v, "__name__", v))
def test_maps_and_reductions(fn, signature, loop_of, cpu):
    # A reduce loop loads each stream's elements as a vector: left to the
    # vectorizers, two streams' lanes became vgatherqpd on AVX-512.
    asm = fn.inspect("asm", signature=signature, arch=cpu)
    assert not re.search(r"gather|scatter", asm), f"{fn.__name__} on {cpu}"
    loop = loop_of(fn.inspect("llvm", signature=signature, arch=cpu))
    assert not _scalar_calls(loop), f"{fn.__name__} on {cpu}: {_scalar_calls(loop)}"


@pytest.mark.parametrize("cpu", CPUS)
def test_kernels(cpu):
    # A stencil and a pixel loop: contiguous or no array reads, no gathers.
    u = np.zeros((6, 6))
    img = np.zeros((4, 4), np.int32)
    for kernel, domain, args in [(bench_kernels.jacobi_sweep, (4, 4), (u.copy(), u)),
                                 (bench_kernels.mandelbrot, img.shape,
                                  (img, -2.0, -1.5, 0.1, 0.1, 10))]:
        asm = kernel.inspect("asm", cpu, domain=domain, args=args)
        assert not re.search(r"gather|scatter", asm), f"{kernel.__name__} on {cpu}"


def _function_asm(asm, name):
    start = asm.index(f"\n{name}:")
    return asm[start:asm.index(".Lfunc_end", start)]


@pytest.mark.parametrize("cpu, zmm", [("skylake-avx512", False), ("x86-64-v4", False),
                                      ("sapphirerapids", False), ("znver4", True)])
def test_reductions_take_the_cpus_preferred_vector_width(cpu, zmm):
    # The 16 accumulators of a reduction are explicit LLVM vectors; without
    # "min-legal-vector-width" they were zmm registers on every AVX-512 CPU,
    # also where LLVM's tuning prefers ymm (Intel's: slower clocks for zmm).
    body = _function_asm(bench.dot.inspect("asm", signature="(float64, float64)", arch=cpu),
                         "dot_reduce")
    assert ("%zmm" in body) == zmm, cpu
    assert "prefetcht0" in body, cpu  # each stream asks for its data ahead


def test_a_call_with_512_bit_vectors_keeps_zmm_legal():
    # libmvec's AVX-512 variants take zmm arguments: a function calling one
    # must not have its vectors split into ymm (a wrong ABI, wrong values).
    @ember.reduce("+")
    def sines(x):
        return math.sin(x)

    x = np.linspace(-3.0, 3.0, 10_001)
    body = _function_asm(sines.inspect("asm", signature="(float64)", arch="skylake-avx512"),
                         "sines_reduce")
    call = re.search(r"call\w*\s+_ZGVeN8v_sin", body)
    assert call and "%zmm" in body
    assert math.isclose(sines(x), math.fsum(np.sin(x)), rel_tol=0, abs_tol=1e-12)
