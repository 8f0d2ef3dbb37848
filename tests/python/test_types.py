"""Types (issue 25): ember ships py.typed with annotations of its public
API, and mypy checks the samples against them; a misuse is an error."""

import glob
import os
import subprocess
import sys
import textwrap

import pytest

from conftest import EMBER_PATH

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
pytest.importorskip("mypy")


def mypy(*paths):
    env = dict(os.environ, MYPYPATH=EMBER_PATH)
    run = subprocess.run([sys.executable, "-m", "mypy", "--check-untyped-defs",
                          "--follow-imports=silent", "--ignore-missing-imports",
                          "--no-incremental", *paths],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    return run.returncode, run.stdout + run.stderr


def test_the_package_is_typed():
    assert os.path.exists(os.path.join(EMBER_PATH, "ember", "py.typed"))


def test_the_samples_type_check():
    samples = sorted(glob.glob(os.path.join(ROOT, "samples", "*.py")) +
                     glob.glob(os.path.join(ROOT, "samples", "aot", "*.py")))
    code, out = mypy(*samples)
    assert code == 0, out


def test_a_misuse_is_reported(tmp_path):
    wrong = tmp_path / "wrong.py"
    wrong.write_text(textwrap.dedent("""
        import ember

        @ember.reduce(2.5)
        def total(x):
            return x

        ember.set_num_threads("four")
        n: str = ember.get_num_threads()
    """))
    code, out = mypy(str(wrong))
    assert code == 1
    for line in (4, 8, 9):
        assert f"wrong.py:{line}: error" in out, out
