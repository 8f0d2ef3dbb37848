"""Every code block of the user guide (README.md and docs/*.md) runs here,
so none drifts from the code. A page runs as one program, in a fresh
interpreter and a folder of its own, its blocks in order:

- ```python: runs, in the page's namespace, from a file whose line numbers
  are the page's (a traceback names the page's line); `file=NAME` writes
  the block to NAME instead (a module that later blocks import or build);
- ```console: each `$ command` runs in bash (`ember` and `python` are this
  ember's); the lines after a command are its expected output; `norun`
  only for the commands in NORUN, which CI runs itself;
- ```c and ```ir (ember's IR text): `file=NAME` writes it (a console
  block compiles it, or runs `ember-opt` on it);
- ```output: what the block before it printed (```output gpu: what it
  prints on a GPU, not compared against the fake driver);
- ```text: a display (a folder layout), not code: it may hold no command.

Expected output is compared as doctest compares it: `...` matches anything,
runs of whitespace are equal. The GPU page (GPU_PAGES) runs against the
fake CUDA driver, whose launches compute nothing: its calls, names and
argument forms are checked, and the output of blocks that need no device
(the PTX).
"""

import doctest
import glob
import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

from conftest import EMBER_PATH

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PAGES = ["README.md"] + sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "docs", "*.md")))
GPU_PAGES = {"docs/gpu.md"}
# Commands the docs show but this test does not run, each with where CI runs it.
NORUN = {
    "tools/demo": ".ci/run's fresh clone runs the README's Quickstart (tools/demo)",
    "tools/test": ".ci/run runs it: it runs this test",
    "tools/wheel": ".ci/run runs it after the tests",
    "pip install dist/ember-*.whl": "tools/wheel installs the wheel it built into a fresh venv",
    "tools/sanitize": ".ci/run runs it",
    "tools/fuzz 60": ".ci/run runs it",
    "tools/fuzz 3600": "the long run of the same fuzzers .ci/run runs for 60 s",
    "tools/bench --n 10000000 --repeat 21 --markdown docs/benchmarks.md":
        "takes 7 minutes; test_bench.py runs the same benchmark on small arrays",
    "python -m ember.bench --gpu --markdown docs/benchmarks_gpu.md":
        "needs a GPU; test_cuda_launch.py runs the same benchmark on the fake driver",
}
FENCE = re.compile(r"^(\s*)```(\S*)\s*(.*)$")
FENCED = re.compile(r"^\s*```.*?^\s*```", re.S | re.M)  # a whole fenced block
MARK = "\x1edocs-step "
CHECKER = doctest.OutputChecker()
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def blocks(page):
    """(language, attributes, text, line of its first text line) of each fenced block."""
    lines = open(os.path.join(ROOT, page), encoding="utf-8").read().split("\n")
    found, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, lang, attrs = m.groups()
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "```"), None)
        assert end is not None, f"{page}:{i + 1}: a code block that never closes"
        body = textwrap.dedent("\n".join(lines[i + 1:end])) + "\n"
        found.append((lang, dict(a.split("=", 1) if "=" in a else (a, True) for a in attrs.split()),
                      body, i + 2))
        i = end + 1
    return found


def steps(page):
    """The page's program: ("python", line, path, text), ("file", line, name,
    text), ("shell", line, command, expected output or None); each step's
    expected output or None."""
    program = []
    for lang, attrs, body, line in blocks(page):
        where = f"{page}:{line - 1}"
        if lang in ("python", "c", "ir") and "file" in attrs:
            program.append(["file", line, attrs["file"], body, None])
        elif lang == "python":
            program.append(["python", line, f"{page.replace('/', '_')}.L{line}.py",
                            "\n" * (line - 1) + body, None])
        elif lang in ("c", "ir"):
            pytest.fail(f"{where}: a ```{lang} block needs file=NAME (a console block uses it)")
        elif lang == "console":
            program += console_steps(where, line, body, "norun" in attrs)
        elif lang == "output":
            assert program and program[-1][4] is None, f"{where}: output that follows no code"
            assert "gpu" not in attrs or page in GPU_PAGES, f"{where}: `output gpu` off a GPU page"
            program[-1][4] = None if "gpu" in attrs else body  # the fake GPU computes nothing
        elif lang == "text":
            assert not re.search(r"^\s*(\$ |import |def |@ember)", body, re.M), \
                f"{where}: code in a text block (use python or console)"
        else:
            pytest.fail(f"{where}: a ```{lang} block: the docs test runs python, console and c blocks")
    return program


