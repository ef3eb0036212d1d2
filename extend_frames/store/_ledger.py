"""The append-only ledger: one small create-only JSON object per record, never rewritten.

A record is named ``<seq:08d>-<chunk:05d>-<state>.json`` so a listing sorts in write order and
tells the chunk (one batch of the job) and state without a GET. Because every record is its own
object, written create-only, no read-modify-write ever happens and a crash can at worst tear
the one record it was writing; a torn or foreign object is skipped with a :class:`LedgerWarning`.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from extend_frames._errors import StoreError
from extend_frames.store._paths import display_path

State = Literal["intent", "submitted", "collected", "retry"]
STATES: tuple[State, ...] = get_args(State)
# The record states, spelled once (the engine writes them, the fold reads them).
INTENT: State = "intent"  # before a create-POST: the keys about to be sent
SUBMITTED: State = "submitted"  # after it (or after reconciling): what the keys went into
COLLECTED: State = "collected"  # the chunk's part is written
RETRY: State = "retry"  # a mode="retry" attempt of the chunk starts
# Records may also note duplicate runs found after a resubmission; that is not a chunk state.
DUPLICATES = "duplicates"
RECORD_STATES: tuple[str, ...] = (*STATES, DUPLICATES)

# -- the record schema: one spelling for the store, the engine and `extend-frames status` ----
# Written by the store into every record (reserved: callers may not pass them):
SEQ, CHUNK, STATE, TIME = "seq", "chunk", "state", "time"  # TIME: ISO 8601 UTC, microseconds
# Written by the engine, by state:
KEYS = "keys"  # intent, submitted, retry: the unit keys the record is about (a submitted
#   record closes its keys' open intent, also when no run was found for them)
ROUTE = "route"  # intent: "batch" or "single", the poster the keys went through
FILE_IDS = "file_ids"  # intent: unit key -> Extend file id of an uploaded file
BATCH_ID = "batch_id"  # submitted: the batch the keys went into
RUN_IDS = "run_ids"  # submitted: unit key -> run id (single runs, or runs found by reconciling)
REFUSED = "refused"  # submitted: unit key -> why the API refused its run (400/422: no run)
ROWS = "rows"  # collected: rows in the chunk's part
CREDITS = "credits"  # collected: credits of the runs this attempt collected (the spend so far)
DOCUMENTS = "documents"  # collected: documents this attempt submitted (what CREDITS paid for)
ATTEMPT = "attempt"  # retry: which mode="retry" attempt of the chunk starts (1, 2, ...)
AT = "at"  # every engine record: the job clock's wall time (ISO 8601 UTC)
SUSPECT_SINCE = "suspect_since"  # submitted: the first POST of these keys whose outcome stayed
#   unknown (they were sent again): watched for a late duplicate (jobs/_reconcile.py)
RUNS = "runs"  # duplicates: unit key -> extra run ids (the row may have been paid twice)
CANCELLED = "cancelled"  # duplicates: the extra run ids that were cancelled
SESSION = "session"  # any, written by the store: which JobStore (one per call of a job) wrote
#   it; a job resumed three times has records of four sessions (the job report reads them)

_NAME_RE = re.compile(r"^(\d{8,})-(\d{5,})-(intent|submitted|duplicates|collected|retry)\.json$")
_SNAPSHOT_RE = re.compile(r"^snapshot-(\d{8,})\.json$")
RESERVED = frozenset({SEQ, CHUNK, STATE, TIME})
_SECRET_WORDS = ("secret", "password", "api_key", "apikey", "authorization", "signature")


class LedgerWarning(UserWarning):
    """A ledger object could not be read (torn by a crash, or not ours) and was skipped."""


@dataclass(frozen=True, slots=True)
class ChunkState:
    """What the ledger says about one chunk, folded from its records in write order.

    The one fold of the ledger (:func:`fold_chunk`): the store, ``extend-frames status`` and
    the engine's state machine (``jobs/_steps.py``) all read it; the engine appends a record
    and folds again, it keeps no other copy.

    ``state`` is the latest record's; ``batch_id`` and ``row_keys`` (``keys``) the latest value
    any record carried; ``intent_at`` the time of the open attempt's latest intent (what
    reconciliation lists runs since). ``batches`` (batch id, keys), ``adopted_runs`` (key ->
    run id) and ``refused`` (key -> message) are the current attempt's submissions;
    ``open_intent`` the keys of intents no submitted record closed yet (a crash between
    intent and POST answer, or an unknown outcome); ``file_ids`` every upload;
    ``attempt``/``retry_keys`` the latest ``mode="retry"`` attempt; ``credits``/``documents``
    what every collected attempt paid for. ``records`` keeps every record, oldest first, as
    flat dicts: the caller's data plus ``seq``, ``chunk``, ``state`` and ``time``.
    """

    chunk: int
    state: State
    batch_id: str | None
    intent_at: str | None
    row_keys: tuple[str | int, ...] | None
    records: tuple[dict[str, Any], ...]
    batches: tuple[tuple[str, tuple[str, ...]], ...] = ()
    adopted_runs: Mapping[str, str] = field(default_factory=dict)
    refused: Mapping[str, str] = field(default_factory=dict)
    open_intent: tuple[str, ...] | None = None
    file_ids: Mapping[str, str] = field(default_factory=dict)
    collected: bool = False
    attempt: int = 0
    retry_keys: tuple[str, ...] | None = None
    #: (keys, first unknown POST, last POST) of keys sent more than once: watched for a late
    #: duplicate; ``duplicates`` the extra runs found (key -> run ids)
    watch: tuple[tuple[tuple[str, ...], str, str], ...] = ()
    duplicates: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: keys an unknown-outcome POST may still have created a run for, none found yet (key ->
    #: the first such POST): reconciled again before a rerun sends them, watched after
    suspects: Mapping[str, str] = field(default_factory=dict)
    credits: float = 0.0
    documents: int = 0

    @property
    def attempts(self) -> int:
        """How many intents were recorded (submissions tried) for this chunk."""
        return sum(1 for r in self.records if r["state"] == INTENT)

    def covered(self) -> set[str]:
        """The keys the current attempt submitted (into a batch or a run) or had refused."""
        keys = {k for _, ks in self.batches for k in ks}
        keys.update(self.adopted_runs)
        keys.update(self.refused)
        return keys

    def get(self, key: str, default: Any = None) -> Any:
        """The latest value of ``key`` in any record's data (e.g. ``credits``, ``error``)."""
        for rec in reversed(self.records):
            if key in rec:
                return rec[key]
        return default


