"""The append-only ledger: records, reconstruction, resume of the sequence, torn records."""

from __future__ import annotations

import json
import warnings

import pytest

from extend_frames import StoreError
from extend_frames.store import LedgerWarning

from .conftest import Target


def _ledger_names(target: Target) -> list[str]:
    store = target.open()
    store.fs.invalidate_cache()
    return sorted(p.rsplit("/", 1)[-1] for p in store.fs.ls(store._b.path("_ledger"), detail=False))


def test_ledger_folds_records_per_chunk(target: Target) -> None:
    store = target.open()
    store.record(0, "intent", keys=["a", "b"])
    store.record(1, "intent", keys=["c"])
    store.record(0, "submitted", batch_id="bpr_0", keys=["a", "b"])
    store.record(1, "submitted", batch_id="bpr_1", keys=["c"], error="batch FAILED")
    store.record(0, "collected", rows=2, credits=3.0, documents=2)
    store.record(1, "intent", keys=["c"])  # sent again

    ledger = target.open().ledger()  # a fresh handle: only what is stored counts
    assert sorted(ledger) == [0, 1]
    c0, c1 = ledger[0], ledger[1]
    assert (c0.state, c0.batch_id, c0.row_keys) == ("collected", "bpr_0", ("a", "b"))
    assert c0.get("credits") == 3.0
    assert (c0.credits, c0.documents, c0.open_intent) == (3.0, 2, None)
    assert c0.attempts == 1
    assert [r["state"] for r in c0.records] == ["intent", "submitted", "collected"]
    assert c1.state == "intent"
    assert c1.batch_id == "bpr_1"  # the latest batch id any record carried
    assert c1.attempts == 2
    assert c1.intent_at == c1.records[-1]["time"]  # the current attempt's intent
    assert c1.get("error") == "batch FAILED"
    assert c1.open_intent == ("c",)  # the second intent has no outcome yet
    seqs = [r["seq"] for c in (c0, c1) for r in c.records]
    assert sorted(seqs) == list(range(6))


def test_record_names_sort_in_write_order(target: Target) -> None:
    store = target.open()
    for chunk, state in [(5, "intent"), (0, "intent"), (5, "submitted"), (0, "submitted")]:
        store.record(chunk, state)
    assert _ledger_names(target) == [
        "00000000-00005-intent.json",
        "00000001-00000-intent.json",
        "00000002-00005-submitted.json",
        "00000003-00000-submitted.json",
    ]


def test_a_new_process_continues_the_sequence_without_overwriting(target: Target) -> None:
    first = target.open()
    first.record(0, "intent", keys=["a"])
    first.record(0, "submitted", batch_id="bpr_a")
    second = target.open()  # e.g. the resumed job
    second.record(0, "collected", rows=1)
    assert [r["state"] for r in second.ledger()[0].records] == ["intent", "submitted", "collected"]
    # the first handle's cached sequence number is stale: it must not overwrite seq 2
    first.record(1, "intent")
    names = _ledger_names(target)
    assert len(names) == 4
    assert names[2] == "00000002-00000-collected.json"
    assert target.open().ledger()[0].state == "collected"


def test_torn_record_is_skipped_with_a_warning(target: Target) -> None:
    store = target.open()
    store.record(2, "intent", keys=["x"])
    store.record(2, "submitted", batch_id="bpr_2")
    # a crash mid-write of the next record, on a store without atomic create
    target.put("_ledger/00000002-00002-collected.json", b'{"seq": 2, "ch')
    with pytest.warns(LedgerWarning, match="00000002-00002-collected.json"):
        ledger = target.open().ledger()
    assert ledger[2].state == "submitted"
    assert ledger[2].batch_id == "bpr_2"
    # the torn record's sequence number is never reused
    fresh = target.open()
    fresh.record(2, "collected", rows=1)
    assert "00000003-00002-collected.json" in _ledger_names(target)
    with pytest.warns(LedgerWarning):
        assert fresh.ledger()[2].state == "collected"


def test_record_whose_content_contradicts_its_name_is_skipped(target: Target) -> None:
    store = target.open()
    store.record(0, "intent")
    body = {"seq": 1, "chunk": 9, "state": "collected", "time": "t"}
    target.put("_ledger/00000001-00000-collected.json", json.dumps(body).encode())
    with pytest.warns(LedgerWarning, match="does not match its name"):
        ledger = target.open().ledger()
    assert list(ledger) == [0]
    assert ledger[0].state == "intent"


