"""The result cache's store: immutable segments, oldest-entry lookups, concurrent writers."""

from __future__ import annotations

import threading
from typing import Any

import polars as pl
import pytest

from extend_frames._errors import StoreError
from extend_frames.store._cache import DIGEST, Cache, Compaction, Partition
from tests.store.conftest import Target

PART = Partition("extract", "ex_abc", "1.2", "c0ffee")
STATUS = pl.Enum(["PROCESSED", "FAILED"])


def _cache(target: Target) -> Cache:
    return Cache(target.url, storage_options=target.storage_options)


def _entries(digests: list[str], tag: str = "a") -> pl.DataFrame:
    return pl.DataFrame(
        {
            DIGEST: digests,
            "status": pl.Series(["PROCESSED"] * len(digests), dtype=STATUS),
            "output": [{"n": i, "tag": tag} for i in range(len(digests))],
            "credits": [1.5] * len(digests),
        }
    )


def test_lookup_returns_typed_entries_for_found_digests_only(target: Target) -> None:
    cache = _cache(target)
    assert cache.lookup(PART, ["x"]).is_empty()
    assert cache.add(PART, _entries(["x", "y"])) == 2
    found = cache.lookup(PART, ["y", "nope", None, "y"])
    assert found.get_column(DIGEST).to_list() == ["y"]
    assert found.schema["status"] == STATUS  # typed as written
    assert found.row(0, named=True)["output"] == {"n": 1, "tag": "a"}
    assert cache.entries(PART) == 2
    assert cache.entries() == 2


def test_partitions_are_separate(target: Target) -> None:
    cache = _cache(target)
    cache.add(PART, _entries(["x"]))
    other = Partition("extract", "ex_abc", "1.3", "c0ffee")
    assert cache.lookup(other, ["x"]).is_empty()


def test_the_oldest_entry_wins_and_segments_are_never_rewritten(target: Target) -> None:
    cache = _cache(target)
    cache.add(PART, _entries(["x"], tag="first"))
    first = cache.segments(PART)
    cache.add(PART, _entries(["x", "z"], tag="second"))
    assert cache.segments(PART)[: len(first)] == first  # create-only: old segment untouched
    assert len(cache.segments(PART)) == 2
    rows = cache.lookup(PART, ["x", "z"]).sort(DIGEST)
    assert rows.get_column("output").struct.field("tag").to_list() == ["first", "second"]


def test_two_writers_at_once_lose_no_entry(target: Target) -> None:
    cache = _cache(target)
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def writer(w: int) -> None:
        try:
            start.wait()
            for batch in range(5):
                cache.add(PART, _entries([f"w{w}-{batch}-{i}" for i in range(50)]))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    wanted = [f"w{w}-{b}-{i}" for w in range(4) for b in range(5) for i in range(50)]
    assert cache.lookup(PART, wanted).height == len(wanted) == cache.entries(PART)


def test_bad_inputs_are_clear() -> None:
    cache = Cache("memory://cache-tests/bad")
    with pytest.raises(StoreError, match="__doc"):
        cache.add(PART, pl.DataFrame({"x": [1]}))
    with pytest.raises(StoreError, match="cache path"):
        Partition("extract", "../etc", None, "c").names()
    with pytest.raises(StoreError, match=r"URL or an xf\.Cache"):
        Cache.of(42, None)  # type: ignore[arg-type]
    assert cache.add(PART, _entries([])) == 0


def test_repr_hides_credentials() -> None:
    opts: dict[str, Any] = {}
    cache = Cache("memory://user:secret@cache-tests/repr", storage_options=opts)
    assert "secret" not in repr(cache)


def test_large_lookups_semi_join_with_the_same_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    import extend_frames.store._cache as module

    cache = Cache("memory://cache-tests/semi")
    cache.add(PART, _entries(["x", "y"], tag="first"))
    cache.add(PART, _entries(["y", "z"], tag="second"))
    small = cache.lookup(PART, ["x", "y", "z", "w"]).sort(DIGEST)
    monkeypatch.setattr(module, "SEMI_JOIN_ABOVE", 0)
    large = cache.lookup(PART, ["x", "y", "z", "w"]).sort(DIGEST)
    assert large.equals(small)
    assert large.get_column("output").struct.field("tag").to_list() == ["first", "first", "second"]


def _by_digest(cache: Cache, digests: list[str]) -> dict[str, Any]:
    rows = cache.lookup(PART, digests).iter_rows(named=True)
    return {row[DIGEST]: row["output"] for row in rows}


