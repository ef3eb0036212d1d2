"""Completion, clearing for overwrite, the status summary, and paths safe to show."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pytest

from extend_frames import StoreError
from extend_frames.store import JobStore, display_path, ledger_summary, read_results
from extend_frames.store._paths import redact
from tests._s3 import SECRET, MotoS3

from .conftest import Target


def _part(rows: list[int], statuses: list[str], credits: list[float]) -> pa.Table:
    return pa.table(
        {
            "__row": pa.array(rows, pa.int64()),
            "status": pa.array(statuses).dictionary_encode(),
            "credits": pa.array(credits, pa.float64()),
        }
    )


def _names(target: Target) -> list[str]:
    store = target.open()
    store.fs.invalidate_cache()
    root = store._b.path()
    return sorted(p[len(root) + 1 :] for p in store.fs.find(root))


def test_success_marks_completion_with_its_summary(target: Target) -> None:
    store = target.open()
    store.write_part(0, _part([0], ["PROCESSED"], [1.0]))
    assert not store.is_complete()
    assert store.success() is None
    store.mark_success({"rows": 1, "by_status": {"PROCESSED": 1}})
    again = target.open()
    assert again.is_complete()
    success = again.success()
    assert success is not None
    assert success["summary"] == {"rows": 1, "by_status": {"PROCESSED": 1}}
    assert success["parts"] == 1


def test_clear_deletes_the_layout_but_not_the_lock_or_foreign_files(target: Target) -> None:
    store = target.open()
    with store.lock("job-1"):
        store.write_manifest({"operation": "parse"})
        store.record(0, "intent")
        store.write_part(0, _part([0], ["PROCESSED"], [1.0]))
        store.mark_success({})
        target.put("notes.txt", b"mine")
        store.clear()
        assert _names(target) == ["_lock", "notes.txt"]
        assert store.read_manifest() is None
        assert store.ledger() == {}
        assert not store.is_complete()
        # the store is usable again right away (fresh sequence, fresh schema)
        store.record(0, "intent")
        store.write_part(0, pa.table({"x": [1]}))
    assert _names(target) == [
        "_ledger/00000000-00000-intent.json",
        "notes.txt",
        "part-00000.parquet",
    ]


def test_clear_refuses_a_folder_that_is_not_an_extend_frames_output(target: Target) -> None:
    target.put("important.csv", b"a\n1\n")
    with pytest.raises(StoreError, match=r"not an extend_frames output.*important\.csv.*refusing"):
        target.open().clear()
    assert _names(target) == ["important.csv"]


def test_clear_of_an_empty_path_is_a_no_op(target: Target) -> None:
    target.open().clear()
    assert target.open().parts() == []


def test_summary_counts_batches_rows_and_credits(target: Target) -> None:
    store = target.open()
    store.write_manifest(
        {"operation": "extract", "processor": "ex_1", "job_id": "j", "n_chunks": 3}
    )
    for chunk in range(3):
        store.record(chunk, "intent")
    store.record(0, "submitted", batch_id="b0")
    store.record(0, "collected", rows=2)
    store.record(1, "submitted", batch_id="b1")
    store.write_part(0, _part([0, 1], ["PROCESSED", "FAILED"], [2.0, 0.5]))

    summary = ledger_summary(target.url, storage_options=target.storage_options)
    assert summary.batches_by_state == {
        "intent": 1,
        "submitted": 1,
        "collected": 1,
        "retry": 0,
    }
    assert (summary.chunks_total, summary.parts, summary.rows) == (3, 1, 2)
    assert summary.rows_by_status == {"PROCESSED": 1, "FAILED": 1}
    assert summary.credits == pytest.approx(2.5)
    assert not summary.complete
    assert summary.lock is None
    text = summary.render()
    assert "incomplete" in text
    assert "batches: 1 intent, 1 submitted, 1 collected (of 3); parts written: 1" in text
    assert "rows: 2 (1 FAILED, 1 PROCESSED)" in text

    store.write_part(1, _part([2], ["PROCESSED"], [1.0]))
    store.mark_success({})
    with store.lock("j"):
        done = ledger_summary(target.url, storage_options=target.storage_options)
    assert done.complete
    assert done.rows_by_status == {"PROCESSED": 2, "FAILED": 1}
    assert done.lock is not None
    assert done.lock.owner == "j"
    assert "locked by 'j'" in done.render()


def test_summary_of_an_empty_path(target: Target) -> None:
    summary = ledger_summary(target.url, storage_options=target.storage_options)
    assert (summary.complete, summary.parts, summary.rows) == (False, 0, 0)
    assert summary.rows_by_status is None
    assert summary.credits is None


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("s3://AKIAXX:s3cr3t@bucket/out/", "s3://bucket/out/"),
        ("https://host/out?sig=abc&se=2026", "https://host/out"),
        ("gs://b/p#frag", "gs://b/p"),
        ("/local/path/out", "/local/path/out"),
        ("memory://x/y", "memory://x/y"),
    ],
)
def test_display_path_drops_credentials_and_query(path: str, shown: str) -> None:
    assert display_path(path) == shown


def test_redact_cleans_urls_inside_text() -> None:
    text = "GET https://u:p@h/x?X-Amz-Signature=zz failed; also s3://k:s@b/key"
    assert redact(text) == "GET https://h/x failed; also s3://b/key"


def test_store_never_shows_credentials_from_the_url() -> None:
    store = JobStore.open("memory://user:hunter2@bucket/out?token=abc")
    assert "hunter2" not in repr(store)
    assert "token" not in store.path
    with pytest.raises(StoreError) as info:
        store.read_part(0)
    assert "hunter2" not in str(info.value)
    assert "token=abc" not in str(info.value)


def test_file_urls_and_plain_paths_are_the_same_output(tmp_path: Path) -> None:
    JobStore.open(f"file://{tmp_path}/out").write_part(
        0, pa.table({"__row": pa.array([0], pa.int64()), "v": ["a"]})
    )
    assert JobStore.open(str(tmp_path / "out")).parts() == [0]
    assert JobStore.open(tmp_path / "out").parts() == [0]  # a pathlib.Path works too
    assert read_results(f"file://{tmp_path}/out")["v"].to_list() == ["a"]


def test_unknown_protocol_is_a_store_error_with_a_hint() -> None:
    with pytest.raises(StoreError, match=r"cannot open output path nosuchproto://b/out.*Install"):
        JobStore.open("nosuchproto://user:pw@b/out")


def test_concurrent_records_from_threads_are_all_kept(target: Target) -> None:
    store = target.open()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda c: store.record(c, "intent", keys=[str(c)]), range(40)))
    ledger = target.open().ledger()
    assert sorted(ledger) == list(range(40))
    seqs = sorted(r["seq"] for c in ledger.values() for r in c.records)
    assert seqs == list(range(40))


@pytest.mark.s3
def test_missing_bucket_is_a_store_error_without_credentials(moto_s3: MotoS3) -> None:
    store = JobStore.open("s3://no-such-bucket-here/out", storage_options=moto_s3.storage_options)
    with pytest.raises(
        StoreError, match=r"s3://no-such-bucket-here/out/part-00000\.parquet"
    ) as info:
        store.write_part(0, pa.table({"x": [1]}))
    assert SECRET not in str(info.value)
    with pytest.raises(StoreError, match="no-such-bucket-here"):
        store.record(0, "intent")
