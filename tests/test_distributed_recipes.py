"""The recipes of docs/guides/distributed.md, executed as written, when their package is installed.

Ray and Daft are not in the dev extra (see pyproject.toml); without them these tests skip.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from extend_frames.emulator import Emulator
from tests.jobs.conftest import create_processor

DOC = Path(__file__).resolve().parents[1] / "docs" / "guides" / "distributed.md"
ROWS = 120


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


@pytest.mark.slow
def test_ray_recipe(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray", reason="Ray is not installed (not in the dev extra)")
    pytest.importorskip("ray.data")
    import pyarrow as pa

    namespace = recipe("ray")
    with Emulator() as emu:
        extractor = create_processor(emu, "extractor")
        env = {"EXTEND_API_KEY": emu.api_key, "EXTEND_BASE_URL": emu.url}
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            log_to_driver=False,
            runtime_env={"env_vars": env},
        )
        try:
            ds = ray.data.from_arrow(frame().to_arrow())
            run = namespace["extract_with_ray"]
            args = (extractor, str(tmp_path / "jobs"))
            first = run(ds, *args, key="doc_id", blocks=4, text_column="text")
            out = pl.from_arrow(pa.concat_tables(ray.get(first.to_arrow_refs())))
            assert isinstance(out, pl.DataFrame)
            check(out, emu)
            assert len(list((tmp_path / "jobs").iterdir())) == 4  # one job per block
            # Rerun: every block's job is complete, so nothing is submitted again.
            again = run(ds, *args, key="doc_id", blocks=4, text_column="text")
            assert sum(b.num_rows for b in ray.get(again.to_arrow_refs())) == ROWS
            assert emu.stats()["inputs_submitted"] == ROWS
        finally:
            ray.shutdown()


@pytest.mark.slow
def test_daft_recipe(tmp_path: Path) -> None:
    daft = pytest.importorskip("daft", reason="Daft is not installed (not in the dev extra)")
    namespace = recipe("daft")
    with Emulator() as emu, pytest.MonkeyPatch.context() as mp:
        mp.setenv("EXTEND_API_KEY", emu.api_key)
        mp.setenv("EXTEND_BASE_URL", emu.url)
        extractor = create_processor(emu, "extractor")
        df = daft.from_arrow(frame().to_arrow())
        out_df = namespace["extract_with_daft"](
            df,
            extractor,
            str(tmp_path / "job"),
            key="doc_id",
            reference="text",
            text_column="text",
        )
        out = pl.from_arrow(out_df.to_arrow())
        assert isinstance(out, pl.DataFrame)
        assert out.columns[:3] == ["doc_id", "text", "wide"]
        check(out, emu)
