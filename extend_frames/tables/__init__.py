"""The tables layer: publish a job's results to lakehouse tables (Delta Lake, Apache Iceberg).

Beside ``store``: imports ``_errors``, ``_columns``, pyarrow and polars; ``deltalake`` (extra
``delta``) and ``pyiceberg`` (extra ``iceberg``) are imported only when a table is used, with
an install hint if missing. ``output=`` stays the job's working state (ledger, parts, resume);
a table is where each collected chunk is *published*, once, in one transaction that records
the job and chunk in the table itself (see docs/ARCHITECTURE.md, "tables layer").
"""

from __future__ import annotations

from extend_frames.tables._publish import Publisher, Sink, chunk_rows
from extend_frames.tables._read import compact, open_sink, read_table
from extend_frames.tables._schema import check_evolution, table_schema, table_type
from extend_frames.tables._targets import (
    Delta,
    Iceberg,
    TableMode,
    TableTarget,
    parse_table_uri,
)

__all__ = [
    "Delta",
    "Iceberg",
    "Publisher",
    "Sink",
    "TableMode",
    "TableTarget",
    "check_evolution",
    "chunk_rows",
    "compact",
    "open_sink",
    "parse_table_uri",
    "read_table",
    "table_schema",
    "table_type",
]
