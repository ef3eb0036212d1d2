"""Names of the objects of one job's output, and paths made safe to show.

The layout (every name but the parts starts with ``_`` or ``.``, so Spark/pyarrow/polars
directory readers skip them)::

    OUTPUT/_manifest.json          what this output holds (operation, processor, config, schema)
    OUTPUT/_lock                   create-only lock object of the job writing here
    OUTPUT/_ledger/<record>.json   append-only ledger, one create-only object per record
    OUTPUT/part-00000.parquet      one Parquet part per chunk
    OUTPUT/_SUCCESS                written last, when every chunk is collected
    OUTPUT/.<name>.tmp-<hex>       local-disk temp file, renamed into place (never matches a part)
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit, urlunsplit

MANIFEST = "_manifest.json"
LOCK = "_lock"
LEDGER = "_ledger"
SUCCESS = "_SUCCESS"
INPUT = "_input.parquet"  # the job's input rows, so a job can be resumed from its path alone

PART_RE = re.compile(r"^part-(\d{5,})\.parquet$")
TEMP_RE = re.compile(r"^\..+\.tmp-[0-9a-f]{16}$")
_URL_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"]+")


def part_name(chunk: int) -> str:
    """The object name of chunk ``chunk``'s Parquet part: ``part-00042.parquet``."""
    return f"part-{chunk:05d}.parquet"


def part_chunk(name: str) -> int | None:
    """The chunk index of a part name, or None if ``name`` is not one of our parts."""
    m = PART_RE.match(name)
    return int(m.group(1)) if m else None


def temp_name(final: str) -> str:
    """A unique temp name for ``final`` that no part/ledger pattern matches (leading dot)."""
    return f".{final}.tmp-{secrets.token_hex(8)}"


def is_owned(name: str) -> bool:
    """Whether a top-level entry name belongs to this layout (clear() deletes only those)."""
    return (
        name in (MANIFEST, LOCK, LEDGER, SUCCESS, INPUT)
        or PART_RE.match(name) is not None
        or TEMP_RE.match(name) is not None
    )


def display_path(path: str) -> str:
    """``path`` without credentials, query string or fragment, fit for messages and logs.

    >>> display_path("s3://AKIA:s3cr3t@bucket/out/?X-Amz-Signature=abc")
    's3://bucket/out/'
    """
    if "://" not in path:
        return path.split("?", 1)[0]
    parts = urlsplit(path)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def redact(text: str) -> str:
    """Every URL inside ``text`` passed through :func:`display_path` (for wrapped error texts)."""
    return _URL_RE.sub(lambda m: display_path(m.group(0)), text)
