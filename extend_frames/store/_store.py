"""JobStore: one job's output location (manifest, lock, ledger, Parquet parts, _SUCCESS).

Methods are synchronous and do blocking I/O: the async engine calls them from a worker thread
(``asyncio.to_thread``). Reads never need the lock; the engine holds it while writing.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import uuid
import warnings
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import fsspec
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from extend_frames._errors import StoreError
from extend_frames.store import _lock
from extend_frames.store._backend import Backend
from extend_frames.store._ledger import (
    SESSION,
    ChunkState,
    decode_record,
    decode_snapshot,
    encode_record,
    encode_snapshot,
    fold,
    name_seq,
    record_name,
    snapshot_name,
    snapshot_seq,
)
from extend_frames.store._manifest import decode_schema, differences, encode_manifest
from extend_frames.store._paths import (
    INPUT,
    LEDGER,
    LOCK,
    MANIFEST,
    PART_RE,
    SUCCESS,
    TEMP_RE,
    display_path,
    is_owned,
    part_chunk,
    part_name,
    temp_name,
)

#: The lock holder compacts the ledger when it had to read more records than this one by one.
SNAPSHOT_AFTER = 64
#: ... and every this many ``collected`` records it writes (so a long job's ledger stays small).
COMPACT_EVERY = 100
#: How often a read lists the ledger again when a compaction deleted what it listed meanwhile.
STALE_LISTINGS = 5

_OVERWRITE_HINT = 'Pass mode="overwrite" to replace it, or choose another output path.'


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def encode_parquet(table: pa.Table) -> bytes:
    """``table`` as complete Parquet bytes (zstd), serialised in memory before any write."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    data: bytes = sink.getvalue().to_pybytes()
    return data


