"""f.inspect() with no stage: the report. Each Python line with what it
became (instructions, vector width, calls, LLVM's remarks), every stage
mapped to the Python lines, self-contained HTML; and debug locations that
leave the machine code as it is."""

import math
import re

import numpy as np
import pytest

import ember
from conftest import EMBER_PATH
from ember import _jit
from ember.report import Report


@ember.vectorize(["float64(float64, float64, float64)"])
def price(s, k, t):
    d1 = (math.log(s / k) + 0.5 * t) / math.sqrt(t)
    return s * math.erf(d1) - k * math.exp(-0.02 * t)


@ember.reduce("+", ["float64(float64, float64)"])
def dot(x, y):
    return x * y


@ember.kernel(["[2](int64[:, :], int64, int64)"])
def mandel(out, w, h):
    i, j = ember.tid()
    x0 = -2.0 + 3.0 * j / w
    y0 = -1.5 + 3.0 * i / h
    x = 0.0
    y = 0.0
    n = 0
    while x * x + y * y < 4.0 and n < 100:
        x, y = x * x - y * y + x0, 2.0 * x * y + y0
        n += 1
    out[i, j] = n


@ember.kernel(["[1](float64[:], float64[:])"], boundscheck=True)
def shift(out, a):
    i = ember.tid()
    out[i] = a[i + 1] - a[i]


def line_of(func, text):
    """The file line of the first source line of `func` containing `text`."""
    import inspect
    lines, first = inspect.getsourcelines(func.py_func)
    return first + next(i for i, line in enumerate(lines) if text in line)


def test_the_report_maps_python_lines_to_vector_code_and_remarks():
    report = price.inspect()
    assert isinstance(report, Report) and report.signature == "float64(float64, float64, float64)"
    log_line, def_line = line_of(price, "math.log"), line_of(price, "def price")
    # The element loop is the def line's: vectorized, and LLVM says so.
    assert any(r.pass_name == "loop-vectorize" and r.kind == "passed" and r.line == def_line
               for r in report.remarks)
    assert "vectorized loop (vectorization width:" in report.notes[def_line].summary()
    # log's line became vector code calling libmvec's log.
    note = report.notes[log_line]
    assert note.instructions > 0 and note.width >= 256
    assert note.loop and note.loop[0] >= 4  # its code is in the vectorized element loop
    assert "in a vectorized loop (width" in note.summary()
    assert any(name.startswith("_ZGV") and name.endswith("_log") for name in note.vector_calls)
    # Every stage is there, its lines tagged with Python lines.
    assert set(report.stages) == {"source-ir", "ir", "llvm", "asm"}
    asm_lines = {line for _, line in report._lines["asm"] if line}
    assert log_line in asm_lines and def_line in asm_lines
    assert any(line == log_line for _, line in report._lines["ir"])
    assert any(line == log_line for _, line in report._lines["llvm"])
    assert ".loc" not in report.stages["asm"]  # shown without the debug directives
    text = str(report)
    assert "def price(s, k, t):" in text and "vectorized loop" in text
    assert report.target == ember.host_cpu().split()[0]
    assert set(report.times) == {"lower", "optimize", "machine code"}


def test_the_report_says_why_a_loop_did_not_vectorize():
    report = mandel.inspect()
    while_line = line_of(mandel, "while x * x")
    summary = report.notes[while_line].summary()
    assert "loop not vectorized" in summary
    assert all(note.loop is None for note in report.notes.values())
    assert any(r.pass_name == "loop-vectorize" and r.kind == "missed" and r.line == while_line
               for r in report.remarks)
    assert report.signature == "[2-d](int64[xx], int64, int64)"


def instructions(asm):
    """The instructions and labels of an assembly text, without debug
    directives, comments or the debug sections."""
    out = []
    for line in asm.splitlines():
        s = line.split("#")[0].strip()
        if s.startswith(".section") and (".debug_" in s or ".note.GNU-stack" in s):
            break  # the code is over
        if not s or s.startswith((".loc", ".file", ".Ltmp", ".Lfunc_end", ".Lfunc_begin", ".Ldebug", ".Lcu",
                                  ".Lsec", ".Lline", ".Linfo", ".cfi")):
            continue
        out.append(s)
    return out


@pytest.mark.parametrize("func", [price, dot, mandel, shift], ids=lambda f: f.__name__)
@pytest.mark.parametrize("arch", [None, "x86-64-v2", "znver4"])
def test_debug_locations_leave_the_machine_code_unchanged(func, arch):
    kernel = (func._compiled[-1][2] if isinstance(func, ember.Vectorized)
              else func._compiled[-1][1])
    with_locations = _jit.inspection(kernel, arch or "").assembly
    assert re.search(r"^\s*\.loc\s", with_locations, re.M)
    assert instructions(with_locations) == instructions(_jit.asm(kernel, arch or ""))


