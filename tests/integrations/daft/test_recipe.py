"""The Daft recipe of docs/guides/distributed.md over a few hundred documents (nox -s daft)."""

from __future__ import annotations

from pathlib import Path

import daft
import polars as pl
import pytest

from extend_frames.emulator import Emulator
from tests.integrations._docs import extractor
from tests.integrations._recipes import check, frame, recipe


@pytest.mark.slow
def test_daft_recipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    namespace = recipe("daft")
    with Emulator() as emu:
        monkeypatch.setenv("EXTEND_API_KEY", emu.api_key)
        monkeypatch.setenv("EXTEND_BASE_URL", emu.url)
        df = daft.from_arrow(frame().to_arrow())
        out_df = namespace["extract_with_daft"](
            df,
            extractor(emu),
            str(tmp_path / "job"),
            key="doc_id",
            reference="text",
            text_column="text",
        )
        out = pl.from_arrow(out_df.to_arrow())
        assert isinstance(out, pl.DataFrame)
        assert out.columns[:3] == ["doc_id", "text", "wide"]
        check(out, emu)
