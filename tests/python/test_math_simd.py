"""Vectorized math: every function of the kernel language runs as SIMD code
(no scalar libm call in the vectorized loop) and stays within the documented
error bound (docs/math.md) against a higher-precision reference."""

import platform
import re

import numpy as np
import pytest

from ember import ulp

# The default mode's bound; NumPy accepts the same for its own SIMD math.
MAX_ULP = 4.0

LIBM = ("sqrt cbrt exp exp2 expm1 log log2 log10 log1p sin cos tan asin acos atan sinh cosh tanh "
        "asinh acosh atanh erf erfc atan2 pow hypot").split()


@pytest.fixture(scope="module")
def table():
    return ulp.measure(points=4000, seed=1)


@pytest.mark.parametrize("name", list(ulp.FUNCTIONS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_error_within_bound(table, name, dtype):
    err, where = table[(name, dtype)]
    assert err <= MAX_ULP, f"{name} {dtype}: {err:.2f} ulp at {where}"


@pytest.fixture(scope="module")
def kernels():
    return ulp._kernels()


def _vector_body(llvm_text):
    """The instructions of the vectorized loop of the contiguous entry point."""
    contig = llvm_text.split("_contig(", 1)[1].split("\ndefine", 1)[0]
    match = re.search(r"\nvector\.body:.*?(?=\n\n|\n[\w.]+:)", contig, re.S)
    assert match, "the contiguous loop was not vectorized:\n" + contig
    return match.group(0)


@pytest.mark.parametrize("name", list(ulp.FUNCTIONS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_no_scalar_libm_call_in_vector_loop(kernels, name, dtype):
    arity = ulp.FUNCTIONS[name][0]
    text = kernels[name].inspect("llvm", signature=f"({', '.join([dtype] * arity)})")
    body = _vector_body(text)
    calls = re.findall(r"call [^@]*@([\w.]+)", body)
    scalar = [c for c in calls if c in LIBM or (c.endswith("f") and c[:-1] in LIBM)]
    assert not scalar, f"scalar libm calls in the vector loop: {scalar}"
    if name not in ("sqrt",):
        assert any(c.startswith("_ZGV") for c in calls), f"no SIMD math call: {calls}"


@pytest.fixture(scope="module")
def sums():
    return ulp._kernels(combine="+")


@pytest.mark.parametrize("name", list(ulp.FUNCTIONS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_reductions_of_math_run_simd_math(sums, name, dtype):
    # A reduction's lanes are vectorized by LLVM's SLP vectorizer, which makes
    # math calls into intrinsics of its own width (llvm.exp.v16f32) that the
    # backend would split into scalar calls; ember's vector math pass gives
    # them to libmvec.
    arity, domains, _ = ulp.FUNCTIONS[name]
    rng = np.random.default_rng(2)
    args = [ulp.sample(domains[k % len(domains)], 1000, dtype, rng) for k in range(arity)]
    values = ulp.reference(name, args, np.dtype(dtype)).astype(np.float64)
    # Each value within MAX_ULP of its reference; the sum rounded once more.
    bound = (MAX_ULP + 1) * np.finfo(dtype).eps * np.sum(np.abs(values))
    assert abs(float(sums[name](*args)) - np.sum(values)) <= bound
    text = sums[name].inspect("llvm", signature=f"({', '.join([dtype] * arity)})")
    reduce = text.split("_reduce(", 1)[1].split("\ndefine", 1)[0]
    loop = re.search(r"\nloop:.*?(?=\n\n)", reduce, re.S)
    assert loop, "no main loop in the reduce function:\n" + reduce
    calls = re.findall(r"call [^@]*@([\w.]+)", loop.group(0))
    scalar = [c for c in calls if c in LIBM or (c.endswith("f") and c[:-1] in LIBM)]
    intrinsics = [c for c in calls if c.startswith("llvm.") and c.split(".")[1] in LIBM
                  and c.split(".")[1] != "sqrt"]
    assert not scalar and not intrinsics, f"scalar math in the reduce loop: {scalar + intrinsics}"


def test_ulp_error_measure_can_fail():
    # The measuring function itself must see a 1-ulp difference.
    want = np.array([1.0, 2.0], dtype=np.float64)
    got = np.nextafter(want, np.inf)
    assert np.allclose(ulp.ulp_error(got, want, np.float64), [1.0, 1.0])


def test_fastmath_only_when_asked(tmp_path):
    import importlib.util
    path = tmp_path / "fm.py"
    path.write_text("import ember\n"
                    "def axpy(a, x, y):\n    return a * x + y\n"
                    "strict = ember.vectorize(axpy)\n"
                    "fast = ember.vectorize(fastmath=True)(axpy)\n")
    spec = importlib.util.spec_from_file_location("fm", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sig = "(float64, float64, float64)"
    strict = module.strict.inspect("llvm", signature=sig)
    fast = module.fast.inspect("llvm", signature=sig)
    assert re.search(r"fmul fast|fadd fast", fast), fast
    assert not re.search(r"\b(fast|reassoc|nnan|ninf|contract)\b", strict.split("attributes #")[0])
    x = np.linspace(-1, 1, 1001)
    np.testing.assert_allclose(module.fast(2.0, x, x), 3 * x, rtol=1e-15)


def test_in_place_call_keeps_the_simd_loop(kernels):
    # out= one of the inputs must take the same vectorized loop (same results,
    # bit for bit) as a call into a fresh array.
    x = np.random.default_rng(3).uniform(-50, 50, 100_003)
    want = kernels["sin"](x)
    y = x.copy()
    got = kernels["sin"](y, out=y)
    assert got is y
    np.testing.assert_array_equal(y, want)
    text = kernels["sin"].inspect("llvm", signature="(float64)")
    assert "vector.memcheck" not in text and "diff.check" not in text


@pytest.fixture(scope="module")
def remainders():
    import math

    import ember

    @ember.vectorize
    def fmod(a, b):
        return math.fmod(a, b)

    @ember.vectorize
    def mod(a, b):
        return a % b

    @ember.vectorize
    def floordiv(a, b):
        return a // b

    return {np.fmod: fmod, np.remainder: mod, np.floor_divide: floordiv}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fmod_is_exact_and_simd(remainders, dtype):
    """libmvec has no fmod: ember's own vector fmod (codegen/vector_fmod.cpp)
    runs in the vectorized loop, and fmod, % and // give NumPy's bits on
    operands across the whole exponent range (gaps up to the widest),
    subnormals and special values."""
    rng = np.random.default_rng(4)
    info = np.finfo(dtype)
    span = np.log10(info.smallest_subnormal), np.log10(info.max)
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, info.tiny, info.smallest_subnormal,
                        info.max, -info.max, 1.0, -1.0, 3.0, 0.1])
    sa, sb = (g.ravel() for g in np.meshgrid(special, special))
    with np.errstate(all="ignore"):  # a few draws overflow to inf: fine, they are operands too
        a, b = (rng.standard_normal(100_000) * 10.0 ** rng.uniform(*span, 100_000)
                for _ in range(2))
        a = np.concatenate([a, sa, rng.random(1000) * 100]).astype(dtype)
        b = np.concatenate([b, sb, np.full(1000, 2 * np.pi)]).astype(dtype)
    bits = np.dtype(f"u{np.dtype(dtype).itemsize}")
    for reference, kernel in remainders.items():
        with np.errstate(all="ignore"):
            got, want = kernel(a, b), reference(a, b)
        same = got.view(bits) == want.view(bits)  # NaNs too: glibc's sign and payload
        assert same.all(), [(a[i], b[i], got[i], want[i]) for i in np.flatnonzero(~same)[:5]]
        text = kernel.inspect("llvm", signature=f"({dtype}, {dtype})")
        calls = re.findall(r"call [^@]*@([\w.]+)", _vector_body(text))
        assert not [c for c in calls if c in ("fmod", "fmodf")], calls
        if platform.machine() == "x86_64":
            assert any(c.startswith("ember_fmod_") for c in calls), calls


# Other x86 CPUs than the host, through inspect(arch=...): LLVM's name, the
# libmvec ISA letter whose variants the loop must call, and a register of
# that width in the assembly. The host cannot run this code; what it checks
# is that each ISA level gets its own SIMD math.
# skylake-avx512 prefers 256-bit vectors (LLVM's tuning): its loops take the
# AVX2 variants, ember's fmod included.
CPUS = [("x86-64-v2", "b", "%xmm"), ("x86-64-v3", "d", "%ymm"), ("skylake-avx512", "d", "%ymm"),
        ("znver4", "e", "%zmm")]


@pytest.mark.skipif(platform.machine() != "x86_64", reason="x86 CPU names")
@pytest.mark.parametrize("cpu,letter,register", CPUS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_isa_level_gets_its_simd_math(kernels, remainders, cpu, letter, register, dtype):
    for name, kernel in [*kernels.items(), ("fmod", remainders[np.fmod])]:
        arity = ulp.FUNCTIONS[name][0] if name in ulp.FUNCTIONS else 2
        text = kernel.inspect("llvm", signature=f"({', '.join([dtype] * arity)})", arch=cpu)
        calls = re.findall(r"call [^@]*@([\w.]+)", _vector_body(text))
        scalar = [c for c in calls if c in LIBM or (c.endswith("f") and c[:-1] in LIBM)
                  or c in ("fmod", "fmodf")]
        assert not scalar, f"{cpu}: scalar calls in the vector loop of {name}: {scalar}"
        if name == "fmod" and (dtype == "float32" or letter != "b"):  # float64 needs an FMA
            assert any(c.startswith("ember_fmod_") for c in calls), (cpu, calls)
        elif name != "sqrt" and name != "fmod":
            assert any(c.startswith(f"_ZGV{letter}") for c in calls), f"{cpu} {name}: {calls}"
    asm = kernels["sin"].inspect("asm", signature=f"({dtype})", arch=cpu)
    assert register in asm


def test_unknown_cpu_is_a_clear_error(kernels):
    with pytest.raises(ValueError, match="unknown CPU 'pentium9'.*znver4"):
        kernels["sin"].inspect("asm", signature="(float64)", arch="pentium9")
