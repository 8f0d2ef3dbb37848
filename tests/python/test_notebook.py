"""inspect() in a real Jupyter kernel (driven by nbclient): the stage's text
is shown highlighted (text/html) and as plain text, not as a quoted string."""

import os

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

PYTHON_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "python"))

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