def empty_state(chunk: int = -1) -> ChunkState:
    """The state of a chunk without records."""
    return fold_chunk((), chunk=chunk)


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
    if state not in RECORD_STATES:
        raise StoreError(f"unknown ledger state {state!r}; use one of {', '.join(RECORD_STATES)}")
    if chunk < 0:
        raise StoreError(f"batch index must be >= 0, got {chunk}")
    clash = sorted(RESERVED & set(data))
    if clash:
        raise StoreError(
            f"ledger record fields {', '.join(clash)} are written by the store; rename them."
        )
    _check_secret_free(data)
    body = {**data, SEQ: seq, CHUNK: chunk, STATE: state, TIME: time}
    try:
        return json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise StoreError(
            f"ledger record for batch {chunk} ({state}) is not plain JSON: {exc}. "
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
        kind = type(exc).__name__
        _skip(f"unreadable ledger record {name} ({kind}); torn by a crash? Its batch is re-checked")
        return None
    if not ok:
        _skip(f"ledger record {name}: its content does not match its name")
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
            if not (isinstance(rec, dict) and rec.keys() >= RESERVED):
                raise ValueError("malformed record")
    except (ValueError, KeyError, TypeError, OSError) as exc:
        _skip(f"unreadable ledger snapshot {name} ({type(exc).__name__}); reading the records")
        return None
    return records


def fold(records: Iterable[dict[str, Any]]) -> dict[int, ChunkState]:
    """Per chunk, the state folded from ``records`` (any order; sorted by ``seq`` here)."""
    by_chunk: dict[int, list[dict[str, Any]]] = {}
    for rec in sorted(records, key=lambda r: int(r[SEQ])):
        by_chunk.setdefault(int(rec[CHUNK]), []).append(rec)
    return {chunk: fold_chunk(by_chunk[chunk], chunk=chunk) for chunk in sorted(by_chunk)}


def fold_chunk(records: Sequence[Mapping[str, Any]], *, chunk: int = -1) -> ChunkState:
    """One chunk's records, oldest first, folded into its :class:`ChunkState`."""
    now: dict[str, Any] = {"batches": (), "adopted_runs": {}, "refused": {}, "file_ids": {}}
    now |= {"open_intent": None, "intent_at": None, "collected": False, "attempt": 0}
    now |= {"retry_keys": None, "watch": (), "duplicates": {}, "credits": 0.0, "documents": 0}
    now |= {"suspects": {}}
    for rec in records:
        _FOLDS.get(str(rec.get(STATE)), _ignore)(now, rec, tuple(map(str, rec.get(KEYS) or ())))
    keys_seen = _latest(records, KEYS)
    return ChunkState(
        chunk=chunk,
        state=next((r[STATE] for r in reversed(records) if r[STATE] in STATES), INTENT),
        batch_id=_latest(records, BATCH_ID),
        row_keys=tuple(keys_seen) if isinstance(keys_seen, list | tuple) else None,
        records=tuple(dict(r) for r in records),
        **now,
    )


def _fold_intent(now: dict[str, Any], rec: Mapping[str, Any], keys: tuple[str, ...]) -> None:
    still = tuple(k for k in (now["open_intent"] or ()) if k not in keys)
    now |= {"open_intent": (*still, *keys), "intent_at": rec.get(AT) or rec.get(TIME)}
    now["file_ids"].update(rec.get(FILE_IDS) or {})


def _fold_submitted(now: dict[str, Any], rec: Mapping[str, Any], keys: tuple[str, ...]) -> None:
    if rec.get(BATCH_ID):
        now["batches"] = (*now["batches"], (str(rec[BATCH_ID]), keys))
    now["adopted_runs"].update(rec.get(RUN_IDS) or {})
    now["refused"].update(rec.get(REFUSED) or {})
    closed = set(keys) | set(rec.get(RUN_IDS) or {}) | set(rec.get(REFUSED) or {})
    still = tuple(k for k in (now["open_intent"] or ()) if k not in closed)
    now["open_intent"] = still or None
    since = rec.get(SUSPECT_SINCE)
    if since and not rec.get(BATCH_ID):  # closed without a run: still suspect
        for key in closed - set(rec.get(RUN_IDS) or {}) - set(rec.get(REFUSED) or {}):
            now["suspects"][key] = min(str(since), now["suspects"].get(key, str(since)))
    ran = set(rec.get(RUN_IDS) or {}) | (set(keys) if rec.get(BATCH_ID) else set())
    if since and rec.get(AT) and ran:  # runs kept after an earlier unknown POST: watched
        now["watch"] = (*now["watch"], (tuple(sorted(ran)), str(since), str(rec[AT])))


def _fold_duplicates(now: dict[str, Any], rec: Mapping[str, Any], keys: tuple[str, ...]) -> None:
    for key, ids in (rec.get(RUNS) or {}).items():
        old = now["duplicates"].get(str(key), ())
        now["duplicates"][str(key)] = (*old, *map(str, ids))


def _fold_collected(now: dict[str, Any], rec: Mapping[str, Any], keys: tuple[str, ...]) -> None:
    now["collected"] = True
    now["credits"] += float(rec.get(CREDITS) or 0.0)
    now["documents"] += int(rec.get(DOCUMENTS) or 0)


def _fold_retry(now: dict[str, Any], rec: Mapping[str, Any], keys: tuple[str, ...]) -> None:
    # a new attempt: earlier submissions are not collected again
    attempt = int(rec.get(ATTEMPT) or now["attempt"] + 1)
    now |= {"attempt": attempt, "retry_keys": keys, "adopted_runs": {}, "refused": {}}
    now |= {"batches": (), "open_intent": None, "collected": False, "watch": (), "suspects": {}}


def _ignore(now: dict[str, Any], rec: Mapping[str, Any], keys: tuple[str, ...]) -> None:
    """A record state this version does not fold (read by a newer library's ledger)."""


_FOLDS = {
    INTENT: _fold_intent,
    SUBMITTED: _fold_submitted,
    DUPLICATES: _fold_duplicates,
    COLLECTED: _fold_collected,
    RETRY: _fold_retry,
}


def _skip(what: str) -> None:
    """Warn that a torn or foreign ledger object is skipped (the caller's caller is named)."""
    warnings.warn(f"skipping {what}.", LedgerWarning, stacklevel=4)


def _latest(recs: Sequence[Mapping[str, Any]], key: str) -> Any:
    for rec in reversed(recs):
        value = rec.get(key)
        if value is not None:
            return value
    return None
