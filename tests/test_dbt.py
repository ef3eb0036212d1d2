"""examples/dbt builds with ``dbt build`` (dbt-duckdb, a subprocess) against the emulator, and
its Python model leaves typed Extend results in DuckDB."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

import extend_frames as xf
from extend_frames.emulator import Emulator
from extend_frames.emulator.samples import INVOICE_EXTRACTOR_CONFIG, generate_samples

duckdb = pytest.importorskip("duckdb", reason="pip install -e '.[dev]' (dbt-duckdb)")
pytest.importorskip("dbt.adapters.duckdb", reason="pip install -e '.[dev]' (dbt-duckdb)")

PROJECT = Path(__file__).resolve().parent.parent / "examples" / "dbt"


def _dbt() -> list[str]:
    script = Path(sys.executable).with_name("dbt")
    return [str(script)] if script.exists() else [shutil.which("dbt") or "dbt"]


async def _extractor(emu: Emulator) -> str:
    async with xf.Client(api_key=emu.api_key, base_url=emu.url) as client:
        made = await client.create_processor(
            "extractor", name="dbt invoices", config=dict(INVOICE_EXTRACTOR_CONFIG)
        )
        return str(made["id"])


def _build(tmp_path: Path, emu: Emulator, variables: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "EXTEND_API_KEY": emu.api_key,
        "EXTEND_BASE_URL": emu.url,
        "DBT_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",  # tests never reach the internet
        "DBT_VERSION_CHECK": "false",
    }
    cmd = [*_dbt(), "build", "--project-dir", str(PROJECT), "--profiles-dir", str(PROJECT),
           "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
           "--vars", variables]  # fmt: skip
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)


def _copy(source: Path, names: list[str], folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    for name in names:
        shutil.copy(source / name, folder / name)
    return folder


def _vars(extractor: str, folder: Path, **extra: Path) -> str:
    more = "".join(f', {k}: "{v}"' for k, v in extra.items())
    return f'{{extractor_id: "{extractor}", documents_glob: "{folder}/*"{more}}}'


@pytest.mark.slow
def test_dbt_build_extracts_typed_invoices_into_duckdb(tmp_path: Path) -> None:
    samples = generate_samples(tmp_path / "docs", count=10, seed=8)
    truth = pl.read_parquet(samples.ground_truth_path)
    invoices = truth.filter(pl.col("doc_type") == "invoice")
    folder = _copy(samples.directory, invoices.get_column("path").to_list(), tmp_path / "inv")

    with Emulator() as emu:
        extractor = asyncio.run(_extractor(emu))
        variables = _vars(extractor, folder, extend_output=tmp_path / "extend")
        done = _build(tmp_path, emu, variables)
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
        sent = emu.stats()["inputs_submitted"]
        again = _build(tmp_path, emu, variables)  # a rebuild resumes from extend_output
        assert again.returncode == 0, again.stdout[-4000:]
        assert emu.stats()["inputs_submitted"] == sent

    assert sent == invoices.height
    assert "Completed successfully" in done.stdout
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        types = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_name = 'invoices_extracted'"
            ).fetchall()
        )
        got = con.sql("select * from invoices_extracted order by name").pl()
        totals = con.execute("select sum(invoices) from invoice_totals").fetchone()
    assert types["invoice_date"] == "DATE"
    assert types["total_amount"] == "DOUBLE"
    assert types["status"] == "VARCHAR"
    assert got.height == invoices.height  # every document is a row, failed ones too
    want = invoices.sort("path")
    assert got.get_column("name").to_list() == want.get_column("path").to_list()
    failed = got.filter(pl.col("status") == "FAILED")
    assert failed.get_column("failure_reason").to_list() == (
        want.get_column("expected_failure").drop_nulls().to_list()
    )
    ok = got.filter(pl.col("status") == "PROCESSED")
    expected = want.filter(pl.col("expected_failure").is_null())
    assert (
        ok.get_column("invoice_number").to_list() == expected.get_column("invoice_number").to_list()
    )
    assert ok.get_column("invoice_date").to_list() == expected.get_column("invoice_date").to_list()
    assert totals == (ok.height,)


@pytest.mark.slow
def test_dbt_incremental_rebuild_with_a_cache_pays_only_for_new_files(tmp_path: Path) -> None:
    samples = generate_samples(tmp_path / "docs", count=8, seed=9)
    truth = pl.read_parquet(samples.ground_truth_path)
    names = truth.filter(pl.col("doc_type") == "invoice").get_column("path").to_list()
    folder = _copy(samples.directory, names[:-1], tmp_path / "inv")

    with Emulator() as emu:
        extractor = asyncio.run(_extractor(emu))
        variables = _vars(extractor, folder, extend_cache=tmp_path / "cache")
        first = _build(tmp_path, emu, variables)
        assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
        sent = emu.stats()["inputs_submitted"]
        _copy(samples.directory, names[-1:], folder)  # one new document
        again = _build(tmp_path, emu, variables)
        assert again.returncode == 0, again.stdout[-4000:]
        assert emu.stats()["inputs_submitted"] - sent == 1

    assert sent == len(names) - 1
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        got = con.sql("select name, cached, credits from invoices_extracted order by name").pl()
    assert got.height == len(names)
    fresh = got.filter(~pl.col("cached"))
    assert fresh.get_column("name").to_list() == [names[-1]]
