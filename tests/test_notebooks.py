"""The notebooks run top to bottom on a fresh kernel (the venv's python3) against the emulator,
and their key cells show what the prose promises."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat", reason="pip install -e '.[dev]' (nbformat)")
nbclient = pytest.importorskip("nbclient", reason="pip install -e '.[dev]' (nbclient)")
pytest.importorskip("ipykernel", reason="pip install -e '.[dev]' (ipykernel)")
pytest.importorskip("matplotlib", reason="pip install -e '.[dev]' (matplotlib)")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def _execute(name: str, cwd: Path) -> Any:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), (
        f"{name} is committed with outputs; run python notebooks/_build.py"
    )
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    return nb


def _text(cell: Any) -> str:
    parts: list[str] = []
    for output in cell.get("outputs", []):
        assert output["output_type"] != "error", output
        if output["output_type"] == "stream":
            assert "EOF marker" not in output["text"]  # emulator noise stays out of sight
            assert "IProgress not found" not in output["text"]  # the progress bar's choice
            parts.append(output["text"])
        elif "data" in output:
            parts.append(output["data"].get("text/plain", ""))
    return "".join(parts)


def _cell(nb: Any, marker: str) -> Any:
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and marker in c.source]
    return cell


@pytest.mark.slow
def test_quickstart(tmp_path: Path) -> None:
    nb = _execute("quickstart.ipynb", tmp_path)
    for cell in nb.cells:
        _text(cell)  # no error outputs anywhere
    assert "extractor ex_" in _text(_cell(nb, "create_processor"))
    summary = _text(_cell(nb, "out.xf.summary()"))
    assert "PROCESSED" in summary
    assert "FAILED" in summary  # the corpus's encrypted invoice
    schema = _text(_cell(nb, "out.schema['output']"))
    assert "invoice_date" in schema
    assert "Date" in schema
    assert "PASSWORD_PROTECTED_FILE" in _text(_cell(nb, "failure_reason"))
    resumed = _text(_cell(nb, "sent_before"))
    assert "rerun 0" in resumed
    assert "same result: True" in resumed
    (table,) = [o for o in _cell(nb, "xf.summarize(out)").outputs if "data" in o]
    assert "<table class='xf-summary'>" in table["data"]["text/html"]
    (page,) = [o for o in _cell(nb, "xf.report(output)").outputs if "data" in o]
    assert "<svg" in page["data"]["text/html"]  # the batches over time
    assert "xf-report" in page["data"]["text/html"]


@pytest.mark.slow
def test_classify_and_split(tmp_path: Path) -> None:
    nb = _execute("classify_and_split.ipynb", tmp_path)
    for cell in nb.cells:
        _text(cell)
    charts = [
        c
        for c in nb.cells
        if c.cell_type == "code" and any("image/png" in o.get("data", {}) for o in c.outputs)
    ]
    assert len(charts) == 2  # the bar chart of types and the page-range chart
    accuracy = _text(_cell(nb, "classify accuracy"))
    right, total = accuracy.split(": ")[1].strip().split("/")
    assert int(total) > 0
    assert int(right) >= 0.9 * int(total)
    exact = _text(_cell(nb, "packets split exactly right"))
    right, total = exact.split(": ")[1].strip().split("/")
    assert int(right) >= 0.8 * int(total) > 0
