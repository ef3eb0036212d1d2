"""Parse output (docs/extend-api.md#run-outputs): chunks of blocks with ids, polygons and page
metadata.

Block ids are a deterministic hash of the block (page, position, type, content), as the SDK
documents. ``config.chunkingStrategy.type`` picks one chunk per page (default), one for the
whole document, or one per section (a heading starts a section).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from ._layout import Block, block_content, page_blocks
from ._model import Document, Line, select_pages

_BLOCK_TYPES = {"heading", "text", "key_value", "table", "page_number"}


def block_id(page: int, index: int, kind: str, content: str) -> str:
    digest = hashlib.sha256(f"{page}\x00{index}\x00{kind}\x00{content}".encode()).digest()
    return "block_" + base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def polygon(
    lines: tuple[Line, ...] | list[Line],
) -> tuple[list[dict[str, float]], dict[str, float]]:
    left = min(ln.left for ln in lines)
    top = min(ln.top for ln in lines)
    right = max(ln.right for ln in lines)
    bottom = max(ln.bottom for ln in lines)
    points = [
        {"x": left, "y": top},
        {"x": right, "y": top},
        {"x": right, "y": bottom},
        {"x": left, "y": bottom},
    ]
    return points, {"left": left, "top": top, "right": right, "bottom": bottom}


def _details(block: Block) -> dict[str, Any]:
    if block.type == "table":
        return {
            "type": "table_details",
            "rowCount": len(block.rows),
            "columnCount": max(len(r) for r in block.rows),
        }
    if block.type == "key_value":
        return {"type": "key_value_details"}
    if block.type in ("heading", "text"):
        return {"type": "text_details"}
    return {}


def column_name(index: int) -> str:
    """A spreadsheet column's letters from its 0-based index: 0 -> A, 26 -> AA."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


def cell_range(lines: tuple[Line, ...]) -> str | None:
    """The A1 range of the non-empty spreadsheet cells of ``lines`` (``B2``, ``A1:C1``)."""
    cells = [(ln.row, c) for ln in lines if ln.row for c, text in enumerate(ln.cells) if text]
    if not cells:
        return None
    rows = [r for r, _ in cells]
    cols = [c for _, c in cells]
    first = f"{column_name(min(cols))}{min(rows)}"
    last = f"{column_name(max(cols))}{max(rows)}"
    return first if first == last else f"{first}:{last}"


@dataclass(frozen=True, slots=True)
class _Sheets:
    """How blocks of a spreadsheet are marked: the sheet names (a block's sheet is its lines'),
    and whether text blocks name their cells (``advancedOptions.excelIncludeCellMetadata``)."""

    names: tuple[str, ...]
    cell_references: bool

    def of(self, block: Block) -> dict[str, Any]:
        index = block.lines[0].sheet if block.lines else 0
        return {"index": index, "name": self.names[index]}


def _sheets(doc: Document, config: dict[str, Any]) -> _Sheets | None:
    """Spreadsheets (a CSV is one sheet named after the file, as spreadsheet programs open
    it; an XLSX has its workbook's sheets); other documents have no sheets."""
    if doc.file_type not in SPREADSHEET_TYPES or not doc.sheets:
        return None
    options = (config or {}).get("advancedOptions") or {}
    return _Sheets(doc.sheets, options.get("excelIncludeCellMetadata") is True)


def _block_json(
    block: Block, index: int, page: dict[str, Any], table_format: str, sheets: _Sheets | None
) -> dict[str, Any]:
    content = block_content(block, table_format=table_format)
    points, box = polygon(block.lines)
    details = _details(block)
    metadata: dict[str, Any] = {"page": page}
    if sheets is not None:
        metadata["sheet"] = sheets.of(block)
        reference = cell_range(block.lines)
        if sheets.cell_references and details.get("type") == "text_details" and reference:
            details["cellReference"] = reference
    return {
        "object": "block",
        "id": block_id(block.page, index, block.type, content),
        "type": block.type,
        "content": content,
        "details": details,
        "metadata": metadata,
        "polygon": points,
        "boundingBox": box,
    }


def _chunk(kind: str, blocks: list[dict[str, Any]], start: int, end: int) -> dict[str, Any]:
    return {
        "object": "chunk",
        "type": kind,
        "content": "\n\n".join(b["content"] for b in blocks),
        "metadata": {
            "pageRange": {"start": start, "end": end},
            # Text layers are exact (no OCR), so no word confidence exists: null, as Extend does.
            "minOcrConfidence": None,
            "avgOcrConfidence": None,
        },
        "blocks": blocks,
    }


