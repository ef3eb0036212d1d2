"""Parquet parts: round trip, listing, schema enforcement, reading back in input order."""

from __future__ import annotations

import polars as pl
import pyarrow as pa
import pytest

from extend_frames import StoreError
from extend_frames.store import read_results

from .conftest import Target

SCHEMA = pa.schema([("__row", pa.int64()), ("status", pa.string()), ("credits", pa.float64())])


def _table(rows: list[int], status: str = "PROCESSED") -> pa.Table:
    return pa.table(
        {"__row": rows, "status": [status] * len(rows), "credits": [1.5] * len(rows)},
        schema=SCHEMA,
    )


def test_write_then_read_part_round_trips(target: Target) -> None:
    store = target.open()
    table = pa.table(
        {
            "__row": pa.array([0, 1], pa.int64()),
            "output": pa.array([{"total": 1.5, "tags": ["a"]}, None]),
            "when": pa.array([1, 2], pa.timestamp("us", tz="UTC")),
        }
    )
    store.write_part(3, table)
    assert store.parts() == [3]
    assert store.has_part(3)
    assert not store.has_part(0)
    back = store.read_part(3)
    assert back.equals(table)
    assert back.schema.equals(table.schema, check_metadata=False)
    # a second handle on the same path sees it too (no in-process caching)
    assert target.open().read_part(3).equals(table)


def test_parts_are_zstd_parquet(target: Target) -> None:
    import pyarrow.parquet as pq

    store = target.open()
    store.write_part(0, _table([0, 1, 2]))
    with store.fs.open(store._b.path("part-00000.parquet"), "rb") as f:
        meta = pq.ParquetFile(f).metadata
        assert meta.row_group(0).column(0).compression == "ZSTD"


def test_read_part_of_missing_chunk_says_which(target: Target) -> None:
    with pytest.raises(StoreError, match=r"part-00007\.parquet does not exist.*batch 7"):
        target.open().read_part(7)


def test_rewriting_a_part_replaces_it(target: Target) -> None:
    store = target.open()
    store.write_part(0, _table([0], "FAILED"))
    store.write_part(0, _table([0], "PROCESSED"))
    assert store.read_part(0).column("status").to_pylist() == ["PROCESSED"]
    assert store.parts() == [0]


def test_schema_mismatch_with_manifest_is_refused(target: Target) -> None:
    store = target.open()
    store.write_manifest({"operation": "extract", "schema": SCHEMA})
    bad = pa.table({"__row": pa.array([0], pa.int64()), "status": [1], "credits": [1.0]})
    with pytest.raises(StoreError, match=r"part 4 .*does not have the job's schema.*status"):
        store.write_part(4, bad)
    assert store.parts() == []
    store.write_part(4, _table([0]))  # the right schema goes through
    assert store.parts() == [4]


def test_schema_mismatch_with_earlier_part_is_refused_without_manifest(target: Target) -> None:
    target.open().write_part(0, _table([0]))
    store = target.open()  # a fresh handle learns the schema from the existing part
    with pytest.raises(StoreError, match="one schema"):
        store.write_part(1, pa.table({"__row": pa.array([1], pa.int64())}))
    assert store.parts() == [0]


def test_read_results_sorts_by_row_and_drops_it(target: Target) -> None:
    store = target.open()
    store.write_part(2, _table([5, 4]))
    store.write_part(0, _table([1, 0], "FAILED"))
    store.write_part(1, _table([3, 2]))
    so = target.storage_options
    out = read_results(target.url, row_column="__row", storage_options=so)
    assert isinstance(out, pl.DataFrame)
    assert out.columns == ["status", "credits"]
    assert out["status"].to_list() == ["FAILED", "FAILED"] + ["PROCESSED"] * 4
    lazy = read_results(target.url, row_column="__row", storage_options=so, lazy=True)
    assert isinstance(lazy, pl.LazyFrame)
    assert lazy.collect().equals(out)


def test_read_results_without_row_column_keeps_chunk_order(target: Target) -> None:
    store = target.open()
    for chunk in (3, 0, 11, 2):  # written out of order, with a gap
        store.write_part(chunk, pa.table({"chunk": [chunk] * 3, "i": [0, 1, 2]}))
    out = read_results(target.url, row_column="__row", storage_options=target.storage_options)
    assert out["chunk"].to_list() == [0] * 3 + [2] * 3 + [3] * 3 + [11] * 3
    assert out["i"].to_list() == [0, 1, 2] * 4


def test_empty_output_reads_as_empty_frame_with_the_job_schema(target: Target) -> None:
    store = target.open()
    with pytest.raises(StoreError, match=r"does not exist|not an extend_frames job output"):
        read_results(target.url, storage_options=target.storage_options)  # never a 0x0 frame
    store.write_manifest({"operation": "parse", "schema": SCHEMA})
    out = read_results(target.url, row_column="__row", storage_options=target.storage_options)
    assert out.columns == ["status", "credits"]
    assert out.height == 0


def test_foreign_parquet_names_are_not_parts(target: Target) -> None:
    store = target.open()
    store.write_part(0, _table([0]))
    # a Spark-style name and a near miss must not be taken for parts
    target.put("part-00001-abc.snappy.parquet", b"x")
    target.put("part-1.parquet", b"x")
    assert store.parts() == [0]
    assert read_results(target.url, storage_options=target.storage_options).height == 1


def test_polars_tables_keep_one_schema_across_a_restart(target: Target) -> None:
    def chunk(rows: list[int]) -> pa.Table:
        return pl.DataFrame(
            {
                "__row": rows,
                "name": [f"r{r}" for r in rows],
                "status": pl.Series(
                    ["PROCESSED"] * len(rows), dtype=pl.Enum(["PROCESSED", "FAILED"])
                ),
                "output": [{"total": 1.0, "tags": ["x"]}] * len(rows),
                "created_at": pl.Series([0] * len(rows)).cast(pl.Datetime("us", "UTC")),
            },
            schema_overrides={"__row": pl.Int64},
        ).to_arrow()

    target.open().write_part(0, chunk([0, 1]))
    resumed = target.open()  # learns the schema from part 0's footer
    resumed.write_part(1, chunk([2]))
    out = read_results(target.url, storage_options=target.storage_options)
    assert out["name"].to_list() == ["r0", "r1", "r2"]
    assert out.schema["status"] == pl.Enum(["PROCESSED", "FAILED"])
