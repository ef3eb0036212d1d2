"""The append-only ledger: one small create-only JSON object per record, never rewritten.

A record is named ``<seq:08d>-<chunk:05d>-<state>.json`` so a listing sorts in write order and
tells the chunk and state without a GET. Because every record is its own object, written
create-only, no read-modify-write ever happens and a crash can at worst tear the one record it
was writing; a torn or foreign object is skipped with a :class:`LedgerWarning`.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from extend_frames._errors import StoreError
from extend_frames.store._paths import display_path

State = Literal["intent", "submitted", "collected", "failed", "retry"]
STATES: tuple[State, ...] = get_args(State)

_NAME_RE = re.compile(r"^(\d{8,})-(\d{5,})-(intent|submitted|collected|failed|retry)\.json$")
_SNAPSHOT_RE = re.compile(r"^snapshot-(\d{8,})\.json$")
RESERVED = frozenset({"seq", "chunk", "state", "time"})
_SECRET_WORDS = ("secret", "password", "api_key", "apikey", "authorization", "signature")


class LedgerWarning(UserWarning):
    """A ledger object could not be read (torn by a crash, or not ours) and was skipped."""


@dataclass(frozen=True, slots=True)
class ChunkState:
    """What the ledger says about one chunk, folded from its records in write order.

    ``state`` is the latest record's; ``batch_id``, ``row_keys`` (data key ``row_keys`` or
    ``keys``) and ``job_id`` the latest value any record carried; ``intent_at`` the store's time
    of the latest intent (the current attempt, which is what reconciliation lists runs since).
    ``records`` keeps every record, oldest first, as flat dicts: the caller's data plus
    ``seq``, ``chunk``, ``state`` and ``time`` (ISO 8601 UTC, written by the store).
    """

    chunk: int
    state: State
    batch_id: str | None
    intent_at: str | None
    row_keys: tuple[str | int, ...] | None
    job_id: str | None
    records: tuple[dict[str, Any], ...]

    @property
    def attempts(self) -> int:
        """How many intents were recorded (submissions tried) for this chunk."""
        return sum(1 for r in self.records if r["state"] == "intent")

    def get(self, key: str, default: Any = None) -> Any:
        """The latest value of ``key`` in any record's data (e.g. ``credits``, ``error``)."""
        for rec in reversed(self.records):
            if key in rec:
                return rec[key]
        return default


def record_name(seq: int, chunk: int, state: str) -> str:
    """The object name of a record: sorts by sequence, then tells chunk and state."""
    return f"{seq:08d}-{chunk:05d}-{state}.json"


def name_seq(name: str) -> int | None:
    """The sequence number of a record name, or None if ``name`` is not a record."""
    m = _NAME_RE.match(name)
    return int(m.group(1)) if m else None


def _check_secret_free(data: Mapping[str, Any]) -> None:
    """Refuse top-level fields named like secrets, and URLs with a query string anywhere."""
    for key in data:
        if any(word in key.lower() for word in _SECRET_WORDS):
            raise StoreError(
                f"ledger record field {key!r} looks like a secret; the ledger is written to "
                "the output path in clear. Leave it out of the record."
            )
    stack: list[Any] = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, Mapping):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
        elif isinstance(value, str) and "://" in value and "?" in value:
            raise StoreError(
                "a ledger record holds a URL with a query string (possibly a presigned URL, "
                f"{display_path(value)}?...). Record the URL without its query string."
            )


def encode_record(seq: int, chunk: int, state: str, time: str, data: Mapping[str, Any]) -> bytes:
    """The JSON bytes of a record; StoreError if ``data`` is not JSON or looks like a secret."""
    if state not in STATES:
        raise StoreError(f"unknown ledger state {state!r}; use one of {', '.join(STATES)}")
    if chunk < 0:
        raise StoreError(f"chunk index must be >= 0, got {chunk}")
    clash = sorted(RESERVED & set(data))
    if clash:
        raise StoreError(
            f"ledger record fields {', '.join(clash)} are written by the store; rename them."
        )
    _check_secret_free(data)
    body = {**data, "seq": seq, "chunk": chunk, "state": state, "time": time}
    try:
        return json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise StoreError(
            f"ledger record for chunk {chunk} ({state}) is not plain JSON: {exc}. "
            "Pass str/int/float/bool/None, lists and dicts only."
        ) from None


