"""The texts `inspect()` shows for one compiled specialization, shared by
@vectorize, @reduce and @kernel: `Code` strings (ember/highlight.py), which
notebooks show highlighted."""

from .highlight import Code

STAGES = ("ir", "source-ir", "llvm", "asm", "ptx", "cuda-llvm")


def _arch(arch):
    if arch is None:
        from .cuda import default_arch
        return default_arch()
    if isinstance(arch, int) and not isinstance(arch, bool):
        return f"sm_{arch}"
    if isinstance(arch, str):
        return arch
    raise TypeError(f"arch must be a string like 'sm_90' or an int like 90, got {arch!r}")


def check(stage):
    """Raises ValueError unless `stage` is one of STAGES."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; choose one of {', '.join(STAGES)}")


def text(compiled, stage, arch=None):
    """`compiled` (a _core.Kernel) at `stage`:

    "ir" after the compiler's passes, "source-ir" as the frontend built it,
    "llvm" the optimized LLVM IR and "asm" the assembly for the host CPU, or
    for CPU `arch` of the host's architecture (LLVM's names: "znver4",
    "skylake-avx512", "x86-64-v3": what the code would be there), "ptx" the
    CUDA code for GPU architecture `arch` ("sm_90" or 90; default:
    ember.cuda.default_arch(), the GPU's or the newest LLVM knows), "cuda-llvm"
    the GPU module's optimized LLVM IR. Neither GPU stage needs a GPU.
    """
    return Code(_text(compiled, stage, arch), stage)


def _text(compiled, stage, arch):
    check(stage)
    if arch is not None and stage in ("ir", "source-ir"):
        raise ValueError(f"arch= applies to the stages 'llvm', 'asm', 'ptx' and 'cuda-llvm', "
                         f"not {stage!r}")
    if stage in ("llvm", "asm") and arch is not None and not isinstance(arch, str):
        raise TypeError(f"arch for {stage!r} must be a CPU name like 'znver4', got {arch!r}")
    if stage == "ir":
        return compiled.ir()
    if stage == "source-ir":
        return compiled.source_ir()
    from . import _jit  # LLVM loads at the first compile, not at import
    if stage == "ptx":
        return _jit.ptx(compiled, _arch(arch)).ptx
    if stage == "cuda-llvm":
        return _jit.gpu_llvm_ir(compiled, _arch(arch))
    return (_jit.llvm_ir if stage == "llvm" else _jit.asm)(compiled, arch or "")
