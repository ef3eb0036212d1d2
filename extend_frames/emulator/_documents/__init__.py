"""Document reading and processing for the emulator (pure functions, JSON dicts in and out).

``read_document`` turns bytes into a ``Document`` (or raises ``DocumentError`` with Extend's
``failureReason``); ``parse_output``, ``extract_output``, ``classify_output`` and
``split_output`` build the run outputs of docs/extend-api.md#run-outputs; ``credits_for`` prices a
run. All are pure
and thread-safe, so the server may call them from worker threads.
"""

from __future__ import annotations

import json
from typing import Any

from ._classify import classify_output, split_output
from ._extract import extract_output as _extract_uncached
from ._model import Document, DocumentError, Line, Page
from ._parse import parse_output
from ._read import _Memo, read_document

__all__ = [
    "Document",
    "DocumentError",
    "Line",
    "Page",
    "classify_output",
    "credits_for",
    "extract_output",
    "parse_output",
    "read_document",
    "split_output",
]

# Credits per page, as in Extend's examples: parse 1, extract 2, classify 1, split 1.
_PER_PAGE = {"parse": 1.0, "extract": 2.0, "classify": 1.0, "split": 1.0}


def credits_for(kind: str, doc: Document) -> float:
    """Credits a ``kind`` run ("parse", "extract", "classify", "split") costs on ``doc``."""
    return _PER_PAGE.get(kind.lower(), 1.0) * max(1, doc.page_count)


_EXTRACT_CACHE = _Memo(1024)


def extract_output(doc: Document, config: dict[str, Any], *, file_id: str | None) -> dict[str, Any]:
    """ExtractOutput ``{"value": ..., "metadata": ...}`` filling ``config["schema"]``.

    Memoised on the document's content digest and the config (extraction is deterministic);
    the file id only appears in citations, so it is stamped onto a copy of the cached answer.
    """
    if not doc.digest:
        return _extract_uncached(doc, config, file_id=file_id)
    key = (doc.digest, json.dumps(config, sort_keys=True, default=str))
    cached = _EXTRACT_CACHE.get(key)
    if cached is None:
        cached = json.dumps(_extract_uncached(doc, config, file_id=None))
        _EXTRACT_CACHE.put(key, cached)
    out: dict[str, Any] = json.loads(cached)
    if file_id:
        for entry in out["metadata"].values():
            if isinstance(entry, dict) and isinstance(entry.get("citations"), list):
                entry["citations"] = [{"fileId": file_id, **c} for c in entry["citations"]]
    return out
