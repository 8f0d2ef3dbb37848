"""inspect() in a real Jupyter kernel (driven by nbclient): the stage's text
is shown highlighted (text/html) and as plain text, not as a quoted string."""

import os

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from conftest import EMBER_PATH as PYTHON_DIR  # the ember under test

CELLS = [
    f"import sys; sys.path.insert(0, {PYTHON_DIR!r})\nimport numpy as np, ember",
    "@ember.vectorize\ndef price(s, k):\n    return s * 2.0 + k if s > k else k - s",
    "price(np.ones(3), 2.0)\nprice.inspect('ir')",
    "price.inspect('asm')",
    "text = price.inspect('ir')\nprint(type(text).__name__, isinstance(text, str), text.split()[0])",
]


def test_inspect_in_a_jupyter_kernel(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    env_dir = tmp_path / "cache"
    os.environ.setdefault("EMBER_CACHE_DIR", str(env_dir))
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    ir_out = nb.cells[2].outputs[0]["data"]
    assert "<span" in ir_out["text/html"] and "price" in ir_out["text/html"]
    assert ir_out["text/plain"].startswith("func price(s: f64, k: f64) -> f64 {")  # no quotes
    asm_out = nb.cells[3].outputs[0]["data"]
    assert "<span" in asm_out["text/html"] and "price_contig" in asm_out["text/plain"]
    assert nb.cells[4].outputs[0]["text"].strip() == "Code True func"


def test_the_inspect_sample_notebook_runs_and_shows_reports(tmp_path, monkeypatch):
    path = os.path.join(os.path.dirname(__file__), "..", "..", "samples", "inspect.ipynb")
    nb = nbformat.read(path, as_version=4)
    monkeypatch.setenv("PYTHONPATH", PYTHON_DIR)  # the kernel process imports this ember
    monkeypatch.setenv("EMBER_CACHE_DIR", str(tmp_path / "cache"))
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    price = code[1].outputs[0]["data"]
    assert "<span class=\"nf\">price</span>" in price["text/html"]  # the source, highlighted
    assert "vectorized loop (vectorization width:" in price["text/html"]
    for stage in ("ember IR after the passes", "LLVM IR, optimized", "assembly"):
        assert stage in price["text/html"]
    assert price["text/plain"].startswith("price float64(float64, float64, float64) on")
    mandel = code[2].outputs[-1]["data"]["text/html"]
    assert "loop not vectorized" in mandel and "while" in mandel
    text = code[3].outputs[0]["text"]
    assert "def price(s, k, t):" in text and "vectorized loop" in text
    assert "zmm" in code[4].outputs[0]["data"]["text/plain"]
