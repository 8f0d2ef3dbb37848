"""ember's logging goes through Python's `logging` ("ember" and its
children): silent by default, one INFO line per compile, the passes at
DEBUG, the IR at TRACE; EMBER_LOG_LEVEL adds a stderr handler; levels change
at run time."""

import logging
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import ember
from ember import isa

from conftest import EMBER_PATH as PYTHON_DIR  # the ember under test
SCRIPT = textwrap.dedent("""
    import numpy as np, ember

    @ember.vectorize
    def f(x):
        return x * 2.0 + 1.0

    f(np.ones(3))
""")


def stderr_with(level, tmp_path):
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR, EMBER_CACHE="off")
    env.pop("EMBER_LOG_LEVEL", None)
    if level is not None:
        env["EMBER_LOG_LEVEL"] = level
    path = tmp_path / "logged.py"
    path.write_text(SCRIPT)
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, env=env,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stderr


def test_levels_from_the_environment(tmp_path):
    assert stderr_with(None, tmp_path) == ""  # a library prints nothing by itself
    info = stderr_with("info", tmp_path).splitlines()
    level = isa.level()
    assert len(info) == 1 and info[0].startswith(
        f"ember INFO: f float64(float64) for {level}: compiled (ember's passes"), info
    debug = stderr_with("DEBUG", tmp_path)
    assert "ember.compiler DEBUG: promote on 'f'" in debug and "ember.frontend DEBUG" in debug
    assert "func f(" not in debug  # the IR is TRACE's
    assert "ember.compiler TRACE: after promote:\nfunc f(x: f64) -> f64 {" in stderr_with("trace", tmp_path)
    bogus = stderr_with("loud", tmp_path)
    assert "EMBER_LOG_LEVEL='loud' is not a level" in bogus


def test_python_logging_controls_it_at_run_time(caplog):
    logger = logging.getLogger("ember")
    before = logger.level
    try:
        with caplog.at_level(logging.DEBUG, logger="ember"):
            g = ember.vectorize(lambda x: x - 1.0, cache=False)
            g(np.ones(2))
        names = {r.name for r in caplog.records}
        assert {"ember", "ember.compiler", "ember.codegen"} <= names  # C++ records forwarded
        assert any("compiled (ember's passes" in r.getMessage() for r in caplog.records)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="ember"):
            h = ember.vectorize(lambda x: x - 2.0, cache=False)
            h(np.ones(2))
        assert not caplog.records
    finally:
        logger.setLevel(before)
