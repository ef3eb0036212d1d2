"""The store layer: one job's output on any fsspec path (see docs/ARCHITECTURE.md).

Layout: ``_manifest.json``, ``_lock``, ``_ledger/<seq>-<chunk>-<state>.json``,
``part-<chunk>.parquet`` and ``_SUCCESS``. Every write is atomic (one PUT on object stores, temp
file + rename on local disk), the lock and ledger records are create-only, and readers never
see a partial Parquet file. This layer imports only fsspec, pyarrow, polars and the stdlib.
"""

from __future__ import annotations

from extend_frames.store import _ledger as ledger
from extend_frames.store._cache import Cache, Partition
from extend_frames.store._ledger import STATES, ChunkState, LedgerWarning, empty_state, fold_chunk
from extend_frames.store._lock import LockInfo
from extend_frames.store._manifest import (
    IDENTITY_FIELDS,
    JOB_FIELDS,
    decode_schema,
    differences,
    encode_schema,
)
from extend_frames.store._paths import display_path
from extend_frames.store._read import StoredJobStatus, ledger_summary, read_results
from extend_frames.store._store import JobStore

__all__ = [
    "IDENTITY_FIELDS",
    "JOB_FIELDS",
    "STATES",
    "Cache",
    "ChunkState",
    "JobStore",
    "LedgerWarning",
    "LockInfo",
    "Partition",
    "StoredJobStatus",
    "decode_schema",
    "differences",
    "display_path",
    "empty_state",
    "encode_schema",
    "fold_chunk",
    "ledger",
    "ledger_summary",
    "read_results",
]
