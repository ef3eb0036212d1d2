"""The result cache in a job: digests per unit, one lookup, hits joined like fresh results.

Per job: every unit (distinct document) gets a digest (``jobs/_digest.py``; a ``cache_key=``
column overrides it); the job's partition is (operation, processor id and exact version,
digest of the effective config and of the result schema); one vectorised lookup finds the
hits; only misses go to the engine. Each collected chunk's PROCESSED results are added as one
new segment by a background writer, so a job that crashes halfway keeps what it paid for.

Values are stored as the engine decodes them (one row per unit: run_id, batch_id, status, ...)
and pass through the same join as fresh results, so cached rows are typed exactly like them.
A cached row has ``cached = True`` and ``credits = 0`` (this job paid nothing for it); the
credits of its first run stay in the cache.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from extend_frames._columns import BATCH_ID, CHUNK, ERROR, KEY, KIND, REF, UNIT
from extend_frames._errors import InputError
from extend_frames.frames._inputs import RESERVED_COLUMNS
from extend_frames.jobs._digest import (
    config_digest,
    file_digest,
    file_id_digest,
    key_digest,
    reference_digest,
)
from extend_frames.store._cache import DIGEST, Cache, Partition

#: The columns a cache entry stores: the result columns, as the engine decodes them.
VALUE_COLUMNS = RESERVED_COLUMNS
#: Reads in flight while hashing local/fsspec files at plan time.
HASH_THREADS = 8

CacheLike = Cache | str | os.PathLike[str]


def open_cache(cache: CacheLike | None, storage_options: Mapping[str, Any] | None) -> Cache | None:
    """``cache=`` as a Cache (None stays None); a URL uses the job's ``storage_options``."""
    if cache is None:
        return None
    if not isinstance(cache, Cache | str | os.PathLike):
        raise InputError(
            f"cache= takes an fsspec URL or an xf.Cache(url, storage_options=...), got "
            f"{type(cache).__name__}"
        )
    return Cache.of(cache, storage_options)


def job_partition(
    operation: str,
    processor_id: str | None,
    version: str | None,
    processor_config: Mapping[str, Any] | None,
    override_config: Mapping[str, Any] | None,
    decoded_schema: pl.Schema,
) -> Partition:
    """The job's partition: results of one processor version, effective config (processor
    config + override) and result schema (the decoder's value columns). The job path and
    ``read_batch(cache=)`` both key entries through this one function."""
    values = {c: str(decoded_schema[c]) for c in VALUE_COLUMNS if c in decoded_schema}
    effective = {
        "config": dict(processor_config or {}),
        "override": dict(override_config or {}),
        "schema": values,
    }
    return Partition(operation, processor_id, version, config_digest(effective))


def batch_entries(
    decoded: pl.DataFrame,
    bodies: Sequence[bytes],
    batch_id: str,
    processor_config: Mapping[str, Any] | None,
) -> tuple[pl.DataFrame, int]:
    """Cache entries for the runs of an attached batch, and how many PROCESSED runs are left
    out. ``decoded`` is ``decode_runs`` of ``bodies`` (one row each, in order).

    Kept: PROCESSED runs that name a file id (digest: the job path's rule for a file-id
    reference) and whose effective ``config`` is the processor version's own (so the batch
    had no override config, which the job path's partition would include). Left out: runs
    without a file id (the original URL, text or bytes cannot be recovered from a run) and
    runs with an override config.
    """
    plain = [_config_of(b) == dict(processor_config or {}) for b in bodies]
    processed = pl.col("status") == "PROCESSED"
    mask = processed & pl.col("file_id").is_not_null() & pl.Series(plain, dtype=pl.Boolean)
    batch = pl.lit(batch_id, dtype=pl.String).alias(BATCH_ID)  # in the job path's order
    cols = [
        batch if c == BATCH_ID else pl.col(c)
        for c in VALUE_COLUMNS
        if c in decoded or c == BATCH_ID
    ]
    kept = decoded.filter(mask).select(cols)
    ids = kept.get_column("file_id").to_list()
    kept = kept.with_columns(pl.Series(DIGEST, [file_id_digest(f) for f in ids], pl.String))
    left_out = decoded.filter(processed).height - kept.height
    return kept, left_out


def _config_of(body: bytes) -> Any:
    try:
        run = json.loads(body)
    except ValueError:
        return None
    return run.get("config") if isinstance(run, dict) else None


def unit_digests(
    rows: pl.DataFrame,
    *,
    cache_key: str | None,
    storage_options: Mapping[str, Any] | None,
) -> pl.DataFrame:
    """One row per valid unit: ``__unit``, ``__kind`` and its digest (``DIGEST``).

    ``rows`` are the job's rows with ``__key``, ``__unit``, ``__kind``, ``__ref``, ``__error``
    (and the ``cache_key`` column when given: the unit's first row's value wins; a null value
    falls back to the content digest). A path that cannot be read gets no digest: it is a
    miss, and the engine reports the read failure on its row.
    """
    firsts = rows.filter((pl.col(KEY) == pl.col(UNIT)) & pl.col(ERROR).is_null())
    cols = [UNIT, KIND, REF] + ([cache_key] if cache_key else [])
    units = firsts.select(cols)
    digests: list[str | None] = [
        reference_digest(k, r) for k, r in units.select(KIND, REF).iter_rows()
    ]
    paths = [i for i, d in enumerate(digests) if d is None]
    if paths:
        refs = units.get_column(REF)

        def one(i: int) -> str | None:
            try:
                return file_digest(str(refs[i]), storage_options)
            except Exception:  # refused or unreadable: a miss; the engine reports it per row
                return None

        with ThreadPoolExecutor(HASH_THREADS) as pool:
            for i, d in zip(paths, pool.map(one, paths), strict=True):
                digests[i] = d
    out = units.select(UNIT, KIND).with_columns(pl.Series(DIGEST, digests, pl.String))
    if cache_key:
        keyed = units.get_column(cache_key).cast(pl.String)
        out = out.with_columns(
            pl.when(keyed.is_not_null())
            .then(keyed.map_elements(key_digest, return_dtype=pl.String, skip_nulls=True))
            .otherwise(pl.col(DIGEST))
            .alias(DIGEST)
        )
    return out


