"""The kernel fuzzer (tests/fuzz/kernel_fuzzer.py) as a test: a fixed set of
random programs compiled and compared with the interpreter; tools/fuzz runs
it (and the libFuzzer target on the IR text) for longer with fresh seeds."""

import os
import random
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fuzz"))
import kernel_fuzzer  # noqa: E402

COUNT = int(os.environ.get("EMBER_FUZZ_COUNT", "300"))


def test_random_programs_match_the_interpreter():
    tried, findings = kernel_fuzzer.run(count=COUNT, seed=2026, log=lambda text: None)
    assert tried == COUNT
    assert not findings, findings[0]


def test_the_generator_writes_every_construct():
    text = "".join(kernel_fuzzer.KernelGen(random.Random(k)).kernel(f"k{k}") for k in range(100))
    for construct in ["for ", "while ", "break", "continue", "elif ", "else:", "return",
                      "ember.atomic_add(hi", "ember.atomic_min(hf", "ember.atomic_max(",
                      ", p):", ", -1):", "xi[", "xf[", "math.sqrt", " // ", " % ", " >> "]:
        assert construct in text, construct
    ops = {kernel_fuzzer.reduce_source(random.Random(k), "r")[1:] for k in range(60)}
    assert {("+", "float64"), ("min", "float64"), ("*", "int64"), ("max", "int64")} <= ops


class _Disagreeing:
    """A kernel whose launch writes one more than its interpretation."""

    def __getitem__(self, n):
        def launch(oi, *rest):
            oi[:] = 1
        return launch

    def interpret(self, n, oi, *rest):
        oi[:] = 0


def test_a_mismatch_is_reported():
    problem = kernel_fuzzer.check_kernel(_Disagreeing(), random.Random(0))
    assert problem and "array oi differs" in problem
    assert kernel_fuzzer.same(np.array([np.nan, -0.0]), np.array([np.nan, -0.0]))
    assert not kernel_fuzzer.same(np.array([0.0]), np.array([-0.0]))
