"""The x86-64 microarchitecture level of this CPU (x86-64-v2, -v3, -v4), from
the features ember reads (cpuid): what the benchmark and the compile log
name beside LLVM's CPU name."""

import platform

from . import _core

__all__ = ["LEVELS", "level"]

# By the features LLVM names (xsave, which ember's feature list leaves out, aside).
LEVELS = (("x86-64-v4", {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}),
          ("x86-64-v3", {"avx2", "bmi", "bmi2", "f16c", "fma", "lzcnt", "movbe"}),
          ("x86-64-v2", {"cx16", "popcnt", "sahf", "sse4.1", "sse4.2", "ssse3"}))


def level():
    """The highest x86-64 level this CPU has (or the machine's name elsewhere)."""
    if platform.machine() not in ("x86_64", "AMD64"):
        return platform.machine()
    features = set(_core.host_features())
    return next((name for name, needs in LEVELS if needs <= features), "x86-64")
