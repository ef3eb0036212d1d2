"""The sinks on real tables: each chunk once (in any order, twice asked, two processes), the
typed schema, evolution, the refused type change, merge by key (newest wins)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

import extend_frames as xf
from extend_frames.tables import open_sink, read_table
from tests._s3 import SECRET
from tests.tables.conftest import Tables, commits, read_back, version

DAY1 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
DAY2 = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
STATUS = pl.Enum(["PROCESSED", "FAILED"])


def part(docs: list[str], total: float = 1.0, *, extra: bool = False) -> pa.Table:
    """A stored part: input column, typed results (enum, struct with a date), internal columns."""
    output = [
        {"total": total, "date": dt.date(2026, 1, 5)} | ({"currency": "EUR"} if extra else {})
        for _ in docs
    ]
    return pl.DataFrame(
        {
            "doc": docs,
            "status": pl.Series(["PROCESSED"] * len(docs), dtype=STATUS),
            "output": output,
            "__row": list(range(len(docs))),
            "__unit": docs,
        }
    ).to_arrow()


def test_each_chunk_is_committed_once_in_any_order(tables: Tables) -> None:
    target = tables.target()
    sink = open_sink(target, key=["doc"], job_time=DAY1)
    for chunk in (2, 0, 1, 0, 2):  # out of order, and twice
        sink.publish("job1", chunk, part([f"d{chunk}a", f"d{chunk}b"]))
    assert [sink.published("job1", c) for c in range(4)] == [True, True, True, False]
    assert not sink.published("job2", 0)
    rows = read_back(target)
    assert rows.num_rows == 6
    assert sorted(rows.column("doc").to_pylist()) == ["d0a", "d0b", "d1a", "d1b", "d2a", "d2b"]
    assert commits(target) == [("job1", "2"), ("job1", "0"), ("job1", "1")]
    # typed: internal columns dropped, enum as string, a date as a date, the job's id and time
    schema = rows.schema
    assert "__row" not in schema.names
    assert "__unit" not in schema.names
    assert pa.types.is_string(schema.field("status").type) or pa.types.is_large_string(
        schema.field("status").type
    )
    assert schema.field("output").type.field("date").type == pa.date32()
    assert set(rows.column("extend_job_id").to_pylist()) == {"job1"}
    assert rows.column("extend_job_time").to_pylist()[0] == DAY1


def test_a_new_field_evolves_the_table(tables: Tables) -> None:
    target = tables.target()
    open_sink(target, key=["doc"], job_time=DAY1).publish("job1", 0, part(["a"]))
    open_sink(target, key=["doc"], job_time=DAY2).publish("job2", 0, part(["b"], extra=True))
    rows = pl.from_arrow(read_back(target))
    assert isinstance(rows, pl.DataFrame)
    by_doc = {r["doc"]: r["output"] for r in rows.to_dicts()}
    assert by_doc["a"] == {"total": 1.0, "date": dt.date(2026, 1, 5), "currency": None}
    assert by_doc["b"]["currency"] == "EUR"


def test_a_changed_type_is_refused_before_anything_is_written(local_tables: Tables) -> None:
    target = local_tables.target()
    open_sink(target, key=["doc"], job_time=DAY1).publish("job1", 0, part(["a"]))
    before = version(target)
    changed = pl.DataFrame({"doc": ["b"], "output": [{"total": "12.00 EUR"}]}).to_arrow()
    sink = open_sink(target, key=["doc"], job_time=DAY2)
    with pytest.raises(xf.TableError, match=r"'output\.total' of type double.*string") as err:
        sink.check(changed.schema)
    assert "new table" in str(err.value)
    with pytest.raises(xf.TableError, match=r"output\.total"):
        sink.publish("job2", 0, changed)
    assert version(target) == before
    assert not sink.published("job2", 0)


def test_merge_keeps_one_row_per_key_newest_job_wins(tables: Tables) -> None:
    target = tables.target("merge", merge_on="doc")
    day1 = open_sink(target, key=["unused"], job_time=DAY1)
    day2 = open_sink(target, key=["unused"], job_time=DAY2)
    day1.publish("job1", 0, part(["a", "b"], 1.0))
    day2.publish("job2", 0, part(["b", "c", "c"], 2.0))  # a key twice in a chunk: the last
    day1.publish("job1", 1, part(["a", "c"], 1.5))  # an older job's late chunk loses to job2
    rows = read_table(target).sort("doc")
    assert rows.get_column("doc").to_list() == ["a", "b", "c"]
    totals = rows.select(pl.col("output").struct.field("total")).to_series().to_list()
    assert totals == [1.5, 2.0, 2.0]
    assert rows.get_column("extend_job_id").to_list() == ["job1", "job2", "job2"]


def test_merge_needs_a_key_column_of_the_rows(local_tables: Tables) -> None:
    sink = open_sink(local_tables.target("merge", merge_on="nope"), key=[], job_time=DAY1)
    with pytest.raises(xf.InputError, match="merge_on column 'nope'"):
        sink.check(part(["a"]).schema)


def test_reprs_never_show_storage_options() -> None:
    target = xf.Delta("s3://key:pw@lake/t?X-Amz-Signature=sig", storage_options={"k": SECRET})
    assert SECRET not in repr(target)
    assert "pw" not in repr(target)
    assert "sig" not in repr(target)
    assert SECRET not in target.display
    assert target == xf.Delta("s3://key:pw@lake/t?X-Amz-Signature=sig")  # options aside
    with pytest.raises(Exception, match=r"cannot assign|frozen"):
        target.uri = "x"  # type: ignore[misc]


WRITER = textwrap.dedent(
    """
    import datetime as dt, sys
    import polars as pl
    import extend_frames as xf
    from extend_frames.tables import open_sink
    kind, where = sys.argv[1], sys.argv[2]
    if kind == "delta":
        target = xf.Delta(where)
    else:
        from pyiceberg.catalog.sql import SqlCatalog
        catalog = SqlCatalog("test", uri=f"sqlite:///{where}/catalog.db",
                             warehouse=f"file://{where}/warehouse")
        target = xf.Iceberg("lake.shared", catalog=catalog)
    sink = open_sink(target, key=["doc"], job_time=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    print("ready", flush=True)
    sys.stdin.readline()  # both start publishing together
    for chunk in range(6):
        docs = [f"d{chunk}-{i}" for i in range(3)]
        sink.publish("job1", chunk, pl.DataFrame({"doc": docs, "n": [chunk] * 3}).to_arrow())
    """
)


@pytest.mark.parametrize("kind", ["delta", "iceberg"])
def test_two_processes_publishing_the_same_job_commit_each_chunk_once(
    kind: str, tmp_path: Path
) -> None:
    where = str(tmp_path / "table") if kind == "delta" else str(tmp_path)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, kind, where],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    for proc in procs:  # both imported and holding a sink
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"ready\n"
    for proc in procs:
        _, err = proc.communicate(b"go\n", timeout=300)
        assert proc.returncode == 0, err.decode()[-2000:]
    if kind == "delta":
        target: xf.Delta | xf.Iceberg = xf.Delta(where)
    else:
        from tests.tables.conftest import sql_catalog

        catalog = sql_catalog(tmp_path, (tmp_path / "warehouse").as_uri())
        target = xf.Iceberg("lake.shared", catalog=catalog)
    rows = read_back(target)
    assert rows.num_rows == 18
    assert len(set(rows.column("doc").to_pylist())) == 18
    assert sorted(int(c) for _, c in commits(target)) == list(range(6))


def test_compaction_keeps_what_the_table_holds(local_tables: Tables) -> None:
    target = local_tables.target()
    sink = open_sink(target, key=["doc"], job_time=DAY1)
    for chunk in range(3):
        sink.publish("job1", chunk, part([f"d{chunk}"]))
    if isinstance(target, xf.Iceberg):
        with pytest.raises(xf.TableError, match="rewrite_data_files"):
            xf.compact_table(target)
        return
    metrics = xf.compact_table(target)
    assert metrics["numFilesRemoved"] == 3
    sink.publish("job1", 1, part(["d1"]))  # still recorded: nothing added
    assert read_back(target).num_rows == 3


def test_a_chunk_committed_after_the_check_is_not_committed_again(
    local_tables: Tables, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer commits the chunk between ``published()`` and the commit: the commit
    checks the snapshot it writes on, so the chunk is still added once."""
    target = local_tables.target()
    sink = open_sink(target, key=["doc"], job_time=DAY1)
    sink.publish("job1", 0, part(["a", "b"]))
    monkeypatch.setattr(type(sink), "published", lambda self, job_id, chunk: False)
    sink.publish("job1", 0, part(["a", "b"]))
    assert read_back(target).num_rows == 2
    assert commits(target) == [("job1", "0")]


class _StaleOnce:
    """A catalog whose next ``load_table`` returns a table loaded before another writer's
    commit: the commit built on it conflicts with that writer's."""

    def __init__(self, catalog: object, stale: object) -> None:
        self.catalog, self.stale, self.name = catalog, stale, "stale-once"

    def load_table(self, identifier: str) -> object:
        stale, self.stale = self.stale, None
        return stale if stale is not None else self.catalog.load_table(identifier)  # type: ignore[attr-defined]


def test_an_iceberg_commit_that_conflicts_is_checked_again_not_rebased(tmp_path: Path) -> None:
    """pyiceberg would retry a conflicting append on top of the winner's snapshot (adding the
    chunk twice); the sink turns that off and checks the table again instead."""
    catalog = Tables("iceberg-local", tmp_path).catalog()
    first = xf.Iceberg("lake.race", catalog=catalog)
    open_sink(first, key=["doc"], job_time=DAY1).publish("job0", 0, part(["x"]))
    stale = catalog.load_table("lake.race")  # before job1's chunk 0
    open_sink(first, key=["doc"], job_time=DAY1).publish("job1", 0, part(["a", "b"]))
    late = open_sink(xf.Iceberg("lake.race", catalog=_StaleOnce(catalog, stale)), key=["doc"],
                     job_time=DAY1)  # fmt: skip
    late.published = lambda job_id, chunk: False  # type: ignore[method-assign]  # it looked before
    late.publish("job1", 0, part(["a", "b"]))
    assert read_back(first).num_rows == 3
    assert commits(first) == [("job0", "0"), ("job1", "0")]
