"""Cursor pagination bound to its query (docs/extend-api.md#lists).

A token carries the query's fingerprint and the sort key of the last item served, so the next
page starts strictly after it (keyset paging: stable while new items arrive). A token reused
with different filters is refused with 400, as the spec asks.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, TypeVar

from ._errors import invalid

T = TypeVar("T")

MAX_PAGE = 1000
DEFAULT_PAGE = 10


def page_size(params: Mapping[str, str], *, names: Sequence[str] = ("maxPageSize",)) -> int:
    """The first present of ``names`` (1-1000, default 10); 400 on anything else."""
    for name in names:
        raw = params.get(name)
        if raw is None:
            continue
        try:
            size = int(raw)
        except ValueError:
            raise invalid(f"{name} must be an integer between 1 and {MAX_PAGE}") from None
        if not 1 <= size <= MAX_PAGE:
            raise invalid(f"{name} must be between 1 and {MAX_PAGE}; received {size}")
        return size
    return DEFAULT_PAGE


def choice(params: Mapping[str, str], name: str, allowed: Sequence[str], default: str) -> str:
    value = params.get(name, default)
    if value not in allowed:
        raise invalid(f"{name} must be one of {', '.join(allowed)}; received {value!r}")
    return value


def fingerprint(filters: Mapping[str, object]) -> str:
    canon = json.dumps(sorted((k, v) for k, v in filters.items() if v is not None))
    return hashlib.sha256(canon.encode()).hexdigest()[:16]


def _encode(sig: str, last: tuple[float, int]) -> str:
    raw = json.dumps([sig, last[0], last[1]], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode(token: str, sig: str) -> tuple[float, int]:
    try:
        got_sig, k0, k1 = json.loads(base64.urlsafe_b64decode(token.encode()))
        last = (float(k0), int(k1))
    except (ValueError, TypeError):
        raise invalid("nextPageToken is malformed; pass back the token a list returned") from None
    if got_sig != sig:
        raise invalid(
            "nextPageToken belongs to a different query; keep every filter and sort "
            "parameter identical across pages"
        )
    return last


def paginate(
    items: Sequence[T],
    key: Callable[[T], tuple[float, int]],
    *,
    descending: bool,
    filters: Mapping[str, object],
    token: str | None,
    size: int,
) -> tuple[list[T], str | None]:
    """One page of ``items`` ordered by ``key`` (ascending or descending), and the next token."""
    sig = fingerprint(filters)
    if descending:
        ordered = sorted(items, key=lambda it: _neg(key(it)))
        keys = [_neg(key(it)) for it in ordered]
    else:
        ordered = sorted(items, key=key)
        keys = [key(it) for it in ordered]
    start = bisect.bisect_right(keys, _decode(token, sig)) if token else 0
    page = ordered[start : start + size]
    more = start + size < len(ordered)
    return page, (_encode(sig, keys[start + size - 1]) if more else None)


def page_body(
    items: Sequence[T],
    key: Callable[[T], tuple[float, int]],
    serialise: Callable[[T], bytes],
    params: Mapping[str, str],
    *,
    filters: Mapping[str, object],
    null_token: bool,
    descending: bool | None = None,
    size: int | None = None,
) -> bytes:
    """The list body of the page of ``items`` that the query's ``nextPageToken`` asks for:
    ``size`` items (by default the query's ``maxPageSize``), in the ``descending`` order (by
    default the query's ``sortDir``, newest first, which then joins the ``filters``)."""
    if descending is None:
        sort_dir = choice(params, "sortDir", ("asc", "desc"), "desc")
        filters = {**filters, "sortDir": sort_dir}
        descending = sort_dir == "desc"
    page, token = paginate(
        items,
        key,
        descending=descending,
        filters=filters,
        token=params.get("nextPageToken"),
        size=page_size(params) if size is None else size,
    )
    return list_body([serialise(it) for it in page], token, null_token=null_token)


class _Timed(Protocol):
    @property
    def created_at(self) -> float: ...
    @property
    def updated_at(self) -> float: ...
    @property
    def seq(self) -> int: ...


def time_key(sort_by: str) -> Callable[[_Timed], tuple[float, int]]:
    """The sort key of ``sortBy`` (``createdAt`` or ``updatedAt``), ties in creation order."""
    if sort_by == "createdAt":
        return lambda r: (r.created_at, r.seq)
    return lambda r: (r.updated_at, r.seq)


def _neg(k: tuple[float, int]) -> tuple[float, int]:
    return (-k[0], -k[1])


def list_body(items: Sequence[bytes], next_token: str | None, *, null_token: bool = False) -> bytes:
    """``{"object":"list","data":[...],"nextPageToken":...}`` from pre-serialised items.

    The last page omits ``nextPageToken`` (the TypeScript SDK types it optional, not nullable,
    and the docs' examples leave it out); ``null_token=True`` sends ``null`` instead.
    """
    head = b'{"object":"list","data":[' + b",".join(items) + b"]"
    if next_token is None:
        return head + (b',"nextPageToken":null}' if null_token else b"}")
    return head + b',"nextPageToken":' + json.dumps(next_token).encode() + b"}"
