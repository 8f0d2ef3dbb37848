"""`ember aot build`: libraries that a C program links (shared and static) and
that ember.load opens without LLVM, checked against C loops, NumPy and the
JIT, on every ISA this CPU has; and the errors of bad builds and calls."""

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import ember
from conftest import EMBER_PATH
from ember import _core

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLE = os.path.join(ROOT, "samples", "aot")
ISAS = {"x86-64-v2": ["sse4.2", "popcnt"], "x86-64-v3": ["avx2", "fma", "bmi2"],
        "x86-64-v4": ["avx512f", "avx512bw", "avx512vl"]}
HOST = set(_core.host_features())
HOST_ISAS = [isa for isa, needs in ISAS.items() if HOST.issuperset(needs)]

pytestmark = pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler")


def run(args, env=None, cwd=None, check=True):
    environment = dict(os.environ, PYTHONPATH=EMBER_PATH, **(env or {}))
    result = subprocess.run(args, capture_output=True, text=True, env=environment, cwd=cwd,
                            timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"{args} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def aot_build(module, out, *extra):
    return run([sys.executable, "-m", "ember", "aot", "build", str(module), "-o", str(out), *extra],
               check=False)


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """samples/aot/pricing.py built for the three default ISAs, and main.c
    linked against the shared and the static library."""
    out = tmp_path_factory.mktemp("aot")
    result = aot_build(os.path.join(SAMPLE, "pricing.py"), out)
    assert result.returncode == 0, result.stderr
    main = os.path.join(SAMPLE, "main.c")
    run(["cc", "-O2", "-Wall", "-Werror", main, f"-I{out}", f"-L{out}", "-lpricing", "-lm",
         "-lpthread", f"-Wl,-rpath,{out}", "-o", str(out / "main_shared")])
    run(["cc", "-O2", "-Wall", "-Werror", main, f"-I{out}", str(out / "libpricing.a"),
         "-lstdc++", "-lmvec", "-lm", "-lpthread", "-o", str(out / "main_static")])
    return out


def test_the_build_writes_libraries_header_and_manifest(library):
    manifest = json.loads((library / "pricing.json").read_text())
    assert sorted(os.listdir(library)) == sorted(manifest["files"] + ["main_shared", "main_static"])
    assert [e["name"] for e in manifest["exports"]] == ["price_f64", "price_f32", "dot", "blur"]
    assert list(manifest["isas"]) == ["x86-64-v2", "x86-64-v3", "x86-64-v4"]
    assert "avx512f" in manifest["isas"]["x86-64-v4"] and "avx2" not in manifest["isas"]["x86-64-v2"]
    header = (library / "pricing.h").read_text()
    assert "int price_f64(int64_t n, const double *s, const double *k, const double *t, " \
           "double *out);" in header
    assert "int dot(int64_t n, const double *x, const double *y, double *result);" in header
    assert "int blur(int64_t extent0, int64_t extent1, const ember_array *out, " \
           "const ember_array *a);" in header
    for isa in ("x86_64_v2", "x86_64_v3", "x86_64_v4"):  # every per-ISA symbol is declared
        assert f"int dot__{isa}(" in header and f"int price_f32_nd__{isa}(" in header


@pytest.mark.parametrize("form", ["shared", "static"])
@pytest.mark.parametrize("isa", [None] + HOST_ISAS)
def test_the_c_program_agrees_on_every_isa_this_cpu_has(library, form, isa):
    result = run([str(library / f"main_{form}")], env={"EMBER_ISA": isa} if isa else {})
    assert "all checks passed" in result.stdout
    best = HOST_ISAS[-1] if HOST_ISAS else None
    assert f"selected: {isa or best}" in result.stdout


@pytest.mark.parametrize("form", ["shared", "static"])
def test_an_isa_this_cpu_lacks_is_an_error_code_not_a_crash(library, form):
    # x86-64-v4 on a CPU without AVX-512 (hidden here when the host has it).
    result = run([str(library / f"main_{form}")], check=False,
                 env={"EMBER_ISA": "x86-64-v4", "EMBER_TEST_HIDE_FEATURES": "avx512f"})
    assert result.returncode == 3, result.stdout + result.stderr  # main.c: EMBER_EISA seen
    assert "x86-64-v4 needs 'avx512f', which this CPU lacks" in result.stderr
    unknown = run([str(library / f"main_{form}")], check=False, env={"EMBER_ISA": "pentium4"})
    assert unknown.returncode == 3
    assert "EMBER_ISA=pentium4, but library pricing has code for x86-64-v2,x86-64-v3," \
           "x86-64-v4 only" in unknown.stderr


def test_without_a_forced_isa_the_best_one_is_chosen_whatever_the_order(tmp_path):
    out = tmp_path / "reversed"
    result = aot_build(os.path.join(SAMPLE, "pricing.py"), out, "--target",
                       ",".join(reversed(list(ISAS))))
    assert result.returncode == 0, result.stderr
    code = textwrap.dedent("""
        import ember
        print(ember.load(%r).isa)
    """ % str(out / "libpricing.so"))
    for hidden, want in [("", HOST_ISAS[-1]), ("avx512f", "x86-64-v3"), ("avx2,avx512f", "x86-64-v2")]:
        if want not in HOST_ISAS:
            continue
        shown = run([sys.executable, "-c", code], env={"EMBER_TEST_HIDE_FEATURES": hidden})
        assert shown.stdout.strip() == want


def test_the_shared_library_needs_no_llvm_python_or_spdlog(library):
    needed = run(["ldd", str(library / "libpricing.so")]).stdout
    for lib in ("libLLVM", "libpython", "libspdlog", "libfmt", "liblld"):
        assert lib not in needed
    dynamic = run(["readelf", "-d", str(library / "libpricing.so")]).stdout
    direct = set(re.findall(r"\(NEEDED\)\s+Shared library: \[(.*)\]", dynamic))
    assert "libc.so.6" in direct
    assert direct <= {"libstdc++.so.6", "libmvec.so.1", "libm.so.6", "libgcc_s.so.1", "libc.so.6",
                      "ld-linux-x86-64.so.2"}, direct
    exported = run(["nm", "-D", "--defined-only", str(library / "libpricing.so")]).stdout
    names = {line.split()[-1] for line in exported.splitlines()}
    assert "price_f64" in names and "pricing_info" in names and "ember_aot_library" in names
    assert not any("ember::" in n or n.startswith("_ZN5ember") for n in names)  # runtime hidden


def test_ember_load_does_not_load_llvm_and_matches_the_jit_bitwise(tmp_path):
    # A library for this very CPU runs the same machine code as the JIT.
    host = ember.host_cpu().split()[0]
    out = tmp_path / "host"
    assert aot_build(os.path.join(SAMPLE, "pricing.py"), out, "--target", host).returncode == 0
    script = textwrap.dedent(f"""
        import sys
        import numpy as np
        import ember
        lib = ember.load({str(out / 'libpricing.so')!r})
        assert "ember._jit" not in sys.modules
        rng = np.random.default_rng(7)
        s, k, t = rng.uniform(50, 150, 100_003), rng.uniform(50, 150, 100_003), rng.uniform(0.1, 3, 100_003)
        a = rng.standard_normal((301, 257))
        out = np.empty_like(a)
        lib.blur[a.shape](out, a)
        np.savez({str(tmp_path / 'loaded.npz')!r}, price=lib.price(s, k, t),
                 price32=lib.price(s.astype(np.float32), k.astype(np.float32), t.astype(np.float32)),
                 dot=lib.dot(s, k), blur=out)
        assert "ember._jit" not in sys.modules, "ember.load loaded LLVM"
        print(lib.isa)
    """)
    run([sys.executable, "-c", script])
    loaded = np.load(tmp_path / "loaded.npz")
    sys.path.insert(0, SAMPLE)
    try:
        import pricing
    finally:
        sys.path.remove(SAMPLE)
    rng = np.random.default_rng(7)
    s, k, t = rng.uniform(50, 150, 100_003), rng.uniform(50, 150, 100_003), rng.uniform(0.1, 3, 100_003)
    a = rng.standard_normal((301, 257))
    out = np.empty_like(a)
    pricing.blur[a.shape](out, a)
    assert loaded["price"].tobytes() == pricing.price(s, k, t).tobytes()
    f32 = [v.astype(np.float32) for v in (s, k, t)]
    assert loaded["price32"].dtype == np.float32
    assert loaded["price32"].tobytes() == pricing.price(*f32).tobytes()
    assert loaded["dot"].tobytes() == pricing.dot(s, k).tobytes()
    assert loaded["blur"].tobytes() == out.tobytes()


def test_loaded_functions_behave_as_the_decorated_ones(library):
    lib = ember.load(library / "libpricing.so")
    assert lib.isa == HOST_ISAS[-1]
    s = np.linspace(50, 150, 12).reshape(3, 4)
    want = np.array([[lib.price(float(v), 100.0, 2.0) for v in row] for row in s])
    np.testing.assert_allclose(lib.price(s, 100, 2.0), want, rtol=1e-14)  # broadcasting, scalars
    assert isinstance(lib.price(100.0, 100.0, 2.0), np.float64)  # a NumPy scalar, as a ufunc gives
    out = np.empty((3, 4))
    assert lib.price(s, 100.0, 2.0, out=out) is out
    np.testing.assert_allclose(out, want, rtol=1e-14)
    s32 = s.astype(np.float32)
    assert lib.price(s32, 100.0, 2.0).dtype == np.float32  # the float32 signature, as the JIT
    x, y = np.arange(12.0).reshape(3, 4), np.full((3, 4), 0.5)
    assert lib.dot(x, y) == pytest.approx(np.sum(x * y))
    np.testing.assert_allclose(lib.dot(x, y, axis=0), np.sum(x * y, axis=0))
    with pytest.raises(ValueError, match="broadcast"):
        lib.price(np.ones(3), np.ones(4), 1.0)
    with pytest.raises(TypeError, match=r"no signature for \(complex128.*float64\(float64, "
                                        r"float64, float64\); float32\(float32, float32, float32\)"):
        lib.price(np.ones(3, complex), 1.0, 1.0)
    with pytest.raises(AttributeError, match="has no function 'nope'.*blur, dot, price"):
        lib.nope
    a = np.arange(20.0).reshape(4, 5)
    blurred = np.empty_like(a)
    lib.blur[a.shape](blurred, a)
    padded = np.pad(a, 1, mode="edge")
    want = sum(padded[1 + di:5 + di, 1 + dj:6 + dj] for di in (-1, 0, 1) for dj in (-1, 0, 1)) / 9
    np.testing.assert_allclose(blurred, want, rtol=1e-15)
    with pytest.raises(TypeError, match="no signature"):
        lib.blur[a.shape](blurred.astype(np.float32), a)


def test_loading_something_else_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="cannot load"):
        ember.load(tmp_path / "missing.so")
    not_ours = _core.__file__  # a shared library, but not one ember aot made
    with pytest.raises(ValueError, match="is not a library that `ember aot build` made"):
        ember.load(not_ours)


