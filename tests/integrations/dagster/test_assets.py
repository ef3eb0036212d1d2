"""extend_asset and ExtendResource: examples/dagster materialized for two daily partitions
against the emulator, and the failed-rows check."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import polars as pl
import pytest
from dagster import AssetKey, DailyPartitionsDefinition, materialize

from extend_frames.dagster import FAILED_ROWS_CHECK, ExtendResource, extend_asset
from extend_frames.emulator import Emulator
from tests.integrations._docs import extractor, invoice_table

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "dagster" / "definitions.py"


def _example(emu: Emulator, lake: Path, mp: pytest.MonkeyPatch) -> ModuleType:
    for name, value in {
        "EXTEND_API_KEY": emu.api_key,
        "EXTEND_BASE_URL": emu.url,
        "EXTEND_EXTRACTOR": extractor(emu),
        "INVOICES_LAKE": str(lake),
    }.items():
        mp.setenv(name, value)
    spec = importlib.util.spec_from_file_location("definitions", EXAMPLE)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _evaluation(result: object) -> object:
    (evaluation,) = result.get_asset_check_evaluations()  # type: ignore[attr-defined]
    assert evaluation.check_name == FAILED_ROWS_CHECK
    return evaluation


@pytest.mark.slow
def test_two_daily_partitions_with_cache_pay_only_for_new_documents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = invoice_table(tmp_path / "day1", 20, seed=11)
    second = pl.concat([first, invoice_table(tmp_path / "day2", 15, seed=12)])
    (tmp_path / "invoices").mkdir()
    first.write_parquet(tmp_path / "invoices" / "2026-12-01.parquet")
    second.write_parquet(tmp_path / "invoices" / "2026-12-02.parquet")
    with Emulator() as emu:
        example = _example(emu, tmp_path, monkeypatch)
        assert example.defs.resolve_asset_graph().get_all_asset_keys() == {
            AssetKey("extend_invoices")
        }
        resources = {"extend": example.extend}
        day1 = materialize([example.invoices], partition_key="2026-12-01", resources=resources)
        sent1 = emu.stats()["inputs_submitted"]
        day2 = materialize([example.invoices], partition_key="2026-12-02", resources=resources)
        sent2 = emu.stats()["inputs_submitted"]
    assert day1.success
    assert day2.success
    meta1 = day1.asset_materializations_for_node("extend_invoices")[0].metadata
    meta2 = day2.asset_materializations_for_node("extend_invoices")[0].metadata
    assert meta1["rows"].value == first.height == sent1
    assert meta1["cached"].value == 0
    # Day 2 submits its new documents, plus day 1's FAILED ones (only results that were
    # PROCESSED are cached); everything else day 1 already paid for comes from the cache.
    failed1 = meta1["failed"].value
    new = second.height - first.height
    assert sent2 - sent1 == new + failed1
    assert meta2["cached"].value == first.height - failed1
    assert meta2["rows"].value == second.height
    assert str(meta2["output"].value).endswith("2026-12-02")
    assert meta2["credits"].value > 0
    assert "PROCESSED" in meta2["by_status"].value
    # The example allows 5% FAILED rows per day.
    assert _evaluation(day2).passed == (meta2["failed"].value / meta2["rows"].value <= 0.05)


@pytest.mark.parametrize(("share", "passed"), [(0.0, False), (0.5, True)])
def test_the_check_fails_above_the_failed_share(tmp_path: Path, share: float, passed: bool) -> None:
    texts = ["Invoice number: R-1", "Invoice number: R-2", "__FAIL:CORRUPT_FILE", "R-4"]
    with Emulator() as emu:
        asset_def = extend_asset(
            name="notes",
            processor=extractor(emu),
            input=lambda: pl.DataFrame({"doc_id": ["a", "b", "c", "d"], "text": texts}),
            output=str(tmp_path / "jobs" / "notes"),
            text_column="text",
            key="doc_id",
            max_failed_share=share,
        )
        resource = ExtendResource(api_key=emu.api_key, base_url=emu.url)
        result = materialize([asset_def], resources={"extend": resource})
    assert result.success  # a failed check does not fail the materialization
    evaluation = _evaluation(result)
    assert evaluation.passed is passed
    assert evaluation.metadata["failed"].value == 1


def test_unknown_options_and_missing_processor_are_refused() -> None:
    from extend_frames import InputError

    daily = DailyPartitionsDefinition(start_date="2026-12-01")
    with pytest.raises(InputError, match="unknown options: batchsize"):
        extend_asset(name="a", processor="ex_1", input="x.csv", output="o", batchsize=5)
    with pytest.raises(InputError, match="needs processor="):
        extend_asset(name="a", input="x.csv", output="o", partitions_def=daily)
    with pytest.raises(InputError, match="sets client"):
        extend_asset(name="a", processor="ex_1", input="x.csv", output="o", client=None)
