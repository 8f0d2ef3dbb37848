"""ember's logging goes through Python's `logging` ("ember" and its
children): silent by default, one INFO line per compile, the passes at
DEBUG, the IR at TRACE; EMBER_LOG_LEVEL adds a stderr handler; levels change
at run time."""

import logging
import os
import re
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


def stderr_with(level, tmp_path, script=SCRIPT, check=True, cache="off"):
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR, EMBER_CACHE=cache,
               EMBER_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("EMBER_LOG_LEVEL", None)
    if level is not None:
        env["EMBER_LOG_LEVEL"] = level
    path = tmp_path / "logged.py"
    path.write_text(script)
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, env=env,
                            timeout=300)
    assert (result.returncode == 0) == check, result.stderr
    return result.stderr


def test_levels_from_the_environment(tmp_path):
    assert stderr_with(None, tmp_path) == ""  # a library prints nothing by itself
    info = stderr_with("info", tmp_path).splitlines()
    level = isa.level()
    assert len(info) == 1 and info[0].startswith(f"ember INFO: f float64(float64) for {level}, "), info
    assert re.search(r"-bit vectors: compiled in [0-9.]+ ms \(ember's passes [0-9.]+ ms, LLVM [0-9.]+ ms\)$",
                     info[0]), info
    # A disk cache hit names the same registers: the artifact keeps them.
    first = stderr_with("info", tmp_path, cache="on")
    assert first.startswith(info[0].split(": compiled")[0] + ": compiled"), first
    hit = stderr_with("info", tmp_path, cache="on")
    assert re.fullmatch(re.escape(info[0].split(": compiled")[0]) +
                        r": loaded from the disk cache in [0-9.]+ ms\n", hit), hit
    debug = stderr_with("DEBUG", tmp_path)
    assert "ember.compiler DEBUG: promote on 'f'" in debug and "ember.frontend DEBUG" in debug
    assert "func f(" not in debug  # the IR is TRACE's
    assert "ember.compiler TRACE: after promote:\nfunc f(x: f64) -> f64 {" in stderr_with("trace", tmp_path)
    bogus = stderr_with("loud", tmp_path, check=False)  # an error, at import
    assert ("ValueError: EMBER_LOG_LEVEL='loud' is not a log level: use trace, debug, info, "
            "warning, error, critical or off") in bogus, bogus


def test_the_line_names_the_vector_registers_the_code_uses(caplog):
    """The INFO line's width is the widest register in the code's assembly
    (the benchmark's check), for a vector map, a reduction and scalar code."""
    from ember.bench import vector_bits

    x = np.ones(3)
    maps = [(ember.vectorize(lambda x: x * 2.0 + 1.0, cache=False), (x,)),
            (ember.reduce("+", cache=False)(lambda x, y: x * y), (x, x)),
            (ember.vectorize(lambda x: x // 3, cache=False), (x.astype(np.int64),))]
    with caplog.at_level(logging.INFO, logger="ember"):
        for f, args in maps:
            f(*args)
    lines = [r.getMessage() for r in caplog.records if r.name == "ember"]
    assert len(lines) == 3, lines
    for (f, _), line in zip(maps, lines):
        bits = vector_bits(f)
        assert (f", {bits}-bit vectors: " in line) if bits > 64 else (", scalar code: " in line), line


def test_set_log_level(tmp_path):
    logger = logging.getLogger("ember")
    before = logger.level
    try:
        ember.set_log_level("DEBUG")
        assert logger.level == logging.DEBUG
        ember.set_log_level(logging.WARNING)
        assert logger.level == logging.WARNING
        with pytest.raises(ValueError, match="'loud' is not a log level: use trace, debug, info"):
            ember.set_log_level("loud")
        with pytest.raises(TypeError, match="a log level is a name"):
            ember.set_log_level(2.5)
    finally:
        logger.setLevel(before)
    # In a process that configured no logging, its records go to stderr;
    # where the application configured logging, through its handlers only.
    calls = "import ember\nember.set_log_level('info')\n" + SCRIPT
    assert stderr_with(None, tmp_path, calls).startswith("ember INFO: f float64(float64) for ")
    configured = "import logging\nlogging.basicConfig(format='APP %(message)s')\n" + calls
    lines = stderr_with(None, tmp_path, configured).splitlines()
    assert len(lines) == 1 and lines[0].startswith("APP f float64(float64) for "), lines


def test_python_logging_controls_it_at_run_time(caplog):
    logger = logging.getLogger("ember")
    before = logger.level
    try:
        with caplog.at_level(logging.DEBUG, logger="ember"):
            g = ember.vectorize(lambda x: x - 1.0, cache=False)
            g(np.ones(2))
        names = {r.name for r in caplog.records}
        assert {"ember", "ember.compiler", "ember.codegen"} <= names  # C++ records forwarded
        assert any(" ms (ember's passes " in r.getMessage() for r in caplog.records)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="ember"):
            h = ember.vectorize(lambda x: x - 2.0, cache=False)
            h(np.ones(2))
        assert not caplog.records
    finally:
        logger.setLevel(before)


def test_a_pickled_function_logs_its_load_from_the_pickle(tmp_path):
    import pickle
    f = ember.vectorize(lambda x: x * 3.0, cache=False)
    f(np.ones(2))
    (tmp_path / "f.pickle").write_bytes(pickle.dumps(f))
    script = ("import pickle, numpy as np\n"
              f"f = pickle.load(open({str(tmp_path / 'f.pickle')!r}, 'rb'))\n"
              "assert f(np.ones(2)).tolist() == [3.0, 3.0]\n")
    line = stderr_with("info", tmp_path, script)
    assert re.fullmatch(r"ember INFO: \S*<lambda> float64\(float64\) for [^:]+: "
                        r"loaded from the pickle in [0-9.]+ ms\n", line), line