def write(tmp_path, name, source):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def test_export_flag_and_several_signatures_name_the_c_functions(tmp_path):
    module = write(tmp_path, "mix.py", """
        import ember

        @ember.vectorize
        def mix(a, b):
            return a * 2 + b
    """)
    out = tmp_path / "out"
    result = aot_build(module, out, "--target", "x86-64-v2", "--export",
                       "mix:float32(float32, float32)", "--export", "mix:(int32, int64)")
    assert result.returncode == 0, result.stderr
    header = (out / "mix.h").read_text()
    assert "int mix_f32(int64_t n, const float *a, const float *b, float *out);" in header
    assert "int mix_i32_i64(int64_t n, const int32_t *a, const int64_t *b, int64_t *out);" in header
    lib = ember.load(out / "libmix.so")
    assert lib.mix(np.arange(3, dtype=np.int32), np.arange(3)).tolist() == [0, 3, 6]


@pytest.mark.parametrize("source, extra, message", [
    ("x = 1\n", [], r"nothing to export"),
    ("import ember\n\n@ember.vectorize(['float64(float64)'])\ndef f(x):\n    return x\n",
     ["--export", "g:float64(float64)"], r"has no ember function 'g' \(it has: f\)"),
    ("import ember\n\n@ember.vectorize\ndef f(x):\n    return x.nope\n",
     ["--export", "f:float64(float64)"], r"does not compile:\n.*bad.py:5"),
    ("import ember\n\n@ember.vectorize\ndef f(x):\n    return x\n",
     ["--export", "f:float(float)"], r"use int64/float64"),
    ("import ember\n\n@ember.vectorize\ndef f(x):\n    return x\n",
     ["--export", "f"], r"expected FUNC:SIGNATURE"),
    ("import ember\n\n@ember.vectorize(['float64(float64, float64)'])\ndef f(x):\n    return x\n",
     [], r"bad.py:3: importing .* failed: TypeError: signature .* has 2 arguments"),
    ("import ember\n\n@ember.vectorize(['float64(float64)'])\ndef f(x):\n    return x\n",
     ["--target", "pentium4"], r"--target pentium4: CPU 'pentium4' cannot run 64-bit code"),
    ("import ember\n\n@ember.vectorize(['float64(float64)'])\ndef f(x):\n    return x\n",
     ["--target", "nosuchcpu"], r"--target nosuchcpu: unknown CPU 'nosuchcpu'"),
    ("import ember\n\n@ember.kernel(['[1](float64[:], float64)'], target='cuda')\n"
     "def k(a, v):\n    a[ember.tid()] = v\n", [], r"bad.py:3: k is a target='cuda' function: "
     r"add the GPU architectures to --target"),
    ("import ember\n\n@ember.vectorize(['float64(float64)'], target='cuda')\n"
     "def f(x):\n    return x\n", ["--target", "cuda:sm_1"], r"--target cuda:sm_1: "),
    ("import ember\n\n@ember.vectorize(['float64(float64)'])\ndef f(x):\n    return x\n",
     ["--target", "cuda:sm_80"], r"f runs on the CPU, but --target names no CPU"),
    ("import ember\n\n@ember.vectorize(['float64(float64)'])\ndef f(x):\n    return x\n",
     ["--target", "sm_80"], r"write GPU architectures as cuda:sm_80"),
])
def test_bad_builds_say_what_and_where(tmp_path, source, extra, message):
    module = write(tmp_path, "bad.py", source)
    result = aot_build(module, tmp_path / "out", *extra)
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(message, result.stderr, re.S), result.stderr
    assert "Traceback" not in result.stderr