class JobStore:
    """The output of one job at an fsspec path (local, file://, memory://, s3://, gs://, ...).

    >>> import extend_frames.store as xs, pyarrow as pa
    >>> store = xs.JobStore.open("memory://doc/jobstore")
    >>> store.write_part(0, pa.table({"pos": [0, 1], "x": ["a", "b"]}))
    >>> store.parts(), store.read()["x"].to_list()
    ([0], ['a', 'b'])
    """

    def __init__(self, backend: Backend) -> None:
        """Use :meth:`open`."""
        self._b = backend
        self._manifest: dict[str, Any] | None = None
        self._schema: pa.Schema | None = None
        self._seq_lock = threading.Lock()
        self._next_seq: int | None = None
        self._ledger_dir_ready = False
        self._held: _lock.LockInfo | None = None  # our lock, while held
        self._inflight: set[int] = set()  # sequence numbers taken, record not written yet
        self._collected = 0  # collected records written by this object (compaction rhythm)
        self._compacting = threading.Lock()
        self._recorded = False  # whether record() ran while we held the lock
        self._session = uuid.uuid4().hex[:12]  # stamped on every record this instance writes

    @classmethod
    def open(
        cls, path: str | os.PathLike[str], *, storage_options: Mapping[str, Any] | None = None
    ) -> JobStore:
        """The store at ``path``; ``storage_options`` go to fsspec (e.g. s3fs key/secret).

        Nothing is written until a write method is called.
        """
        path = os.fspath(path)
        try:
            fs, root = fsspec.core.url_to_fs(path, **dict(storage_options or {}))
        except (ValueError, ImportError) as exc:
            raise StoreError(
                f"cannot open output path {display_path(path)}: {exc}. Install the fsspec "
                "backend for that protocol (e.g. extend-frames[s3] for s3://)."
            ) from None
        return cls(Backend(fs, root, path))

    @property
    def path(self) -> str:
        """The output path without credentials or query string (safe to show)."""
        return self._b.url

    @property
    def fs(self) -> Any:
        """The fsspec filesystem (for callers that need one, such as pyarrow datasets)."""
        return self._b.fs

    def __repr__(self) -> str:
        return f"JobStore({self._b.url!r})"

    # -- lock ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, owner: str, *, force: bool = False) -> Iterator[_lock.LockInfo]:
        """Hold the output's create-only lock for the ``with`` block (see ``_lock.py``).

        StoreError names the holder and the fix if another live job holds it. A lock left by a
        dead process on this host is taken over; any other lock only with ``force=True``.
        """
        mine = _lock.acquire(self._b, owner, force=force)
        self._held = mine
        try:
            self._sweep_temp_files()
            yield mine
        finally:
            self._held = None
            if not _lock.release(self._b, mine):
                warnings.warn(
                    f"{self._b.url}: the lock was taken over by another job while {owner!r} "
                    "held it; left it in place.",
                    stacklevel=3,
                )

    def lock_holder(self) -> _lock.LockInfo | None:
        """Who holds the lock now (None if nobody)."""
        return _lock.read_lock(self._b)

    def _sweep_temp_files(self) -> None:
        """Delete temp files left by killed writers; only the lock holder may call this."""
        if not self._b.local:
            return  # object stores write in one PUT and never leave temp objects
        # Not the temp files of _lock itself: other jobs may be trying to create it right now.
        stale = [
            self._b.path(n)
            for n in self._b.list()
            if TEMP_RE.match(n) and not n.startswith(f".{LOCK}.")
        ]
        stale += [self._b.path(LEDGER, n) for n in self._b.list(LEDGER) if TEMP_RE.match(n)]
        self._b.delete(stale)

    # -- checks ---------------------------------------------------------------------------

    def check_writable(self) -> None:
        """Raise StoreError, naming the path, unless this output can be written: creates the
        folder and a create-only probe object, then deletes it. Jobs call it before their first
        request, so an unwritable output (``/proc/...``, a read-only folder, a path under a
        regular file, missing permissions) costs no credits."""
        probe = temp_name("_probe")  # a temp name: swept and never taken for a foreign file
        with self._b.errors("write to"):
            self._b.makedirs()
            self._b.create_only(b"", probe)
            self._b.delete([self._b.path(probe)])

    def require_job(self) -> None:
        """Raise StoreError, naming the path, unless it holds a job output (a manifest, parts,
        or any other file of this layout): a wrong path must never read as an empty result."""
        if self.read_manifest() is not None or any(is_owned(n) for n in self._b.list()):
            return
        if not self._b.exists():
            raise StoreError(
                f"{self._b.url} does not exist: no job output to read. Check the path and "
                "storage_options; a job writes its results there when given output=."
            )
        raise StoreError(
            f"{self._b.url} is not an extend_frames job output (no {MANIFEST}, no result "
            "parts). Pass the folder the job was given as output=."
        )

    # -- input ----------------------------------------------------------------------------

    def write_input(self, table: pa.Table) -> None:
        """Keep the job's input rows (``_input.parquet``, written atomically), so the job can be
        collected or resumed later from the output path alone (``xf.collect``)."""
        self._b.makedirs()
        with self._b.errors("write", INPUT):
            self._b.write_atomic(encode_parquet(table), INPUT)

    def read_input(self) -> pa.Table | None:
        """The input rows kept by :meth:`write_input`, or None."""
        with self._b.errors("read", INPUT):
            raw = self._b.read(INPUT)
        return None if raw is None else pq.read_table(pa.BufferReader(raw))

    # -- manifest -------------------------------------------------------------------------

    def read_manifest(self) -> dict[str, Any] | None:
        """The stored manifest, or None if this output has none yet."""
        with self._b.errors("read", MANIFEST):
            raw = self._b.read(MANIFEST)
        if raw is None:
            return None
        try:
            manifest = json.loads(raw)
            if not isinstance(manifest, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            raise StoreError(
                f"{self._b.show(MANIFEST)} is not valid JSON ({exc}). " + _OVERWRITE_HINT,
                path=self._b.url,
            ) from None
        self._manifest = manifest
        self._schema = None
        return manifest

    def write_manifest(self, manifest: Mapping[str, Any]) -> None:
        """Write the manifest atomically; a ``pa.Schema`` under ``"schema"`` is encoded.

        Recommended fields: operation, processor, processor_version, config, input_fingerprint,
        library_version, job_id, created_at, batch_size, n_chunks, n_rows, schema.
        """
        data = encode_manifest(manifest)
        self._b.makedirs()
        with self._b.errors("write", MANIFEST):
            self._b.write_atomic(data, MANIFEST)
        self._manifest = json.loads(data)
        self._schema = None

    def check_manifest(self, expected: Mapping[str, Any]) -> dict[str, Any] | None:
        """Check that this output belongs to the job described by ``expected``.

        Returns the stored manifest (resume), or None for a fresh output. Raises StoreError
        naming each identity field that differs (operation, processor, processor_id,
        processor_version, config, input_fingerprint, batch_size, schema), or if the path holds
        files that are not an extend_frames output.
        """
        stored = self.read_manifest()
        if stored is None:
            names = self._b.list()
            foreign = [n for n in names if not is_owned(n)]
            if foreign:
                raise StoreError(
                    f"{self._b.url} is not empty and is not an extend_frames output (found "
                    f"{', '.join(sorted(foreign)[:3])}). Choose an empty or new output path.",
                    path=self._b.url,
                )
            if any(PART_RE.match(n) for n in names):
                raise StoreError(
                    f"{self._b.url} has result parts but no manifest. " + _OVERWRITE_HINT,
                    path=self._b.url,
                )
            return None
        diffs = differences(stored, expected)
        if diffs:
            raise StoreError(
                f"{self._b.url} holds the results of a different job; these differ: "
                f"{'; '.join(diffs)}. " + _OVERWRITE_HINT,
                path=self._b.url,
            )
        return stored

    def schema(self) -> pa.Schema | None:
        """The Arrow schema every part must have: the manifest's, else the first part's."""
        if self._schema is not None:
            return self._schema
        manifest = self._manifest if self._manifest is not None else self.read_manifest()
        if manifest is not None and isinstance(manifest.get("schema"), str):
            self._schema = decode_schema(manifest["schema"])
        else:
            chunks = self.parts()
            if chunks:
                raw = self._b.read(part_name(chunks[0]))
                if raw is not None:
                    self._schema = pq.read_schema(pa.BufferReader(raw))
        return self._schema

    # -- ledger ---------------------------------------------------------------------------

    def record(self, chunk: int, state: str, **data: Any) -> None:
        """Append one ledger record (its own create-only object); ``data`` is plain JSON.

        ``state`` is one of intent, submitted, duplicates, collected, failed. Typical data:
        ``row_keys`` and ``job_id`` with the intent, ``batch_id`` once submitted, ``runs``
        (row key -> extra run ids) for duplicates, ``rows``/``credits`` when collected,
        ``error`` when failed. The store adds ``seq``, ``chunk``, ``state`` and
        ``time``. Fields that look like secrets, and URLs with query strings, are refused.
        """
        time = _now()
        data = {SESSION: self._session, **data}
        encode_record(0, chunk, state, time, data)  # validate before touching the store
        if not self._ledger_dir_ready:
            self._b.makedirs(LEDGER)
            self._ledger_dir_ready = True
        for _ in range(10):
            with self._seq_lock:
                if self._next_seq is None:
                    self._next_seq = self._max_seq(self._b.list(LEDGER)) + 1
                seq = self._next_seq
                self._next_seq += 1
                self._inflight.add(seq)
            name = record_name(seq, chunk, state)
            try:
                with self._b.errors("write the ledger record", LEDGER, name):
                    self._b.create_only(encode_record(seq, chunk, state, time, data), LEDGER, name)
            except FileExistsError:
                with self._seq_lock:  # someone else used this number: re-list and go on
                    self._next_seq = None
                continue
            finally:
                with self._seq_lock:
                    self._inflight.discard(seq)
            if state == "collected":
                self._collected += 1
                if self._held is not None and self._collected % COMPACT_EVERY == 0:
                    self.compact()
            return
        raise StoreError(
            f"{self._b.show(LEDGER)}: could not append a record (another process keeps writing "
            "the ledger). Only the job holding the output's lock may write to it.",
            path=self._b.url,
        )

    @staticmethod
    def _max_seq(names: list[str]) -> int:
        return max((s for s in map(name_seq, names) if s is not None), default=-1)

    def ledger(self) -> dict[int, ChunkState]:
        """Every chunk's state, rebuilt from one LIST of ``_ledger/`` and concurrent GETs.

        Reads the newest readable snapshot plus the records written after it (records a
        snapshot covers are ignored, whether a compaction deleted them yet or not). The lock
        holder compacts when more than ``SNAPSHOT_AFTER`` records had to be read one by one, so
        resuming a 1,000-chunk job costs a LIST and a handful of GETs, not thousands.
        """
        names, records, loose = self._read_ledger()
        top = self._max_seq(names)
        with self._seq_lock:
            if self._next_seq is None or self._next_seq < top + 1:
                self._next_seq = top + 1
        if self._held is not None and loose > SNAPSHOT_AFTER:
            self._compact(names, records)
        return fold(records)

    def compact(self) -> int:
        """Replace the ledger's records by one snapshot of them; the number of objects deleted.

        Only the lock holder compacts (StoreError otherwise). The snapshot (every readable
        record up to a sequence, each kept whole: step times, rows, credits) is written
        create-only first; then the records and older snapshots it covers are deleted. A crash
        in between leaves both, which fold to the same state (a reader skips covered records).
        Records still being written by this process are never covered.
        """
        if self._held is None:
            raise StoreError(
                f"{self._b.show(LEDGER)}: only the job holding the output's lock compacts the "
                "ledger; run it inside `with store.lock(...)`.",
                path=self._b.url,
            )
        if not self._compacting.acquire(blocking=False):
            return 0  # another thread of this job is compacting right now
        try:
            names, records, _ = self._read_ledger()
            return self._compact(names, records)
        finally:
            self._compacting.release()

    def _compact(self, names: list[str], records: list[dict[str, Any]]) -> int:
        with self._seq_lock:
            cover = self._max_seq(names)
            if self._inflight:
                cover = min(cover, min(self._inflight) - 1)
        kept = [r for r in records if int(r["seq"]) <= cover]
        if cover < 0 or not kept:
            return 0
        data = self._write_snapshot(cover, kept)
        name = snapshot_name(cover)
        with self._b.errors("read the ledger snapshot", LEDGER, name):
            stored = self._b.read(LEDGER, name)
        if stored != data and decode_snapshot(name, stored) is None:
            return 0  # not readable back (a backend without atomic writes): delete nothing
        covered = [
            n
            for n in names
            if ((q := name_seq(n)) is not None and q <= cover)
            or ((q := snapshot_seq(n)) is not None and q < cover)
        ]
        with self._b.errors("compact the ledger", LEDGER):
            self._b.delete([self._b.path(LEDGER, n) for n in covered])
        return len(covered)

    def _read_ledger(self) -> tuple[list[str], list[dict[str, Any]], int]:
        """(names listed, readable records oldest first, records read one by one), listing
        again when a compaction deleted a listed object meanwhile."""
        for _ in range(STALE_LISTINGS):
            names = self._b.list(LEDGER)
            got = self._read_listed(names)
            if got is not None:
                return names, got[0], got[1]
        names = self._b.list(LEDGER)
        got = self._read_listed(names, final=True)
        assert got is not None
        return names, got[0], got[1]

    def _read_listed(
        self, names: list[str], *, final: bool = False
    ) -> tuple[list[dict[str, Any]], int] | None:
        """The records of one listing, or None if one of its objects vanished under it."""
        base: list[dict[str, Any]] = []
        base_seq = -1
        for seq, name in sorted(
            ((q, n) for n in names if (q := snapshot_seq(n)) is not None), reverse=True
        ):
            with self._b.errors("read the ledger snapshot", LEDGER, name):
                raw_snapshot = self._b.read(LEDGER, name)
            if raw_snapshot is None and not final:
                return None  # compacted away since the listing
            got = decode_snapshot(name, raw_snapshot)
            if got is not None:
                base, base_seq = got, seq
                break
        wanted = [n for n in names if (q := name_seq(n)) is not None and q > base_seq]
        with self._b.errors("read the ledger", LEDGER):
            raw = self._b.read_many([self._b.path(LEDGER, n) for n in wanted])
        if not final and any(isinstance(raw.get(n), FileNotFoundError) for n in wanted):
            return None
        delta = []
        for name in wanted:
            rec = decode_record(name, raw.get(name, FileNotFoundError(name)))
            if rec is not None:
                delta.append(rec)
        return base + delta, len(wanted)

    def _write_snapshot(self, seq: int, records: list[dict[str, Any]]) -> bytes:
        """Save ``records`` (all readable records up to ``seq``) as one create-only object;
        the bytes meant (an existing snapshot of ``seq`` is kept: it holds the same records)."""
        data = encode_snapshot(seq, sorted(records, key=lambda r: int(r["seq"])))
        with contextlib.suppress(FileExistsError), self._b.errors("write", LEDGER):
            self._b.create_only(data, LEDGER, snapshot_name(seq))
        return data

    # -- parts ----------------------------------------------------------------------------

    def write_part(self, chunk: int, table: pa.Table) -> None:
        """Write chunk ``chunk``'s results atomically as ``part-<chunk>.parquet`` (zstd).

        StoreError if ``table``'s schema differs from the job's (see :meth:`schema`).
        """
        if chunk < 0:
            raise StoreError(f"batch index must be >= 0, got {chunk}", path=self._b.url)
        expected = self.schema()
        if expected is not None and not _as_stored(table.schema).equals(
            _as_stored(expected), check_metadata=False
        ):
            raise StoreError(
                f"part {chunk} of {self._b.url} does not have the job's schema "
                f"(expected {_fields(expected)}, got {_fields(table.schema)}). Every part of "
                "one output must have one schema; this is a bug in the caller.",
                path=self._b.url,
            )
        data = encode_parquet(table)
        self._b.makedirs()
        name = part_name(chunk)
        with self._b.errors("write", name):
            self._b.write_atomic(data, name)
        if self._schema is None:
            self._schema = table.schema

    def parts(self) -> list[int]:
        """The chunk indexes that have a part, ascending."""
        with self._b.errors("list", ""):
            names = self._b.list()
        return sorted(c for c in map(part_chunk, names) if c is not None)

    def has_part(self, chunk: int) -> bool:
        """Whether chunk ``chunk``'s part exists."""
        return self._b.exists(part_name(chunk))

    def read_part(self, chunk: int) -> pa.Table:
        """Chunk ``chunk``'s results; StoreError if it has no part."""
        name = part_name(chunk)
        with self._b.errors("read", name):
            raw = self._b.read(name)
        if raw is None:
            raise StoreError(
                f"{self._b.show(name)} does not exist: batch {chunk} has no results",
                path=self._b.url,
            )
        table: pa.Table = pq.read_table(pa.BufferReader(raw))
        return table

    def scan(self) -> pl.LazyFrame:
        """A LazyFrame over every part, in chunk order (empty with the job's schema if none)."""
        chunks = self.parts()
        if not chunks:
            schema = self.schema()
            return pl.LazyFrame() if schema is None else pl.from_arrow(schema.empty_table()).lazy()  # type: ignore[union-attr]
        paths = [self._b.path(part_name(c)) for c in chunks]
        if self._b.local:
            return pl.scan_parquet(paths, glob=False)
        import pyarrow.dataset as ds
        from pyarrow.fs import FSSpecHandler, PyFileSystem

        dataset = ds.dataset(
            paths, format="parquet", filesystem=PyFileSystem(FSSpecHandler(self._b.fs))
        )
        return pl.scan_pyarrow_dataset(dataset)

    def read(self) -> pl.DataFrame:
        """Every part, collected, in chunk order."""
        return self.scan().collect()

    # -- completion and cleanup -----------------------------------------------------------

    def mark_success(self, summary: Mapping[str, Any]) -> None:
        """Write ``_SUCCESS`` (last, once every chunk is collected) with ``summary`` in it."""
        body = {"time": _now(), "parts": len(self.parts()), "summary": dict(summary)}
        try:
            data = json.dumps(body, indent=2, sort_keys=True, allow_nan=False).encode()
        except (TypeError, ValueError) as exc:
            raise StoreError(
                f"the success summary is not plain JSON: {exc}", path=self._b.url
            ) from None
        with self._b.errors("write", SUCCESS):
            self._b.write_atomic(data, SUCCESS)

    def is_complete(self) -> bool:
        """Whether ``_SUCCESS`` exists (the job finished and every chunk is collected)."""
        return self._b.exists(SUCCESS)

    def success(self) -> dict[str, Any] | None:
        """The content of ``_SUCCESS`` (time, parts, summary), or None if not complete."""
        raw = self._b.read(SUCCESS)
        if raw is None:
            return None
        try:
            body = json.loads(raw)
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    def clear(self) -> None:
        """Delete everything this layout owns, for ``mode="overwrite"``; hold the lock first.

        Deletes parts, ledger, ``_SUCCESS``, temp files and (last) the manifest; never the lock
        and never a file it does not own (those stay where they are). Refuses (StoreError) to
        touch a non-empty path without a manifest that holds foreign files: that is not an
        extend_frames output, and "overwrite" must not delete someone else's data.
        """
        names = self._b.list()
        foreign = sorted(n for n in names if not is_owned(n))
        if MANIFEST not in names and foreign:
            raise StoreError(
                f"{self._b.url} is not an extend_frames output (no {MANIFEST}; found "
                f"{', '.join(foreign[:3])}): refusing to overwrite it. Choose an empty or new "
                "output path.",
                path=self._b.url,
            )
        owned = [n for n in names if n not in (MANIFEST, LEDGER) and is_owned(n) and n != "_lock"]
        with self._b.errors("clear", ""):
            self._b.delete([self._b.path(n) for n in owned])
            self._b.delete_tree(LEDGER)
            self._b.delete([self._b.path(MANIFEST)])
        self._manifest = None
        self._schema = None
        with self._seq_lock:
            self._next_seq = None
        self._ledger_dir_ready = False


def _as_stored(schema: pa.Schema) -> pa.Schema:
    """The schema as Parquet stores it (string vs large_string, list item names normalised),
    so a part written by this process compares equal to one read back after a restart."""
    return pq.read_schema(pa.BufferReader(encode_parquet(schema.empty_table())))


def _fields(schema: pa.Schema) -> str:
    return "{" + ", ".join(f"{f.name}: {f.type}" for f in schema) + "}"
