"""The document model shared by reading, parsing, extraction and classification.

A ``Document`` is what ``read_document`` makes of raw bytes: pages of text lines, each line
split into the cells a reader would see (PDF text runs, table cells, ``label: value`` pairs),
with top-left-origin geometry in points so outputs can carry polygons and citations.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any


class DocumentError(Exception):
    """A document cannot be processed; ``reason`` is Extend's ``failureReason``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class Line:
    """One visual line: its cells (left to right), box (points, origin top-left), font size."""

    cells: tuple[str, ...]
    left: float
    top: float
    right: float
    bottom: float
    size: float = 10.0
    heading: bool = False  # marked as a heading by the source format (markdown '#', <h1>)
    xs: tuple[float, ...] = ()  # left edge of each cell (PDF text runs), for column alignment
    tabular: bool = False  # a row of a table in the source format (CSV, markdown pipe table)
    row: int = 0  # the 1-based row of a spreadsheet (CSV, XLSX) the line is; 0 elsewhere
    sheet: int = 0  # the 0-based sheet of that row (Document.sheets names it)

    @property
    def text(self) -> str:
        return " ".join(c for c in self.cells if c)


@dataclass(frozen=True, slots=True)
class Page:
    number: int
    text: str
    width: float = 612.0
    height: float = 792.0
    lines: tuple[Line, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Document:
    name: str
    file_type: str  # Extend FileType: PDF, TXT, CSV, HTML, ...
    pages: tuple[Page, ...]
    # Content identity (sha256 of the bytes and read options) set by read_document; the
    # processing caches key on it. Empty for documents built by hand: those are not cached.
    digest: str = field(default="", compare=False, repr=False)
    # A spreadsheet's sheet names in workbook order (a CSV: one, named after the file).
    sheets: tuple[str, ...] = ()

    @property
    def page_count(self) -> int:
        return len(self.pages)

    @property
    def text(self) -> str:
        return "\n\n".join(p.text for p in self.pages)


def select_pages(doc: Document, config: dict[str, Any] | None) -> Document:
    """``doc`` restricted to ``config.advancedOptions.pageRanges`` (1-based, inclusive).

    Pages keep their numbers, so outputs still cite the original page. No ranges, or ranges
    that select nothing, leave the document whole.
    """
    ranges = ((config or {}).get("advancedOptions") or {}).get("pageRanges") or []
    wanted: set[int] = set()
    for item in ranges:
        if isinstance(item, dict):
            start = int(item.get("start") or 1)
            end = int(item.get("end") or doc.page_count)
            wanted.update(range(start, end + 1))
    pages = tuple(p for p in doc.pages if p.number in wanted)
    if not pages:
        return doc
    return replace(doc, pages=pages, digest="")  # a part: no cache identity of its own