def test_html_is_self_contained_and_readable_without_its_script(tmp_path):
    report = price.inspect()
    page = report._repr_html_()
    assert "<script>" in page and "http://" not in page and "https://" not in page
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", page)
    without_script = re.sub(r"<script>.*?</script>", "", page, flags=re.S)
    for name in ("ember IR from the frontend", "ember IR after the passes", "LLVM IR, optimized",
                 "assembly"):
        assert f"<details class=\"stage\"" in without_script and name in without_script
    assert "vectorized loop" in without_script and "def</span>" in without_script
    log_line = line_of(price, "math.log")
    assert f'data-line="{log_line}"' in without_script
    path = tmp_path / "price.html"
    report.save(path)
    saved = path.read_text()
    assert saved.startswith("<!DOCTYPE html>") and report.html().split("ember-report-")[0] in saved


def test_a_signature_picks_the_specialization_and_others_are_listed():
    @ember.vectorize(["float32(float32)", "float64(float64)"])
    def half(x):
        return x * 0.5

    report = half.inspect(signature="float32(float32)")
    assert report.signature == "float32(float32)"
    assert report.signatures == ["float32(float32)", "float64(float64)"]
    assert "float64(float64)" in report.html()
    assert half.inspect().signature == "float64(float64)"  # the latest


def test_stages_still_return_text_and_arch_reports_another_cpu():
    assert price.inspect("ir").startswith("func price(")
    report = price.inspect(arch="x86-64-v2")
    assert report.target == "x86-64-v2"
    assert all(note.width < 256 for note in report.notes.values())  # SSE only
    assert report.vector_isa == "128-bit vectors, SSE"
    assert price.inspect(arch="znver4").vector_isa.endswith("AVX-512")
    assert price.inspect(arch="x86-64-v3").vector_isa == "256-bit vectors, AVX"


def test_a_gpu_function_reports_its_ptx():
    @ember.vectorize(["float32(float32)"], target="cuda")
    def twice(x):
        return x * 2.0

    report = twice.inspect(arch="sm_80")
    assert report.target == "sm_80"
    assert ".target sm_80" in report.stages["ptx"]
    assert "def twice(x):" in str(report)


def test_the_inspect_command(tmp_path):
    import os
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sample = os.path.join(root, "samples", "aot", "pricing.py")
    env = dict(os.environ, PYTHONPATH=EMBER_PATH)

    def ember_cli(*args):
        return subprocess.run([sys.executable, "-m", "ember", "inspect", *args], env=env,
                              capture_output=True, text=True, timeout=300)

    report = ember_cli(f"{sample}:price", "--signature", "float32(float32, float32, float32)")
    assert report.returncode == 0, report.stderr
    assert "price float32(float32, float32, float32) on" in report.stdout
    assert "vectorized loop" in report.stdout and "math.erf" in report.stdout
    stage = ember_cli(f"{sample}:blur", "--stage", "asm", "--arch", "znver4")
    assert stage.returncode == 0 and "blur_kernel" in stage.stdout and "zmm" in stage.stdout
    page = tmp_path / "blur.html"
    saved = ember_cli(f"{sample}:blur", "--html", str(page))
    assert saved.returncode == 0 and page.read_text().startswith("<!DOCTYPE html>")
    bad = ember_cli(f"{sample}:price", "--signature", "float32(int8)")
    assert bad.returncode == 1 and "has 1 arguments but price() takes 3" in bad.stderr
    missing = ember_cli(f"{sample}:nope")
    assert missing.returncode != 0 and "has no ember function 'nope'" in missing.stderr


def test_a_vectorized_loop_inside_a_kernel_marks_its_body():
    @ember.kernel(["[1](float64[:], float64[:, :])"], fastmath=True)  # a reorderable sum
    def row_sums(out, a):
        i = ember.tid()
        total = 0.0
        for j in range(a.shape[1]):
            total += a[i, j] * 2.0
        out[i] = total

    report = row_sums.inspect()
    body = line_of(row_sums, "total += a[i, j]")
    for_line = line_of(row_sums, "for j in range")
    vectorized = [r for r in report.remarks if r.pass_name == "loop-vectorize" and r.kind == "passed"]
    if not any(r.line == for_line for r in vectorized):
        pytest.skip("LLVM did not vectorize the row loop on this CPU")
    assert report.notes[body].loop is not None
    assert report.notes[line_of(row_sums, "out[i] = total")].loop is None