def test_a_gpu_only_module_built_with_cpu_targets_too(tmp_path):
    """The CPU ISAs of the default --target have nothing to compile: the
    library is the GPU one, and its header's comments are valid Python."""
    module = write(tmp_path, "gpuonly.py", "import ember\n\n@ember.reduce('+', ['float32(float32)'], "
                                           "target='cuda')\ndef total(x):\n    return x\n")
    result = aot_build(module, tmp_path / "out", "--target", "x86-64-v3,cuda:sm_80")
    assert result.returncode == 0, result.stderr
    assert "@ember.reduce('+', target='cuda') float32(float32)" in (tmp_path / "out" / "gpuonly.h").read_text()
    manifest = json.loads((tmp_path / "out" / "gpuonly.json").read_text())
    assert manifest["isas"] == {} and manifest["cuda"] == ["sm_80"]


def test_a_missing_module_is_an_error(tmp_path):
    result = aot_build(tmp_path / "nothere.py", tmp_path / "out")
    assert result.returncode == 1 and "nothere.py: no such file" in result.stderr


GSCALE = os.path.join(ROOT, "tests", "python", "fake_cuda", "gscale.py")
PTXAS = shutil.which("ptxas") or (os.path.exists("/usr/local/cuda/bin/ptxas")
                                  and "/usr/local/cuda/bin/ptxas")


