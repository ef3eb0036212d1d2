"""A content-addressed result cache across jobs, as immutable Parquet segments on fsspec.

Layout under the cache root (any fsspec URL)::

    ROOT/v1/<operation>/<processor_id>@<version>/<config_digest>/seg-<time>-<hex>.parquet

A *partition* (operation, processor id and exact version, digest of the effective config) holds
results of one schema. Each write is one new, create-only segment with a unique name, so two
jobs adding entries at once never touch the same object and none is lost (there is no
read-modify-write anywhere: a partition is a growing set of segments, one per collected batch).
A lookup is one scan of the partition's segments filtered on the wanted digests (streaming,
so memory stays bounded by what is found, not by the cache's size). A digest found in several
segments (two jobs processed the same document at once) resolves to the oldest entry.

:meth:`Cache.compact` merges a partition's segments into one (or a few of ``max_entries``
entries), keeping every entry's ``__cached_at``, then deletes the segments it merged (and only
those: a segment added meanwhile stays). It is safe beside running jobs: between the write and
the deletes an entry is in two segments, which a lookup resolves like any duplicate; a reader
whose listing names a segment deleted since lists again and reads the new set.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import fsspec
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from extend_frames._errors import StoreError
from extend_frames.store._backend import Backend
from extend_frames.store._paths import display_path

#: Column of a segment holding the document digest (see ``jobs/_digest.py``).
DIGEST = "__doc"
#: Column of a segment holding when the entry was written (the oldest entry wins).
CACHED_AT = "__cached_at"
LAYOUT = "v1"
SEGMENT_RE = re.compile(r"^seg-\d{8}T\d{12}Z-[0-9a-f]{16}\.parquet$")
_SAFE = re.compile(r"^[A-Za-z0-9_.\-]{1,120}$")
ROW_GROUP = 16_384
#: Up to this many wanted digests, a lookup filters with ``is_in`` (least memory for a day's
#: job); above, a semi-join (at 1M wanted over 1M entries: 2.5x faster, 13% less memory).
SEMI_JOIN_ABOVE = 50_000
#: How many times a read lists the partition again after a compaction removed a listed
#: segment. Each retry means another compaction finished meanwhile (progress, not a spin);
#: compactions are rare in practice, so reaching this bound means something else is wrong.
STALE_LISTINGS = 50
#: A compaction merges segments into ones of about this many entries (memory: ~1 KiB each).
COMPACT_ENTRIES = 250_000


@dataclass(frozen=True, slots=True)
class Partition:
    """Where the entries of one (operation, processor@version, effective config) live."""

    operation: str
    processor_id: str | None
    processor_version: str | None
    config_digest: str

    def names(self) -> tuple[str, ...]:
        proc = f"{_safe(self.processor_id)}@{_safe(self.processor_version)}"
        return (LAYOUT, _safe(self.operation), proc, _safe(self.config_digest))


@dataclass(frozen=True, slots=True)
class Compaction:
    """What :meth:`Cache.compact` did: partitions merged, segments before and after, entries
    kept (one per digest) and duplicate entries dropped."""

    partitions: int = 0
    segments_before: int = 0
    segments_after: int = 0
    entries: int = 0
    duplicates_dropped: int = 0

    def __add__(self, other: Compaction) -> Compaction:
        return Compaction(
            self.partitions + other.partitions,
            self.segments_before + other.segments_before,
            self.segments_after + other.segments_after,
            self.entries + other.entries,
            self.duplicates_dropped + other.duplicates_dropped,
        )

    def __str__(self) -> str:
        return (
            f"compacted {self.partitions} partition(s): {self.segments_before} segments -> "
            f"{self.segments_after}, {self.entries} entries kept, "
            f"{self.duplicates_dropped} duplicates dropped"
        )


def _safe(value: str | None) -> str:
    if value is None:
        return "-"
    if not _SAFE.match(value):
        raise StoreError(f"cannot use {value!r} in a cache path (letters, digits, _ . - only)")
    return value


def segment_name(now: datetime | None = None) -> str:
    """A unique, create-only segment name that sorts by write time."""
    at = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%f")
    return f"seg-{at}Z-{secrets.token_hex(8)}.parquet"


class Cache:
    """A result cache at an fsspec URL (``xf.Cache``): pass it (or the URL) as ``cache=``.

    >>> from extend_frames.store._cache import Cache
    >>> cache = Cache("memory://doc/cache")
    >>> cache
    Cache('memory://doc/cache')
    >>> cache.entries()
    0
    """

    def __init__(
        self, url: str | os.PathLike[str], *, storage_options: Mapping[str, Any] | None = None
    ) -> None:
        url = os.fspath(url)
        self.storage_options = dict(storage_options or {})
        try:
            fs, root = fsspec.core.url_to_fs(url, **self.storage_options)
        except (ValueError, ImportError) as exc:
            raise StoreError(
                f"cannot open cache {display_path(url)}: {exc}. Install the fsspec backend for "
                "that protocol (e.g. extend-frames[s3] for s3://)."
            ) from None
        self._b = Backend(fs, root, url)

    @classmethod
    def of(
        cls, cache: Cache | str | os.PathLike[str], storage_options: Mapping[str, Any] | None
    ) -> Cache:
        """``cache`` as a Cache (a URL is opened with ``storage_options``)."""
        if isinstance(cache, Cache):
            return cache
        if isinstance(cache, str | os.PathLike):
            return cls(cache, storage_options=storage_options)
        raise StoreError(f"cache= takes a URL or an xf.Cache, got {type(cache).__name__}")

    @property
    def url(self) -> str:
        """The cache root without credentials or query string (safe to show)."""
        return self._b.url

    def __repr__(self) -> str:
        return f"Cache({self.url!r})"

    # -- reads ----------------------------------------------------------------------------

    def segments(self, partition: Partition) -> list[str]:
        """Full paths of the partition's segments, oldest first."""
        names = partition.names()
        with self._b.errors("list", *names):
            found = self._b.list(*names)
        return [self._b.path(*names, n) for n in found if SEGMENT_RE.match(n)]

    def partitions(self) -> list[Partition]:
        """Every partition that holds at least one segment."""
        pattern = self._b.path(LAYOUT, "*", "*", "*", "seg-*.parquet")
        found: set[Partition] = set()
        for path in self._b.fs.glob(pattern):
            operation, proc, digest = str(path).rstrip("/").split("/")[-4:-1]
            processor_id, _, version = proc.partition("@")
            found.add(Partition(operation, _unsafe(processor_id), _unsafe(version), digest))
        return sorted(found, key=Partition.names)

    def scan(self, partition: Partition) -> pl.LazyFrame | None:
        """Every entry of ``partition`` (None if it has none). Prefer :meth:`collect`, which
        lists again when a compaction removes a segment under the scan."""
        return self._scan(self.segments(partition))

    def collect(
        self, partition: Partition, query: Callable[[pl.LazyFrame], pl.LazyFrame] = lambda q: q
    ) -> pl.DataFrame | None:
        """``query`` over every entry of ``partition``, collected (streaming); None when the
        partition is empty. A listed segment that a compaction deleted meanwhile makes it list
        and read again (the entries are in the merged segment by then)."""
        names = partition.names()
        for attempt in range(STALE_LISTINGS):
            paths = self.segments(partition)
            if not paths:
                return None
            with self._b.errors("read", *names):
                try:  # object stores open every segment's footer already in _scan
                    lazy = self._scan(paths)
                    assert lazy is not None
                    return query(lazy).collect(engine="streaming")
                except OSError:
                    if attempt + 1 == STALE_LISTINGS or not self._stale(partition, paths):
                        raise
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _stale(self, partition: Partition, paths: list[str]) -> bool:
        """Whether a listed segment is gone (a compaction merged and deleted it)."""
        self._b.fs.invalidate_cache(self._b.path(*partition.names()))
        return bool(set(paths) - set(self.segments(partition)))

    def _scan(self, paths: list[str]) -> pl.LazyFrame | None:
        if not paths:
            return None
        if self._b.local:
            return pl.scan_parquet(paths, glob=False)
        import pyarrow.dataset as ds
        from pyarrow.fs import FSSpecHandler, PyFileSystem

        dataset = ds.dataset(
            paths, format="parquet", filesystem=PyFileSystem(FSSpecHandler(self._b.fs))
        )
        return pl.scan_pyarrow_dataset(dataset)

    def lookup(self, partition: Partition, digests: Iterable[str | None]) -> pl.DataFrame:
        """The entries of ``partition`` whose digest is in ``digests``: one row per digest
        found (the oldest entry), with the ``DIGEST`` column and the stored value columns.
        Empty (no columns) when the partition holds nothing."""
        wanted = pl.Series(DIGEST, list(digests), dtype=pl.String).drop_nulls().unique()
        if wanted.is_empty():
            return pl.DataFrame()

        def query(lazy: pl.LazyFrame) -> pl.LazyFrame:
            if wanted.len() <= SEMI_JOIN_ABOVE:
                return lazy.filter(pl.col(DIGEST).is_in(wanted.implode()))
            return lazy.join(wanted.to_frame().lazy(), on=DIGEST, how="semi")

        found = self.collect(partition, query)
        if found is None:
            return pl.DataFrame()
        return _oldest(found).drop(CACHED_AT)

    def entries(self, partition: Partition | None = None) -> int:
        """How many entries (segment rows) the partition, or the whole cache, holds."""
        if partition is not None:
            paths = self.segments(partition)
        else:
            pattern = self._b.path(LAYOUT, "*", "*", "*", "seg-*.parquet")
            paths = sorted(str(p) for p in self._b.fs.glob(pattern))
        total = 0
        for path in paths:
            rows = self._rows(path)
            if rows is None:  # merged by a compaction since the listing: count again
                return self.entries(partition)
            total += rows
        return total

    # -- writes ---------------------------------------------------------------------------

    def add(self, partition: Partition, entries: pl.DataFrame) -> int:
        """Write ``entries`` (a ``DIGEST`` column + value columns) as one new segment.

        Create-only under a unique name: concurrent writers never collide or overwrite.
        Returns how many entries were written (0 writes nothing).
        """
        if DIGEST not in entries.columns:
            raise StoreError(f"cache entries need a {DIGEST!r} column")
        entries = entries.filter(pl.col(DIGEST).is_not_null())
        if entries.is_empty():
            return 0
        now = datetime.now(UTC)
        table = (
            entries.unique(DIGEST, keep="first", maintain_order=True)
            .sort(DIGEST)
            .with_columns(pl.lit(now, dtype=pl.Datetime("us", "UTC")).alias(CACHED_AT))
            .to_arrow()
        )
        self._write_segment(partition, table, now)
        return int(table.num_rows)

    def compact(
        self, partition: Partition | None = None, *, max_entries: int = COMPACT_ENTRIES
    ) -> Compaction:
        """Merge each partition's segments (or ``partition``'s) into segments of up to about
        ``max_entries`` entries (one, for most caches).

        For a recurring job that adds a segment per batch every day: fewer, larger objects to
        list and open on each lookup. Every entry keeps its ``__cached_at``; of one digest's
        entries in a merge only the oldest is kept (the one a lookup returns). Memory follows
        ``max_entries`` (about 1 KiB an entry for extract-like outputs), not the cache's size.
        Only the segments merged are deleted, after the merged one is written: entries a
        running job adds meanwhile are kept, and reads stay correct throughout (see the module
        docstring). If another compaction is at work on a partition, this one leaves it.

        >>> Cache("memory://doc/compact").compact().partitions
        0
        """
        if max_entries < 1:
            raise StoreError(f"max_entries must be at least 1, got {max_entries}")
        parts = [partition] if partition is not None else self.partitions()
        done = Compaction()
        for part in parts:
            done = done + self._compact(part, max_entries)
        return done

    def _compact(self, partition: Partition, max_entries: int) -> Compaction:
        done = Compaction()
        for group in self._groups(partition, max_entries):
            merged = self._read_paths(partition, group)
            if merged is None:  # a segment went: another compaction is merging this partition
                break
            kept = _oldest(merged).sort(DIGEST)
            self._write_segment(partition, kept.to_arrow(), datetime.now(UTC))
            self._b.delete(group)
            dropped = merged.height - kept.height
            done = done + Compaction(0, len(group), 1, kept.height, dropped)
        return done + Compaction(partitions=1) if done.segments_before else done

    def _groups(self, partition: Partition, max_entries: int) -> list[list[str]]:
        """Runs of consecutive segments (oldest first) of at most ``max_entries`` entries in
        all (a larger segment stands alone); only runs of two or more are worth merging."""
        groups: list[list[str]] = [[]]
        rows = 0
        for path in self.segments(partition):
            n = self._rows(path)
            if n is None:
                continue  # merged by another compaction since the listing
            if groups[-1] and rows + n > max_entries:
                groups.append([])
                rows = 0
            groups[-1].append(path)
            rows += n
        return [g for g in groups if len(g) > 1]

    def _read_paths(self, partition: Partition, paths: list[str]) -> pl.DataFrame | None:
        """Every entry of ``paths``; None when one of them was deleted meanwhile."""
        with self._b.errors("read", *partition.names()):
            try:
                lazy = self._scan(paths)
                assert lazy is not None
                return lazy.collect(engine="streaming")
            except OSError:
                if self._stale(partition, paths):
                    return None
                raise

    def _rows(self, path: str) -> int | None:
        """The entries of one segment (from its footer); None if it is gone."""
        try:
            with self._b.fs.open(path, "rb") as fh:
                return int(pq.ParquetFile(fh).metadata.num_rows)
        except FileNotFoundError:
            return None

    def _write_segment(self, partition: Partition, table: pa.Table, now: datetime) -> None:
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="zstd", row_group_size=ROW_GROUP)
        data = sink.getvalue().to_pybytes()
        names = partition.names()
        self._b.makedirs(*names)
        for _ in range(3):  # a name collision needs the same microsecond and 64 random bits
            name = segment_name(now)
            try:
                with self._b.errors("write", *names, name):
                    self._b.create_only(data, *names, name)
            except FileExistsError:
                continue
            return
        raise StoreError(f"could not find a free segment name under {self._b.show(*names)}")


def _unsafe(value: str) -> str | None:
    """The inverse of :func:`_safe` for a name read back from a partition path."""
    return None if value == "-" else value


def _oldest(found: pl.DataFrame) -> pl.DataFrame:
    """One entry per digest: the oldest (two jobs that cached one document at once, or a
    compaction between its write and its deletes)."""
    if not found.get_column(DIGEST).is_duplicated().any():
        return found
    return found.sort(CACHED_AT, maintain_order=True).unique(
        DIGEST, keep="first", maintain_order=True
    )