def decode_record(name: str, raw: bytes | BaseException) -> dict[str, Any] | None:
    """The record stored as ``name``, or None (with a LedgerWarning) if torn or not ours."""
    m = _NAME_RE.match(name)
    if m is None:
        return None  # not a record name (e.g. a temp file): silently not ours
    try:
        if isinstance(raw, BaseException):
            raise raw
        body = json.loads(raw)
        if not isinstance(body, dict):
            raise TypeError("not a JSON object")
        ok = (body["seq"], body["chunk"], body["state"]) == (
            int(m.group(1)),
            int(m.group(2)),
            m.group(3),
        ) and isinstance(body["time"], str)
    except (ValueError, KeyError, TypeError, OSError) as exc:
        warnings.warn(
            f"skipping unreadable ledger record {name} ({type(exc).__name__}); "
            "it was probably torn by a crash and its chunk will be re-checked.",
            LedgerWarning,
            stacklevel=3,
        )
        return None
    if not ok:
        warnings.warn(
            f"skipping ledger record {name}: its content does not match its name.",
            LedgerWarning,
            stacklevel=3,
        )
        return None
    return body


def snapshot_name(seq: int) -> str:
    """The name of a snapshot holding every readable record with a sequence <= ``seq``."""
    return f"snapshot-{seq:08d}.json"


def snapshot_seq(name: str) -> int | None:
    """The sequence a snapshot name covers, or None if ``name`` is not a snapshot."""
    m = _SNAPSHOT_RE.match(name)
    return int(m.group(1)) if m else None


def encode_snapshot(seq: int, records: list[dict[str, Any]]) -> bytes:
    """A snapshot: the records (flat dicts) of sequences <= ``seq``, in one JSON object."""
    return json.dumps({"seq": seq, "records": records}, separators=(",", ":")).encode()


def decode_snapshot(name: str, raw: bytes | BaseException | None) -> list[dict[str, Any]] | None:
    """The records of snapshot ``name``, or None (with a LedgerWarning) if unreadable."""
    try:
        if raw is None:
            raise FileNotFoundError(name)
        if isinstance(raw, BaseException):
            raise raw
        body = json.loads(raw)
        records = body["records"]
        if body["seq"] != snapshot_seq(name) or not isinstance(records, list):
            raise ValueError("content does not match the name")
        for rec in records:
            if not (isinstance(rec, dict) and {"seq", "chunk", "state", "time"} <= rec.keys()):
                raise ValueError("malformed record")
    except (ValueError, KeyError, TypeError, OSError) as exc:
        warnings.warn(
            f"skipping unreadable ledger snapshot {name} ({type(exc).__name__}); "
            "reading the individual records instead.",
            LedgerWarning,
            stacklevel=3,
        )
        return None
    return records


def fold(records: Iterable[dict[str, Any]]) -> dict[int, ChunkState]:
    """Per chunk, the state folded from ``records`` (any order; sorted by ``seq`` here)."""
    by_chunk: dict[int, list[dict[str, Any]]] = {}
    for rec in sorted(records, key=lambda r: int(r["seq"])):
        by_chunk.setdefault(int(rec["chunk"]), []).append(rec)
    out: dict[int, ChunkState] = {}
    for chunk in sorted(by_chunk):
        recs = tuple(by_chunk[chunk])
        intent_at = next((r["time"] for r in reversed(recs) if r["state"] == "intent"), None)
        keys = _latest(recs, "row_keys")
        if keys is None:
            keys = _latest(recs, "keys")
        out[chunk] = ChunkState(
            chunk=chunk,
            state=recs[-1]["state"],
            batch_id=_latest(recs, "batch_id"),
            intent_at=intent_at,
            row_keys=tuple(keys) if isinstance(keys, list) else None,
            job_id=_latest(recs, "job_id"),
            records=recs,
        )
    return out


def _latest(recs: tuple[dict[str, Any], ...], key: str) -> Any:
    for rec in reversed(recs):
        value = rec.get(key)
        if value is not None:
            return value
    return None
