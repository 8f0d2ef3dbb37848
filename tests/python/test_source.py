"""Functions defined where Python keeps no source file: python -c, exec() of
a string, IPython's %%time and %%timeit cells; and the advice where nothing
is kept."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import ember

from conftest import EMBER_PATH as PYTHON_DIR  # the ember under test


def python(*args, stdin=None):
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                          input=stdin, timeout=300)


def test_python_dash_c():
    code = textwrap.dedent("""
        import numpy as np, ember

        @ember.vectorize
        def f(x):
            return x * 2.0 + 1.0

        g = ember.vectorize(lambda x, y: x - y)

        @ember.reduce("max")
        def biggest(x):
            return abs(x)

        @ember.kernel
        def fill(out, v):
            out[ember.tid()] = v

        out = np.zeros(3)
        fill[3](out, 2.5)
        print(f(np.arange(3.0)).tolist(), g(np.ones(2), 3.0).tolist(),
              biggest(np.array([-4.0, 2.0])), out.tolist())
    """)
    result = python("-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[0] == "[1.0, 3.0, 5.0] [-2.0, -2.0] 4.0 [2.5, 2.5, 2.5]"


def test_python_dash_c_gpu_functions():
    """target="cuda" functions find their python -c source too (their PTX
    needs no GPU)."""
    code = textwrap.dedent("""
        import numpy as np, ember

        f = ember.vectorize(["float64(float64)"], target="cuda")(lambda x: x + 1)
        total = ember.reduce("+", ["float64(float64)"], target="cuda")(lambda x: x)

        @ember.kernel(target="cuda")
        def fill(a):
            a[ember.tid()] = 1.0

        print(".entry" in f.inspect("ptx", arch="sm_80"), ".entry" in total.inspect("ptx", arch="sm_80"),
              ".entry" in fill.inspect("ptx", arch="sm_80", domain=(4,), args=(np.zeros(4),)))
    """)
    result = python("-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[0] == "True True True"


def test_exec_of_strings_each_with_its_own_source(tmp_path):
    first = "import ember\n\n@ember.vectorize\ndef f(x):\n    return x + 1\n"
    second = "import ember\n\n\n@ember.vectorize\ndef f(x):\n    return x * 100\n"
    a, b = {}, {}
    exec(first, a)
    exec(second, b)  # the same file name, "<string>", another text
    # Both compile only now, after both exec() calls returned.
    assert a["f"](np.arange(3)).tolist() == [1, 2, 3]
    assert b["f"](np.arange(3)).tolist() == [0, 100, 200]
    names = {a["f"].py_func.__code__.co_filename, b["f"].py_func.__code__.co_filename}
    assert len(names) == 2 and all(n.startswith("<string>") for n in names)
    third = {}
    source = "import ember\nh = ember.vectorize(lambda x: x - 1)\n"
    exec(source, third)  # the text held in a variable of the caller
    assert third["h"](np.arange(2)).tolist() == [-1, 0]
    assert third["h"].inspect("ir").startswith("func lambda(x: i64)")


def test_an_error_in_execd_source_points_at_its_line():
    namespace = {}
    exec("import ember\n\n@ember.vectorize\ndef bad(x):\n    y = x\n    return y.nope\n", namespace)
    with pytest.raises(ember.CompileError) as error:
        namespace["bad"](np.ones(2))
    assert error.value.lineno == 6 and "return y.nope" in str(error.value)


def test_pickling_an_execd_function(tmp_path):
    namespace = {}
    exec("import ember\n\n@ember.vectorize\ndef triple(x):\n    return x * 3\n", namespace)
    namespace["triple"](np.ones(2))
    import pickle
    path = tmp_path / "f.pickle"
    path.write_bytes(pickle.dumps(namespace["triple"]))
    result = python("-c", f"import pickle, numpy as np\nf = pickle.load(open({str(path)!r}, 'rb'))\n"
                          "print(f(np.arange(3)).tolist())")
    assert result.returncode == 0 and result.stdout.strip() == "[0, 3, 6]", result.stderr


def _exec_dropped(k):
    """A function exec'd from text built and dropped here: only its code is left."""
    namespace = {}
    exec(f"def f(x):\n    return x + {k}\n", namespace)
    return namespace["f"]


def test_another_execs_text_under_the_same_name_is_never_compiled():
    # The first text stays in linecache as "<string>"; the second function has
    # the same name, line and bytecode (x + k), but its own constant, and its
    # text is gone: ember must refuse it, not compile the first one's.
    namespace = {}
    exec("def f(x):\n    return x + 1\n", namespace)
    assert ember.vectorize(namespace["f"])(10) == 11
    g = _exec_dropped(100)
    assert g(10) == 110
    with pytest.raises(ember.CompileError, match="keeps under the name <string> is another exec's"):
        ember.vectorize(g)(10)


def test_where_nothing_is_kept_the_error_says_what_to_do():
    parts = ["import ember\n", "@ember.vectorize\n", "def f(x):\n", "    return x\n"]
    with pytest.raises(ember.CompileError, match=r"exec\(\) of a string: ember looks for the "
                                                 r"text .* linecache.cache\[name\]"):
        exec(compile("".join(parts), "<string>", "exec"), {})  # the text is gone by then
    stdin = python("-", stdin="import ember\n@ember.vectorize\ndef g(y):\n    return y\n")
    assert "code read from standard input" in stdin.stderr and "Python 3.13" in stdin.stderr


def test_ipython_time_cells(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    cells = [f"import sys; sys.path.insert(0, {PYTHON_DIR!r})\nimport numpy as np, ember",
             "%%time\n@ember.vectorize\ndef inc(x):\n    return x + 1\nprint(inc(np.arange(3)).tolist())",
             "%%timeit -n1 -r1\n@ember.vectorize\ndef dec(x):\n    return x - 1\n"
             "assert dec(np.arange(3)).tolist() == [-1, 0, 1]"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    printed = "".join(o.get("text", "") for o in nb.cells[1].outputs)
    assert "[1, 2, 3]" in printed
    timed = nb.cells[2].outputs
    assert not [o for o in timed if o["output_type"] == "error"], timed
    assert "per loop" in "".join(o.get("text", "") for o in timed)