def check_cache_key(df: pl.DataFrame, cache_key: str | None) -> None:
    """InputError before any request when ``cache_key=`` names no input column."""
    if cache_key is not None and cache_key not in df.columns:
        raise InputError(
            f"cache_key={cache_key!r} is not a column of the input (columns: "
            f"{', '.join(df.columns[:10])}); name the column holding an ETag or content hash"
        )


def lookup_hits(
    cache: Cache, part: Partition, digests: pl.DataFrame, decoded_schema: pl.Schema
) -> pl.DataFrame:
    """Cached values per hit unit: ``metadata_row`` (= unit key) + the decoded columns.

    ``decoded_schema`` is the schema the engine's decoder gives (plus ``batch_id``); hits are
    cast to it, so they join exactly like fresh results.
    """
    found = cache.lookup(part, digests.get_column(DIGEST))
    wanted = [c for c in VALUE_COLUMNS if c in decoded_schema]
    if found.is_empty():
        return pl.DataFrame(
            schema={"metadata_row": pl.String, **{c: decoded_schema[c] for c in wanted}}
        )
    hits = digests.select(UNIT, DIGEST).join(found, on=DIGEST, how="inner")
    return hits.select(
        pl.col(UNIT).alias("metadata_row"),
        *(pl.col(c).cast(decoded_schema[c]) for c in wanted),
    )


@dataclass
class CacheWriter:
    """Adds each chunk's PROCESSED results as one segment, off the event loop."""

    cache: Cache
    part: Partition
    digest_of: dict[str, str]  # unit key -> digest (at plan time)
    read_digests: Mapping[str, str] = field(default_factory=dict)  # engine: bytes uploaded
    written: int = 0
    _pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1))
    _pending: list[Future[int]] = field(default_factory=list)

    def add(self, decoded: pl.DataFrame) -> None:
        """Queue ``decoded`` (the engine's rows for one chunk) for writing."""
        done = decoded.filter(pl.col("status") == "PROCESSED")
        if done.is_empty():
            return
        keys = done.get_column("metadata_row").to_list()
        # The digest of the bytes actually uploaded wins over the one hashed at plan time
        # (a file changed in between is cached under its new content).
        digests = [self.read_digests.get(k) or self.digest_of.get(k) for k in keys]
        cols = [c for c in VALUE_COLUMNS if c in done.columns]
        entries = done.select(cols).with_columns(pl.Series(DIGEST, digests, pl.String))
        self._pending.append(self._pool.submit(self.cache.add, self.part, entries))

    def close(self) -> int:
        """Wait for every queued write; raise the first failure. Returns entries written."""
        try:
            for fut in self._pending:
                self.written += fut.result()
        finally:
            self._pending.clear()
            self._pool.shutdown(wait=True)
        return self.written


@dataclass
class JobCache:
    """The cache as one job uses it: its partition, hits, and the writer of new entries."""

    cache: Cache
    part: Partition
    digests: pl.DataFrame  # __unit, __kind, DIGEST (valid units)
    hits: pl.DataFrame  # metadata_row (= unit key) + decoded columns, one row per hit unit
    writer: CacheWriter
    hits_by_chunk: dict[int, pl.DataFrame] = field(default_factory=dict)
    hit_rows_by_chunk: dict[int, int] = field(default_factory=dict)  # rows answered per chunk

    @property
    def hit_units(self) -> set[str]:
        return set(self.hits.get_column("metadata_row").to_list())

    @property
    def hit_rows(self) -> int:
        return sum(self.hit_rows_by_chunk.values())

    def history(self) -> list[float]:
        """Credits of the partition's entries (for xf.plan's estimate)."""
        credits = self.cache.collect(self.part, lambda q: q.select(pl.col("credits").drop_nulls()))
        if credits is None:
            return []
        return [float(c) for c in credits.get_column("credits").to_list()]


def open_job_cache(
    cache: Cache,
    part: Partition,
    rows: pl.DataFrame,
    decoded_schema: pl.Schema,
    *,
    cache_key: str | None,
    storage_options: Mapping[str, Any] | None,
) -> JobCache:
    """Digest every unit, look them all up at once in ``part`` (from :func:`job_partition`),
    and prepare the writer."""
    digests = unit_digests(rows, cache_key=cache_key, storage_options=storage_options)
    hits = lookup_hits(cache, part, digests, decoded_schema)
    digest_of = {u: d for u, d in digests.select(UNIT, DIGEST).iter_rows() if d is not None}
    job = JobCache(cache, part, digests, hits, CacheWriter(cache, part, digest_of))
    if hits.is_empty():
        return job
    chunk_of = rows.filter(pl.col(KEY) == pl.col(UNIT)).select(
        pl.col(UNIT).alias("metadata_row"), CHUNK
    )
    by_chunk = hits.join(chunk_of, on="metadata_row").partition_by(
        CHUNK, as_dict=True, include_key=False
    )
    job.hits_by_chunk = {int(k[0]): v for k, v in by_chunk.items()}
    hit_rows = rows.filter(pl.col(UNIT).is_in(hits.get_column("metadata_row").implode()))
    counts = hit_rows.group_by(CHUNK).len()
    job.hit_rows_by_chunk = {int(c): int(n) for c, n in counts.iter_rows()}
    return job
