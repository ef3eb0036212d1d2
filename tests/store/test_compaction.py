"""Ledger compaction: a snapshot of the records replaces them, written create-only first, so a
reader that sees both, or a job killed in the middle of compacting, folds to the same state."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from extend_frames import StoreError
from extend_frames.store import JobStore
from extend_frames.store import _store as store_module
from extend_frames.store._backend import Backend

from .conftest import Target

CHILD = Path(__file__).with_name("_compact_child.py")


def _names(store: JobStore) -> list[str]:
    store.fs.invalidate_cache()
    return sorted(store._b.list("_ledger"))


def _write_job(store: JobStore, chunks: int) -> None:
    """The records the engine writes: intent, submitted, collected per chunk, each with its
    ``at`` stamp; collected ones with the credits and the documents they paid for."""
    for i in range(chunks):
        keys = [f"k{i}-{j}" for j in range(3)]
        at = f"2026-01-01T00:00:{i:02d}Z"
        store.record(i, "intent", keys=keys, route="batch", at=at)
        store.record(i, "submitted", keys=keys, batch_id=f"bpr_{i}", at=at)
        if i % 4 != 3:  # every fourth chunk is still in flight
            store.record(i, "collected", rows=3, credits=1.5 * i, documents=3, at=at)


def test_compaction_keeps_the_fold_and_every_step_time(target: Target) -> None:
    store = target.open()
    _write_job(store, 8)
    before = target.open().ledger()
    with store.lock("test"):
        deleted = store.compact()
    assert deleted == 8 * 3 - 2
    assert _names(store) == ["snapshot-00000021.json"]
    after = target.open().ledger()
    assert after == before  # same states, same records (times, rows, credits) in the same order
    assert after[2].records[-1]["credits"] == 3.0
    assert [r["state"] for r in after[0].records] == ["intent", "submitted", "collected"]
    assert all("time" in r and "at" in r for c in after.values() for r in c.records)
    # the one fold (store/_ledger.fold_chunk) gives the spend the cap and the report read
    assert after[2].credits == 3.0
    assert after[2].documents == 3
    assert sum(c.credits for c in after.values()) == sum(c.credits for c in before.values())
    assert [i for i, c in sorted(after.items()) if not c.collected] == [3, 7]

    # more records, then a second compaction: one snapshot again, covering both
    store.record(3, "collected", rows=3, credits=9.0)
    with store.lock("test"):
        assert target.open().ledger()[3].collected
        store.compact()
    assert _names(store) == ["snapshot-00000022.json"]
    assert target.open().ledger()[3].records[-1]["credits"] == 9.0


def test_only_the_lock_holder_compacts(target: Target) -> None:
    store = target.open()
    _write_job(store, 1)
    with pytest.raises(StoreError, match="holding the output's lock"):
        store.compact()


def test_a_record_still_being_written_is_never_covered(tmp_path: Path) -> None:
    store = JobStore.open(str(tmp_path / "out"))
    _write_job(store, 2)  # seq 0..5
    with store.lock("test"):
        store._inflight.add(3)  # as if seq 3 had been taken by a writer not finished yet
        store.compact()
        store._inflight.clear()
    assert "snapshot-00000002.json" in _names(store)
    assert "00000003-00001-intent.json" in _names(store)


def test_a_reader_that_sees_both_folds_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = JobStore.open(str(tmp_path / "out"))
    _write_job(store, 5)
    before = JobStore.open(str(tmp_path / "out")).ledger()

    def fail(self: Backend, paths: object) -> None:
        raise OSError("injected: the delete step failed")

    with store.lock("test"):
        monkeypatch.setattr(Backend, "delete", fail)  # after the lock's sweep of temp files
        with pytest.raises(StoreError, match="compact the ledger"):
            store.compact()
        monkeypatch.undo()  # before the lock's release
    names = _names(store)
    assert "snapshot-00000013.json" in names
    assert len(names) == 15  # the snapshot and every record
    assert JobStore.open(str(tmp_path / "out")).ledger() == before


def test_compaction_every_n_collected_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "COMPACT_EVERY", 3)
    store = JobStore.open(str(tmp_path / "out"))
    with store.lock("test"):
        _write_job(store, 4)  # the third collected record is the 9th record (seq 8)
        names = _names(store)
    assert "snapshot-00000008.json" in names
    assert len(names) == 1 + 2  # the snapshot, then chunk 3's intent and submitted
    assert JobStore.open(str(tmp_path / "out")).ledger()[3].state == "submitted"


def test_a_resume_compacts_a_long_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "SNAPSHOT_AFTER", 10)
    store = JobStore.open(str(tmp_path / "out"))
    _write_job(store, 6)
    before = JobStore.open(str(tmp_path / "out")).ledger()
    resumed = JobStore.open(str(tmp_path / "out"))
    with resumed.lock("test"):
        assert resumed.ledger() == before
    assert _names(store) == ["snapshot-00000016.json"]


@pytest.mark.parametrize(("point", "seed"), [("snapshot", 1), ("delete", 2), ("delete", 7)])
def test_a_kill_in_the_middle_of_compacting_loses_nothing(
    tmp_path: Path, point: str, seed: int
) -> None:
    url = str(tmp_path / "out")
    store = JobStore.open(url)
    _write_job(store, 12)
    before = JobStore.open(url).ledger()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.run(
        [sys.executable, str(CHILD), url, point, str(seed)], env=env, capture_output=True
    )
    assert child.returncode == -9, child.stderr.decode()[-2000:]
    assert JobStore.open(url).ledger() == before
    names = _names(store)
    if point == "delete":
        assert "snapshot-00000032.json" in names
    resumed = JobStore.open(url)  # the next job takes the dead one's lock and compacts again
    with resumed.lock("next job"):
        assert resumed.ledger() == before
        resumed.compact()
    assert _names(store) == ["snapshot-00000032.json"]
    assert JobStore.open(url).ledger() == before