def test_foreign_files_in_the_ledger_folder_are_ignored_silently(target: Target) -> None:
    store = target.open()
    store.record(0, "intent")
    target.put("_ledger/README.txt", b"hello")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert target.open().ledger()[0].state == "intent"


def test_empty_ledger(target: Target) -> None:
    assert target.open().ledger() == {}


@pytest.mark.parametrize(
    ("state", "data", "message"),
    [
        ("done", {}, "unknown ledger state 'done'"),
        ("intent", {"api_key": "sk_live_x"}, "looks like a secret"),
        ("intent", {"webhook_secret": "whsec"}, "looks like a secret"),
        (
            "intent",
            {"files": ["https://b.s3.amazonaws.com/f.pdf?X-Amz-Signature=abc"]},
            "query string",
        ),
        ("intent", {"blob": b"bytes"}, "not plain JSON"),
        ("intent", {"seq": 3}, "written by the store"),
    ],
)
def test_bad_records_are_refused_before_anything_is_written(
    target: Target, state: str, data: dict[str, object], message: str
) -> None:
    store = target.open()
    with pytest.raises(StoreError, match=message) as info:
        store.record(0, state, **data)
    assert "X-Amz-Signature" not in str(info.value)
    assert "sk_live" not in str(info.value)
    assert target.open().ledger() == {}


def test_ledger_of_many_chunks_is_rebuilt_completely(target: Target) -> None:
    store = target.open()
    n = 80
    for chunk in range(n):
        store.record(chunk, "intent", keys=[f"k{chunk}"])
    for chunk in range(0, n, 2):
        store.record(chunk, "collected", rows=1)
    ledger = target.open().ledger()
    assert len(ledger) == n
    assert sum(c.state == "collected" for c in ledger.values()) == n // 2
    assert all(ledger[c].row_keys == (f"k{c}",) for c in range(n))


def _fill(store: object, chunks: int) -> None:
    for chunk in range(chunks):
        store.record(chunk, "intent", keys=[f"k{chunk}"])  # type: ignore[attr-defined]
        store.record(chunk, "submitted", batch_id=f"b{chunk}")  # type: ignore[attr-defined]


def _count_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    from extend_frames.store._backend import Backend

    counts: list[int] = []
    real = Backend.read_many

    def counting(self: Backend, paths: list[str]) -> dict[str, object]:
        counts.append(len(paths))
        return real(self, paths)  # type: ignore[return-value]

    monkeypatch.setattr(Backend, "read_many", counting)
    return counts


def test_lock_holder_snapshots_a_long_ledger_and_readers_use_it(
    target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(target.open(), 50)  # 100 records, more than SNAPSHOT_AFTER
    expected = target.open().ledger()
    assert not [
        n for n in _ledger_names(target) if n.startswith("snapshot-")
    ]  # readers never write

    store = target.open()
    with store.lock("resumer"):
        assert store.ledger() == expected
        store.record(0, "collected", rows=1)  # the run goes on after its snapshot
    assert "snapshot-00000099.json" in _ledger_names(target)

    reads = _count_reads(monkeypatch)
    after = target.open().ledger()
    assert reads == [1]  # only the record written after the snapshot, one by one
    assert after[0].state == "collected"
    assert after[0].row_keys == ("k0",)
    assert {c: s for c, s in after.items() if c} == {c: s for c, s in expected.items() if c}
    assert [r["seq"] for r in after[0].records] == [0, 1, 100]


def test_no_snapshot_once_the_holder_has_recorded(target: Target) -> None:
    store = target.open()
    with store.lock("job"):
        _fill(store, 50)
        store.ledger()  # new records may be in flight from other threads: no snapshot now
    assert not [n for n in _ledger_names(target) if n.startswith("snapshot-")]


def test_unreadable_snapshot_falls_back_to_the_records(target: Target) -> None:
    _fill(target.open(), 40)
    store = target.open()
    with store.lock("job"):
        expected = store.ledger()
    assert "snapshot-00000079.json" in _ledger_names(target)
    target.put("_ledger/snapshot-00000079.json", b'{"seq": 79, "rec')
    with pytest.warns(LedgerWarning, match="snapshot-00000079.json"):
        assert target.open().ledger() == expected