def console_steps(where, line, body, norun):
    out = []
    for k, text in enumerate(body.rstrip("\n").split("\n")):
        if text.startswith("$ "):
            command = text[2:].split("  #")[0].strip()
            if norun:
                assert command in NORUN, f"{where}: norun command {command!r} is not in NORUN"
            else:
                out.append(["shell", line + k, command, None, None])
        elif out and not norun:
            out[-1][4] = (out[-1][4] or "") + text + "\n"
        elif text.strip() and not norun:
            pytest.fail(f"{where}: console text before any `$ ` command: {text!r}")
    return out


DRIVER = r'''
import json, os, subprocess, sys
if __name__ == "__main__":
    sys.path.insert(0, os.getcwd())
    namespace = {"__name__": "__main__"}
    for kind, line, name, text, _ in json.load(open("steps.json")):
        print(%r + str(line), flush=True)
        if kind == "file":
            open(name, "w").write(text)
        elif kind == "python":
            open(name, "w").write(text)
            exec(compile(text, os.path.abspath(name), "exec"), namespace)
            sys.stdout.flush()
        else:
            run = subprocess.run(["bash", "-c", name], stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True)
            sys.stdout.write(run.stdout)
            if run.returncode:
                sys.exit("line %%d: `%%s` exited with %%d" %% (line, name, run.returncode))
''' % MARK


def run_page(page, program, tmp_path, env_extra):
    """Runs the page's `program` (steps()); what each step printed, by line."""
    (tmp_path / "steps.json").write_text(json.dumps(program))
    (tmp_path / "driver.py").write_text(DRIVER)
    (tmp_path / "samples").symlink_to(os.path.join(ROOT, "samples"))  # pages run samples/...
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, target in (("python", sys.executable), ("python3", sys.executable),
                         ("ember", sys.executable + " -m ember"),
                         ("ember-opt", os.path.join(ROOT, "build", "ember-opt"))):
        shim = bin_dir / name
        shim.write_text(f'#!/bin/sh\nexec {target} "$@"\n')
        shim.chmod(0o755)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([EMBER_PATH, str(tmp_path)]),
               PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
               EMBER_CACHE_DIR=str(tmp_path / "cache"), **env_extra)
    env.pop("EMBER_LOG_LEVEL", None)
    run = subprocess.run([sys.executable, "driver.py"], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=900)
    printed = dict(re.findall(re.escape(MARK) + r"(\d+)\n(.*?)(?=" + re.escape(MARK) + r"|\Z)",
                              run.stdout, re.S))
    assert run.returncode == 0, f"{page}: {run.stderr[-4000:]}\n(last output: {run.stdout[-2000:]})"
    return printed


@pytest.mark.parametrize("page", PAGES)
def test_every_code_block_runs(page, tmp_path, request):
    env = {}
    if page in GPU_PAGES:
        env["EMBER_CUDA_DRIVER"] = request.getfixturevalue("fake_cuda_driver")
    program = steps(page)
    if not program:
        pytest.skip(f"{page} has no code block that runs")
    printed = run_page(page, program, tmp_path, env)
    for kind, line, name, _, want in program:
        got = printed.get(str(line), "")
        if want is not None and not CHECKER.check_output(want, got, FLAGS):
            pytest.fail(f"{page}:{line}: printed\n{got}\nwhere the page shows\n{want}")


def test_the_guide_links_every_page_and_every_link_resolves():
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    for page in PAGES[1:]:
        assert f"({page})" in readme, f"README.md's contents do not link {page}"
    for page in PAGES:
        text = open(os.path.join(ROOT, page), encoding="utf-8").read()
        text = re.sub(r"`[^`\n]*`", "", FENCED.sub("", text))  # not code
        for link, anchor in re.findall(r"\]\(([^)#\s]*)(?:#([^)]*))?\)", text):
            if re.match(r"[a-z]+:", link):
                continue
            target = os.path.join(ROOT, os.path.dirname(page), link) if link else os.path.join(ROOT, page)
            assert os.path.exists(target), f"{page} links {link}, which does not exist"
            if anchor:
                assert anchor in anchors(target), f"{page} links {link}#{anchor}: no such heading"


def anchors(path):
    """The anchors of a page's headings, as GitHub makes them."""
    text = FENCED.sub("", open(path, encoding="utf-8").read())
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
            for h in re.findall(r"^#+ (.*)$", text, re.M)}


def test_norun_commands_are_all_shown():
    """NORUN lists only commands a page shows (none is stale)."""
    shown = {c[2:].split("  #")[0].strip() for page in PAGES for lang, attrs, body, _ in blocks(page)
             if lang == "console" for c in body.split("\n") if c.startswith("$ ")}
    assert set(NORUN) <= shown, set(NORUN) - shown