@pytest.fixture(scope="module")
def gpu_library(tmp_path_factory):
    out = tmp_path_factory.mktemp("aot_gpu")
    result = aot_build(GSCALE, out, "--target", "x86-64-v2,cuda:sm_80,sm_90")
    assert result.returncode == 0, result.stderr
    return out


def test_gpu_exports_are_c_launch_entries_with_ptx_for_each_arch(gpu_library, tmp_path):
    header = (gpu_library / "gscale.h").read_text()
    assert ("int axpy(int64_t n, unsigned long long x, unsigned long long y, unsigned long long "
            "out, struct CUstream_st *stream);") in header
    assert ("int scale(int64_t extent0, int64_t extent1, const ember_array *out, const ember_array "
            "*a, double v, struct CUstream_st *stream);") in header
    assert "int square__x86_64_v2(" in header and "axpy__" not in header
    manifest = json.loads((gpu_library / "gscale.json").read_text())
    assert manifest["cuda"] == ["sm_80", "sm_90"]
    assert {e["name"]: e["target"] for e in manifest["exports"]} == \
        {"axpy": "cuda", "scale": "cuda", "square": "cpu", "norm2": "cuda"}
    assert ("int norm2(int64_t n, unsigned long long x, unsigned long long result, "
            "struct CUstream_st *stream);") in header
    fields, _, _ = _core.open_library(str(gpu_library / "libgscale.so"))
    for e in (0, 1, 3):
        for arch in ("sm_80", "sm_90"):
            ptx = fields[f"export.{e}.ptx.{arch}"]
            assert f".target {arch}" in ptx and f".entry {fields[f'export.{e}.entry']}(" in ptx
            if PTXAS:
                path = tmp_path / f"{e}_{arch}.ptx"
                path.write_text(ptx)
                proc = subprocess.run([PTXAS, f"-arch={arch}", str(path), "-o",
                                       str(tmp_path / "out.cubin")], capture_output=True, text=True)
                assert proc.returncode == 0, proc.stderr
    needed = run(["readelf", "-d", str(gpu_library / "libgscale.so")]).stdout
    assert "libcuda" not in needed  # the driver is loaded at the first GPU call only