SPREADSHEET_TYPES = {"CSV", "EXCEL"}  # EXCEL: .xlsx/.xlsm (legacy .xls is not read)
MIME_TYPES = {
    "EXCEL": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "PDF": "application/pdf",
    "TXT": "text/plain",
    "CSV": "text/csv",
    "HTML": "text/html",
    "XML": "application/xml",
}


def parse_output(doc: Document, config: dict[str, Any]) -> dict[str, Any]:
    """ParseRunOutput ``{"chunks": [...], "metadata": {...}, "ocr"?: {"lines": [...]}}``.

    ``metadata`` (SDK 1.20) gives the media type (no conversion happens, so original and final
    agree) and, for PDFs, each page's size with ``rotationApplied: 0`` and ``dpi: 72`` (block
    coordinates are in points). ``ocr.lines`` only when ``advancedOptions.returnOcr.lines``.
    """
    out = _chunked(doc, config)
    doc = select_pages(doc, config)
    mime = MIME_TYPES.get(doc.file_type, "application/octet-stream")
    meta: dict[str, Any] = {"originalMimeType": mime, "finalMimeType": mime}
    if doc.file_type == "PDF":
        meta["pages"] = [
            {
                "number": p.number,
                "rotationApplied": 0,
                "originalPageWidth": p.width,
                "originalPageHeight": p.height,
                "dpi": 72.0,
            }
            for p in doc.pages
        ]
    out["metadata"] = meta
    options = ((config or {}).get("advancedOptions") or {}).get("returnOcr") or {}
    if options.get("lines"):
        out["ocr"] = {"lines": _ocr_lines(doc, config)}
    return out


def _ocr_lines(doc: Document, config: dict[str, Any]) -> list[dict[str, Any]]:
    """Every text line with its box and the id of the block it belongs to."""
    tables = (((config or {}).get("blockOptions") or {}).get("tables") or {}).get("targetFormat")
    table_format = "html" if tables == "html" else "markdown"
    lines = []
    for page in doc.pages:
        for i, block in enumerate(page_blocks(page)):
            bid = block_id(
                block.page, i, block.type, block_content(block, table_format=table_format)
            )
            for ln in block.lines:
                _, box = polygon([ln])
                lines.append(
                    {
                        "content": ln.text,
                        "boundingBox": box,
                        "pageNumber": page.number,
                        "blockId": bid,
                    }
                )
    return lines


def _chunked(doc: Document, config: dict[str, Any]) -> dict[str, Any]:
    strategy = ((config or {}).get("chunkingStrategy") or {}).get("type") or "page"
    tables = (((config or {}).get("blockOptions") or {}).get("tables") or {}).get("targetFormat")
    table_format = "html" if tables == "html" else "markdown"
    doc = select_pages(doc, config)
    sheets = _sheets(doc, config)
    per_page: list[tuple[int, list[dict[str, Any]]]] = []
    for page in doc.pages:
        meta = {"number": page.number, "width": page.width, "height": page.height}
        blocks = [
            _block_json(b, i, meta, table_format, sheets) for i, b in enumerate(page_blocks(page))
        ]
        per_page.append((page.number, blocks))
    first = doc.pages[0].number if doc.pages else 1
    last = doc.pages[-1].number if doc.pages else 1
    if strategy == "document":
        everything = [b for _, blocks in per_page for b in blocks]
        return {"chunks": [_chunk("document", everything, first, last)]}
    if strategy == "section":
        return {"chunks": _sections(per_page, config)}
    return {"chunks": [_chunk("page", blocks, n, n) for n, blocks in per_page]}


def _sections(
    per_page: list[tuple[int, list[dict[str, Any]]]], config: dict[str, Any]
) -> list[dict[str, Any]]:
    """A new chunk at every heading; chunks under ``options.minCharacters`` merge forward."""
    options = ((config or {}).get("chunkingStrategy") or {}).get("options") or {}
    min_chars = int(options.get("minCharacters") or 0)
    max_chars = int(options.get("maxCharacters") or 0)
    groups: list[list[tuple[int, dict[str, Any]]]] = [[]]
    size = 0
    for number, blocks in per_page:
        for block in blocks:
            current = groups[-1]
            starts = block["type"] == "heading" and size >= min_chars
            too_big = max_chars and size + len(block["content"]) > max_chars
            if current and (starts or too_big):
                groups.append([])
                size = 0
            groups[-1].append((number, block))
            size += len(block["content"])
    chunks = []
    for group in groups:
        if group:
            pages = [n for n, _ in group]
            chunks.append(_chunk("section", [b for _, b in group], min(pages), max(pages)))
    if not chunks:
        chunks.append(_chunk("section", [], 1, 1))
    return chunks
