"""Document reading and processing for the emulator (pure functions, JSON dicts in and out).

``read_document`` turns bytes into a ``Document`` (or raises ``DocumentError`` with Extend's
``failureReason``); ``parse_output``, ``extract_output``, ``classify_output`` and
``split_output`` build the run outputs of SPEC §6; ``credits_for`` prices a run. All are pure
and thread-safe, so the server may call them from worker threads.
"""

from __future__ import annotations

from ._classify import classify_output, split_output
from ._extract import extract_output
from ._model import Document, DocumentError, Line, Page
from ._parse import parse_output
from ._read import read_document

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
