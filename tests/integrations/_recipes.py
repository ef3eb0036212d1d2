"""The recipes of docs/guides/distributed.md, executed as written (by the ray and daft sessions)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import polars as pl

from extend_frames.emulator import Emulator

DOC = Path(__file__).resolve().parents[2] / "docs" / "guides" / "distributed.md"
ROWS = 300  # a few hundred documents: several batches per job


def recipe(name: str) -> dict[str, Any]:
    """Execute the ```python block after ``<!-- recipe: NAME -->``; return its namespace."""
    text = DOC.read_text(encoding="utf-8")
    found = re.search(rf"<!-- recipe: {name} -->\n```python\n(.*?)```", text, re.S)
    assert found, f"no '{name}' recipe in {DOC.name}"
    namespace: dict[str, Any] = {"__name__": f"recipe_{name}"}
    exec(compile(found.group(1), f"{DOC.name}:{name}", "exec"), namespace)  # noqa: S102
    return namespace


def frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "doc_id": [f"d{i:04d}" for i in range(ROWS)],
            "text": [f"Invoice number: R-{i}" for i in range(ROWS)],
            "wide": ["x" * 100] * ROWS,
        }
    )


def check(out: pl.DataFrame, emu: Emulator) -> None:
    assert sorted(out.get_column("doc_id").to_list()) == frame().get_column("doc_id").to_list()
    assert (out.get_column("status").cast(pl.String) == "PROCESSED").all()
    numbers = dict(out.select("doc_id", pl.col("output").struct.field("invoice_number")).rows())
    assert numbers["d0007"] == "R-7"
    stats = emu.stats()
    assert stats["inputs_submitted"] == ROWS
    assert stats["duplicate_inputs"] == 0