def test_gpu_exports_launch_on_the_fake_driver(gpu_library, fake_cuda_driver, tmp_path):
    program = tmp_path / "aot_gpu"
    run(["cc", "-O1", "-Wall", "-Werror", os.path.join(ROOT, "tests", "python", "fake_cuda", "aot_gpu.c"),
         f"-I{gpu_library}", f"-L{gpu_library}", "-lgscale", "-ldl", f"-Wl,-rpath,{gpu_library}",
         "-o", str(program)])
    result = run([str(program)], env={"EMBER_CUDA_DRIVER": str(fake_cuda_driver)})
    assert "all checks passed" in result.stdout


def call_axpy(library, env):
    script = textwrap.dedent(f"""
        import ctypes
        lib = ctypes.CDLL({str(library)!r})
        lib.gscale_last_error.restype = ctypes.c_char_p
        x = (ctypes.c_float * 4)()
        print(lib.axpy(ctypes.c_int64(4), ctypes.c_void_p(ctypes.addressof(x)),
                       ctypes.c_void_p(ctypes.addressof(x)), ctypes.c_void_p(ctypes.addressof(x)),
                       None), lib.gscale_last_error().decode())
    """)
    return run([sys.executable, "-c", script], env=env).stdout.strip()


def test_gpu_errors_are_codes_with_messages(gpu_library, fake_cuda_driver, tmp_path):
    missing = call_axpy(gpu_library / "libgscale.so", {"EMBER_CUDA_DRIVER": str(tmp_path / "none.so")})
    assert missing.startswith("6 ") and "driver" in missing  # EMBER_ECUDA
    no_device = call_axpy(gpu_library / "libgscale.so",
                          {"EMBER_CUDA_DRIVER": str(fake_cuda_driver), "FAKE_CUDA_MODE": "1"})
    assert no_device.startswith("6 ") and "CUDA_ERROR_NO_DEVICE" in no_device
    newer = tmp_path / "newer"  # PTX for sm_90 only; the fake device is sm_86
    assert aot_build(GSCALE, newer, "--target", "x86-64-v2,cuda:sm_90").returncode == 0
    too_old = call_axpy(newer / "libgscale.so", {"EMBER_CUDA_DRIVER": str(fake_cuda_driver)})
    assert too_old.startswith("4 ") and "is sm_86; this library has PTX for sm_90 only" in too_old


def test_ember_load_leaves_gpu_exports_to_c(gpu_library):
    lib = ember.load(gpu_library / "libgscale.so")
    assert lib.square(3.0) == 9.0
    with pytest.raises(AttributeError, match="axpy of library .* is a GPU export, for C callers"):
        lib.axpy


def test_the_header_is_valid_cpp_and_building_needs_no_c_toolchain(library, tmp_path):
    source = tmp_path / "use.cpp"
    source.write_text('#include <vector>\n#include "pricing.h"\n'
                      "int main() { std::vector<double> x(8, 2.0); double r = 0;\n"
                      "  return dot(8, x.data(), x.data(), &r) == EMBER_OK && r == 32.0 ? 0 : 1; }\n")
    if shutil.which("c++"):
        run(["c++", "-std=c++17", "-Wall", "-Werror", str(source), f"-I{library}", f"-L{library}",
             "-lpricing", f"-Wl,-rpath,{library}", "-o", str(tmp_path / "use")])
        run([str(tmp_path / "use")])
    # ember links with LLVM's linker in process: no cc, ld or ar on PATH needed.
    bare = tmp_path / "bin"
    bare.mkdir()
    result = run([sys.executable, "-m", "ember", "aot", "build", os.path.join(SAMPLE, "pricing.py"),
                  "-o", str(tmp_path / "out"), "--target", "x86-64-v2"], env={"PATH": str(bare)})
    assert "pricing: 4 export(s)" in result.stdout
    assert (tmp_path / "out" / "libpricing.so").stat().st_size > 0