def test_compact_merges_segments_into_one_with_the_same_answers(target: Target) -> None:
    cache = _cache(target)
    other = Partition("classify", "cl_abc", "2.0", "beef")
    cache.add(PART, _entries(["x", "y"], tag="first"))
    cache.add(PART, _entries(["y", "z"], tag="second"))  # y again: the first one must win
    cache.add(PART, _entries(["w"], tag="third"))
    cache.add(other, _entries(["x"], tag="other"))
    before = _by_digest(cache, ["x", "y", "z", "w", "nope"])

    done = cache.compact()

    assert cache.partitions() == sorted([PART, other], key=Partition.names)
    assert (done.partitions, done.segments_before, done.segments_after) == (1, 3, 1)
    assert (done.entries, done.duplicates_dropped) == (4, 1)
    assert len(cache.segments(PART)) == 1
    assert len(cache.segments(other)) == 1  # one segment already: left as it was
    assert _by_digest(cache, ["x", "y", "z", "w", "nope"]) == before
    assert before["y"]["tag"] == "first"
    assert cache.entries(PART) == 4
    assert cache.lookup(other, ["x"]).row(0, named=True)["output"]["tag"] == "other"
    # entries keep when they were cached: a later duplicate still loses to the merged one
    cache.add(PART, _entries(["x"], tag="later"))
    assert _by_digest(cache, ["x"])["x"]["tag"] == "first"
    assert cache.compact(PART).segments_before == 2
    assert cache.compact(PART) == Compaction()  # nothing left to merge


def test_compacting_beside_writers_and_readers_loses_nothing(target: Target) -> None:
    """Whatever the interleaving: every entry written survives, and no lookup fails or misses
    an entry that was written before it started. The compactions are finite (fewer than a
    read's STALE_LISTINGS), so no interleaving can exhaust a reader's retries."""
    cache = _cache(target)
    cache.add(PART, _entries([f"seed-{i}" for i in range(20)]))
    errors: list[BaseException] = []
    compactions_done = threading.Event()

    def writer(w: int) -> None:
        try:
            for batch in range(6):
                cache.add(PART, _entries([f"w{w}-{batch}-{i}" for i in range(10)]))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def compactor() -> None:
        try:
            for _ in range(15):
                cache.compact(PART)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            compactions_done.set()

    def reader() -> None:
        try:
            while not compactions_done.is_set():
                assert len(_by_digest(cache, [f"seed-{i}" for i in range(20)])) == 20
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
    threads += [threading.Thread(target=compactor), threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    cache.compact(PART)
    wanted = [f"seed-{i}" for i in range(20)]
    wanted += [f"w{w}-{b}-{i}" for w in range(3) for b in range(6) for i in range(10)]
    assert cache.lookup(PART, wanted).height == len(wanted) == cache.entries(PART)
    assert len(cache.segments(PART)) == 1


def test_a_lookup_whose_listing_went_stale_reads_the_new_segments(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The race made certain: the lookup's first listing names segments that a compaction
    deleted before the read."""
    cache = Cache("memory://cache-tests/stale")
    cache.add(PART, _entries(["x"], tag="first"))
    cache.add(PART, _entries(["y"], tag="second"))
    stale = cache.segments(PART)
    cache.compact(PART)
    listed = iter([stale])
    real = Cache.segments

    def segments(self: Cache, partition: Partition) -> list[str]:
        return next(listed, None) or real(self, partition)

    monkeypatch.setattr(Cache, "segments", segments)
    found = _by_digest(cache, ["x", "y"])
    assert {k: v["tag"] for k, v in found.items()} == {"x": "first", "y": "second"}


def test_a_missing_segment_that_no_compaction_explains_is_a_store_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache = Cache("memory://cache-tests/broken")
    cache.add(PART, _entries(["x"]))
    ghost = cache.segments(PART)[0].replace("seg-", "seg-0")  # never existed
    monkeypatch.setattr(Cache, "segments", lambda self, partition: [ghost])
    with pytest.raises(StoreError, match="could not read"):
        cache.lookup(PART, ["x"])


def test_compact_bounds_each_merged_segment_by_max_entries() -> None:
    cache = Cache("memory://cache-tests/bounded")
    for batch in range(5):
        cache.add(PART, _entries([f"b{batch}-{i}" for i in range(10)], tag=str(batch)))
    wanted = [f"b{b}-{i}" for b in range(5) for i in range(10)]
    before = _by_digest(cache, wanted)

    done = cache.compact(max_entries=25)  # 10 + 10 | 10 + 10 | 10 (alone: left as it is)

    assert (done.segments_before, done.segments_after, done.entries) == (4, 2, 40)
    assert len(cache.segments(PART)) == 3
    assert _by_digest(cache, wanted) == before
    with pytest.raises(StoreError, match="max_entries"):
        cache.compact(max_entries=0)
