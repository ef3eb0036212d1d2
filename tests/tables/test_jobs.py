"""table= end to end: jobs on the emulator publishing to real Delta and Iceberg tables, read
back by the tables' own libraries."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pyarrow as pa
import pytest

import extend_frames as xf
from extend_frames.emulator import Emulator
from extend_frames.emulator.samples import INVOICE_EXTRACTOR_CONFIG
from extend_frames.tables._delta import DeltaSink
from extend_frames.tables._iceberg import IcebergSink
from tests.jobs.conftest import FAST, create_processor, make_client
from tests.tables.conftest import Tables, commits, read_back, sql_catalog, version


def invoices(n: int, *, changed: dict[int, str] | None = None) -> pl.DataFrame:
    numbers = {i: f"S-{i}" for i in range(n)} | (changed or {})
    texts = [f"Invoice number: {numbers[i]}\nInvoice date: 2026-01-0{1 + i % 9}" for i in range(n)]
    return pl.DataFrame({"doc": [f"d{i}" for i in range(n)], "text": texts})


def run(emu: Emulator, frame: pl.DataFrame, processor: str, **options: Any) -> pl.DataFrame:
    return xf.extract(
        frame,
        processor=processor,
        text_column="text",
        key="doc",
        batch_size=3,
        route="batch",
        client=make_client(emu),
        polling=FAST,
        progress=False,
        **options,
    )


def check_table(target: xf.Delta | xf.Iceberg, rows: int, *, chunks: int | None = None) -> None:
    """Row count, no key twice, a date as a date, one commit per chunk."""
    table = read_back(target)
    assert table.num_rows == rows
    assert len(set(table.column("doc").to_pylist())) == rows
    assert table.schema.field("output").type.field("invoice_date").type == pa.date32()
    if chunks is not None:
        marked = commits(target)
        assert len(marked) == len(set(marked)) == chunks


def test_a_job_publishes_each_batch_once(tables: Tables, tmp_path: Path) -> None:
    target = tables.target()
    frame = invoices(7)
    with Emulator() as emu:
        extractor = create_processor(emu, "extractor")
        out = run(emu, frame, extractor, output=str(tmp_path / "job"), table=target)
        again = run(emu, frame, extractor, output=str(tmp_path / "job"), table=target)
    assert out.height == again.height == 7
    check_table(target, 7, chunks=3)  # 3 batches of at most 3, one commit each, rerun adds none
    back = xf.read_results(target)
    assert sorted(back.get_column("doc").to_list()) == sorted(frame.get_column("doc").to_list())
    assert back.get_column("extend_job_id").n_unique() == 1


def test_table_needs_output_and_is_refused_before_any_request(tmp_path: Path) -> None:
    with Emulator() as emu:
        extractor = create_processor(emu, "extractor")
        with pytest.raises(xf.InputError, match="table= needs output="):
            run(emu, invoices(2), extractor, table=xf.Delta(str(tmp_path / "t")))
        with pytest.raises(xf.InputError, match="table= takes"):
            run(emu, invoices(2), extractor, output=str(tmp_path / "o"), table=42)
        assert emu.stats()["requests_total"] == 1  # the processor, created by the test


def test_a_crash_between_part_and_commit_is_published_by_the_rerun(
    local_tables: Tables, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = local_tables.target()
    sink = DeltaSink if isinstance(target, xf.Delta) else IcebergSink
    real = sink._commit
    crashed: list[int] = []

    def crash_once(self: Any, job_id: str, chunk: int, rows: pa.Table) -> None:
        if chunk == 1 and not crashed:
            crashed.append(chunk)
            raise RuntimeError("killed between the part and its commit")
        real(self, job_id, chunk, rows)

    monkeypatch.setattr(sink, "_commit", crash_once)
    output = str(tmp_path / "job")
    with Emulator() as emu:
        extractor = create_processor(emu, "extractor")
        with pytest.raises(RuntimeError, match="killed"):
            run(emu, invoices(8), extractor, output=output, table=target)
        assert (tmp_path / "job" / "part-00001.parquet").exists()  # the part was written
        submitted = emu.stats()["inputs_submitted"]
        run(emu, invoices(8), extractor, output=output, table=target)
        assert emu.stats()["inputs_submitted"] == submitted  # nothing paid twice
    check_table(target, 8, chunks=3)


def test_a_job_run_without_table_is_published_when_rerun_with_one(
    local_tables: Tables, tmp_path: Path
) -> None:
    target = local_tables.target()
    output = str(tmp_path / "job")
    with Emulator() as emu:
        extractor = create_processor(emu, "extractor")
        run(emu, invoices(5), extractor, output=output)
        xf.collect(output, table=target, client=make_client(emu), polling=FAST, progress=False)
    check_table(target, 5, chunks=2)


def _publish_version(emu: Emulator, extractor: str, config: dict[str, Any]) -> None:
    response = httpx.post(
        f"{emu.url}/extractors/{extractor}/versions",
        json={"releaseType": "major", "config": config},
        headers={"Authorization": f"Bearer {emu.api_key}", "x-extend-api-version": "2026-02-09"},
        timeout=60.0,
    )
    response.raise_for_status()


def _with_field(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    config = copy.deepcopy(INVOICE_EXTRACTOR_CONFIG)
    config["schema"]["properties"][name] = spec
    return config


def test_a_new_processor_version_evolves_the_table_and_a_type_change_is_refused(
    local_tables: Tables, tmp_path: Path
) -> None:
    target = local_tables.target()
    with Emulator() as emu:
        extractor = create_processor(emu, "extractor")
        run(emu, invoices(4), extractor, output=str(tmp_path / "v0"), table=target)
        added = {"type": ["string", "null"], "description": "Purchase order number"}
        _publish_version(emu, extractor, _with_field("po_number", added))
        run(emu, invoices(4), extractor, output=str(tmp_path / "v1"), table=target)
        table = read_back(target)
        assert table.num_rows == 8
        assert "po_number" in table.schema.field("output").type.names

        retyped = _with_field("invoice_number", {"type": ["number", "null"]})
        _publish_version(emu, extractor, retyped)
        before, stats = version(target), emu.stats()
        with pytest.raises(xf.TableError, match=r"'output\.invoice_number' of type string") as err:
            run(emu, invoices(4), extractor, output=str(tmp_path / "v2"), table=target)
        assert "Nothing was written" in str(err.value)
        assert emu.stats()["inputs_submitted"] == stats["inputs_submitted"]  # nothing sent
    assert version(target) == before


def test_merge_on_the_second_day_with_cache_keeps_one_current_row_per_key(
    local_tables: Tables, tmp_path: Path
) -> None:
    target = local_tables.target("merge")  # merge_on: the job's key= ("doc")
    cache = str(tmp_path / "cache")
    with Emulator() as emu:
        extractor = create_processor(emu, "extractor")
        run(emu, invoices(6), extractor, output=str(tmp_path / "day1"), cache=cache, table=target)
        day2 = invoices(7, changed={1: "NEW-1", 4: "NEW-4"})  # two changed, one new document
        out = run(emu, day2, extractor, output=str(tmp_path / "day2"), cache=cache, table=target)
        assert out.get_column("cached").sum() == 4  # the unchanged documents: no new run
    rows = xf.read_results(target).sort("doc")
    assert rows.height == 7
    assert rows.get_column("doc").n_unique() == 7
    numbers = rows.select(pl.col("output").struct.field("invoice_number")).to_series()
    assert numbers.to_list() == ["S-0", "NEW-1", "S-2", "S-3", "NEW-4", "S-5", "S-6"]
    assert rows.get_column("extend_job_id").n_unique() == 1  # every row: day 2's job


COLLECTOR = textwrap.dedent(
    """
    import sys
    import extend_frames as xf
    kind, output, where = sys.argv[1:4]
    table = xf.Delta(where) if kind == "delta" else xf.Iceberg("lake.jobs", catalog="local")
    try:
        xf.collect(output, table=table, polling=xf.Polling.fast(), progress=False)
    except xf.StoreError as exc:  # the other process holds the output's lock
        assert "lock" in str(exc), exc
        sys.exit(11)
    """
)


@pytest.mark.parametrize("kind", ["delta", "iceberg"])
def test_two_processes_collecting_the_same_job_publish_each_batch_once(
    kind: str, tmp_path: Path
) -> None:
    output, where = str(tmp_path / "job"), str(tmp_path / "delta")
    env = {
        **os.environ,
        "PYICEBERG_CATALOG__LOCAL__TYPE": "sql",
        "PYICEBERG_CATALOG__LOCAL__URI": f"sqlite:///{tmp_path / 'catalog.db'}",
        "PYICEBERG_CATALOG__LOCAL__WAREHOUSE": (tmp_path / "warehouse").as_uri(),
    }
    with Emulator() as emu:
        extractor = create_processor(emu, "extractor")
        run(emu, invoices(9), extractor, output=output, detach=True)
        env |= {"EXTEND_API_KEY": emu.api_key, "EXTEND_BASE_URL": emu.url}
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", COLLECTOR, kind, output, where],
                env=env,
                stderr=subprocess.PIPE,
            )
            for _ in range(2)
        ]
        codes = []
        for proc in procs:
            _, err = proc.communicate(timeout=300)
            assert proc.returncode in (0, 11), err.decode()[-2000:]
            codes.append(proc.returncode)
    assert 0 in codes
    if kind == "delta":
        target: xf.Delta | xf.Iceberg = xf.Delta(where)
    else:
        catalog = sql_catalog(tmp_path, (tmp_path / "warehouse").as_uri(), name="local")
        target = xf.Iceberg("lake.jobs", catalog=catalog)
    check_table(target, 9, chunks=3)
    manifest = json.loads((tmp_path / "job" / "_manifest.json").read_text())
    assert {job for job, _ in commits(target)} == {manifest["job_id"]}


def test_an_all_failed_batch_has_the_table_schema(local_tables: Tables, tmp_path: Path) -> None:
    target = local_tables.target()
    failing = invoices(3).with_columns(pl.format("__FAIL:CORRUPT_FILE {}", "text").alias("text"))
    with Emulator() as emu:
        extractor = create_processor(emu, "extractor")
        run(emu, invoices(3), extractor, output=str(tmp_path / "ok"), table=target)
        schema = read_back(target).schema
        out = run(emu, failing, extractor, output=str(tmp_path / "failed"), table=target)
    assert set(out.get_column("status").cast(pl.String)) == {"FAILED"}
    table = read_back(target)
    assert table.schema == schema
    assert table.num_rows == 6


def test_a_retry_publishes_the_retried_rows_under_the_attempt(
    local_tables: Tables, tmp_path: Path
) -> None:
    target = local_tables.target("merge")
    frame = invoices(5)
    frame = frame.with_columns(
        pl.when(pl.col("doc") == "d3")
        .then(pl.lit("__FAIL:INTERNAL_ERROR"))
        .otherwise(pl.col("text"))
        .alias("text")
    )
    output = str(tmp_path / "job")
    with Emulator() as emu:
        extractor = create_processor(emu, "extractor")
        run(emu, frame, extractor, output=output, table=target)
        run(emu, frame, extractor, output=output, table=target, mode="retry")
    rows = xf.read_results(target).sort("doc")
    assert rows.height == 5  # merge: the retried row replaced, not added
    job_id = json.loads((tmp_path / "job" / "_manifest.json").read_text())["job_id"]
    by_doc = dict(zip(rows.get_column("doc"), rows.get_column("extend_job_id"), strict=True))
    assert by_doc["d3"] == f"{job_id}.retry1"
    assert {v for k, v in by_doc.items() if k != "d3"} == {job_id}
    assert (f"{job_id}.retry1", "1") in commits(target)  # d3 is in the second batch


def test_a_retry_with_a_table_first_publishes_what_the_first_run_stored(
    local_tables: Tables, tmp_path: Path
) -> None:
    """A job first run without table=, then retried with it: the stored rows are published
    under the job id before the attempt publishes its own rows under the attempt's."""
    target = local_tables.target("append")
    frame = invoices(5).with_columns(
        pl.when(pl.col("doc") == "d3")
        .then(pl.lit("__FAIL:INTERNAL_ERROR"))
        .otherwise(pl.col("text"))
        .alias("text")
    )
    output = str(tmp_path / "job")
    with Emulator() as emu:
        extractor = create_processor(emu, "extractor")
        run(emu, frame, extractor, output=output)
        run(emu, frame, extractor, output=output, table=target, mode="retry")
    rows = xf.read_results(target)
    job_id = json.loads((tmp_path / "job" / "_manifest.json").read_text())["job_id"]
    first = rows.filter(pl.col("extend_job_id") == job_id)
    assert sorted(first.get_column("doc").to_list()) == ["d0", "d1", "d2", "d3", "d4"]
    retried = rows.filter(pl.col("extend_job_id") == f"{job_id}.retry1")
    assert retried.get_column("doc").to_list() == ["d3"]
