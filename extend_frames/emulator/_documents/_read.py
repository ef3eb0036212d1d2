"""Bytes -> Document: file-type detection, PDF text with geometry (pypdf), text formats.

The file type is decided by magic bytes first and the name second, like a real ingestion
pipeline: a ``.pdf`` that is not a PDF is corrupt, a ZIP or an executable is unsupported
whatever its name. Failures raise ``DocumentError`` with Extend's ``failureReason`` values.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import re
import textwrap
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import replace
from pathlib import PurePosixPath
from typing import Any

from ._model import Document, DocumentError, Line, Page
from ._text import split_identifier
from ._workbook import is_workbook, read_workbook

_TEXT_TYPES = {
    ".txt": "TXT",
    ".md": "TXT",
    ".markdown": "TXT",
    ".text": "TXT",
    ".log": "TXT",
    ".lis": "TXT",
    ".rtf": "TXT",
    ".csv": "CSV",
    ".html": "HTML",
    ".htm": "HTML",
    ".xml": "XML",
}
# Types Extend accepts but this emulator cannot read (no OCR, no Office conversion).
_KNOWN_UNREADABLE = {
    ".png",
    ".jpg",
    ".jpeg",
    ".tiff",
    ".tif",
    ".svg",
    ".heic",
    ".heif",
    ".bmp",
    ".gif",
    ".webp",
    ".psd",
    ".xls",
    ".xltm",
    ".xltx",
    ".ods",
    ".docx",
    ".doc",
    ".wpd",
    ".dotx",
    ".odt",
    ".pptx",
    ".ppt",
    ".ppm",
    ".eml",
    ".pcx",
}
_BINARY_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive (or an Office file)"),
    (b"MZ", "a Windows executable"),
    (b"\x7fELF", "an ELF executable"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7z archive"),
)
_TEXT_PAGE_CHARS = 3000
_LINE_HEIGHT = 14.0
_MARGIN = 72.0
_CHAR_WIDTH = 5.0


def _suffix(name: str) -> str:
    base = name.rsplit("/", 1)[-1]
    return "." + base.rsplit(".", 1)[-1].lower() if "." in base else ""


def read_document(
    data: bytes,
    name: str,
    *,
    password: str | None = None,
    max_pages: int = 500,
    max_bytes: int = 100 * 2**20,
) -> Document:
    """Read ``data`` (a file called ``name``) into pages of lines, or raise DocumentError.

    Identical bytes read with identical options give the same document, so results are
    memoised by content digest (bounded): a bulk job sending the same file under many URLs
    costs one read. Outcomes are deterministic, so the cache cannot change an answer.
    """
    digest = hashlib.sha256(data).hexdigest()
    key = (digest, _suffix(name), password, max_pages, max_bytes)
    hit = _READ_CACHE.get(key)
    if hit is None:
        try:
            doc = _read_uncached(
                data, name, password=password, max_pages=max_pages, max_bytes=max_bytes
            )
        except DocumentError as exc:
            _READ_CACHE.put(key, (exc.reason, exc.message.replace(name, "\0")))
            raise
        hit = replace(doc, name="\0", digest=f"{digest}:{password or ''}:{max_pages}")
        _READ_CACHE.put(key, hit)
    if isinstance(hit, tuple):
        raise DocumentError(hit[0], hit[1].replace("\0", name))
    cached: Document = hit
    return replace(cached, name=name)


class _Memo:
    """A small thread-safe LRU map (the emulator processes runs on worker threads)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


_READ_CACHE = _Memo(512)


def _read_uncached(
    data: bytes,
    name: str,
    *,
    password: str | None,
    max_pages: int,
    max_bytes: int,
) -> Document:
    if len(data) > max_bytes:
        raise DocumentError(
            "FILE_SIZE_TOO_LARGE",
            f"{name} is {len(data)} bytes, over the {max_bytes}-byte limit; split the file.",
        )
    if not data.strip():
        raise DocumentError("CORRUPT_FILE", f"{name} is empty; upload the file again.")
    suffix = _suffix(name)
    if b"%PDF-" in data[:1024]:
        pages = _read_pdf(data, name, password=password, max_pages=max_pages)
        return Document(name=name, file_type="PDF", pages=pages)
    if is_workbook(data):
        sheets = read_workbook(data, name)
        lines = [_sheet_lines(rows, i) for i, (_, rows) in enumerate(sheets)]
        pages = _text_pages(lines, max_pages, name)
        return Document(name, "EXCEL", pages, sheets=tuple(title for title, _ in sheets))
    for magic, what in _BINARY_MAGIC:
        if data.startswith(magic):
            raise DocumentError(
                "FILE_TYPE_NOT_SUPPORTED",
                f"{name} is {what}, which the emulator cannot process; send a PDF or a text file.",
            )
    if suffix == ".pdf":
        raise DocumentError("CORRUPT_FILE", f"{name} is named .pdf but is not a PDF file.")
    if suffix in _KNOWN_UNREADABLE or (suffix and suffix not in _TEXT_TYPES):
        raise DocumentError(
            "FILE_TYPE_NOT_SUPPORTED",
            f"{name}: '{suffix}' files are not supported by the emulator; "
            "send a PDF, TXT, MD, HTML, CSV or XLSX file.",
        )
    text = _decode(data, name)
    file_type = _TEXT_TYPES.get(suffix, "TXT")
    if file_type == "HTML" or (
        not suffix and text.lstrip()[:15].lower().startswith("<!doctype html")
    ):
        pages = _text_pages(_html_lines(text), max_pages, name)
        return Document(name=name, file_type="HTML", pages=pages)
    if file_type == "XML":  # leaf elements as "tag: text" lines, so tags act as labels
        leaves = re.sub(
            r"<([A-Za-z_][\w.-]*)[^>/]*>([^<>]*\S[^<>]*)</\1\s*>",
            lambda m: f"\n{split_identifier(m.group(1))}: {m.group(2).strip()}\n",
            text,
        )
        pages = _text_pages(_html_lines(leaves), max_pages, name)
        return Document(name=name, file_type="XML", pages=pages)
    if file_type == "CSV":
        pages = _text_pages([_sheet_lines(_csv_rows(text, name), 0)], max_pages, name)
        stem = PurePosixPath(name).stem or name
        return Document(name=name, file_type="CSV", pages=pages, sheets=(stem,))
    return Document(
        name=name, file_type=file_type, pages=_text_pages(_plain_lines(text), max_pages, name)
    )


def _decode(data: bytes, name: str) -> str:
    if b"\x00" in data[:4096]:
        raise DocumentError("CORRUPT_FILE", f"{name} contains binary data, not text.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise DocumentError(
                "CORRUPT_FILE", f"{name} is not valid UTF-8 or Windows-1252 text."
            ) from exc


# ---------------------------------------------------------------- PDF


def _read_pdf(data: bytes, name: str, *, password: str | None, max_pages: int) -> tuple[Page, ...]:
    import pypdf  # the emulator extra

    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        # A PDF with only an owner password opens with the empty user password.
        if reader.is_encrypted and not reader.decrypt(""):
            if password is None:
                raise DocumentError(
                    "PASSWORD_PROTECTED_FILE",
                    f"{name} is password-protected; give its password "
                    "(file.settings.password, or 'password' on upload).",
                )
            if not reader.decrypt(password):
                raise DocumentError(
                    "PASSWORD_PROTECTED_FILE",
                    f"{name} is password-protected and the password given does not open it.",
                )
        count = len(reader.pages)
    except DocumentError:
        raise
    except Exception as exc:  # pypdf raises many types on damaged files
        raise DocumentError(
            "CORRUPT_FILE", f"{name} is not a readable PDF ({type(exc).__name__})."
        ) from exc
    if count == 0:
        raise DocumentError("CORRUPT_FILE", f"{name} has no pages.")
    if count > max_pages:
        raise DocumentError(
            "FILE_SIZE_TOO_LARGE", f"{name} has {count} pages, over the {max_pages}-page limit."
        )
    pages = []
    for index in range(count):
        try:
            pdf_page = reader.pages[index]
            box = pdf_page.mediabox
            width, height = float(box.width), float(box.height)
            fragments: list[tuple[float, float, float, str]] = []

            def visit(
                text: str,
                cm: list[float],
                tm: list[float],
                font: object,
                size: float,
                out: list[tuple[float, float, float, str]] = fragments,
            ) -> None:
                if text.strip():
                    x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                    y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                    scale = abs(tm[3] * cm[3]) or 1.0
                    out.append((x, y, size * scale, text))

            plain = pdf_page.extract_text(visitor_text=visit)
        except Exception as exc:  # damaged content streams raise many pypdf and builtin types
            raise DocumentError(
                "CORRUPT_FILE", f"{name}: page {index + 1} cannot be read ({type(exc).__name__})."
            ) from exc
        lines = _pdf_lines(fragments, height) if fragments else _placed(plain.splitlines(), width)
        pages.append(_page(index + 1, lines, width, height))
    return tuple(pages)


def _pdf_lines(fragments: list[tuple[float, float, float, str]], height: float) -> list[Line]:
    """Group text runs into visual lines by baseline; each run becomes a cell."""
    rows: dict[int, list[tuple[float, float, str]]] = {}
    for x, y, size, text in fragments:
        for part in text.split("\n"):
            if part.strip():
                rows.setdefault(round(y / 2), []).append((x, size, part.strip()))
    lines = []
    for key in sorted(rows, reverse=True):
        runs = _phrases(sorted(rows[key]))
        size = max(r[1] for r in runs)
        baseline = height - key * 2
        cells = tuple(r[2] for r in runs)
        left = runs[0][0]
        right = max(r[0] + len(r[2]) * size * 0.5 for r in runs)
        lines.append(
            Line(
                cells,
                round(left, 2),
                round(baseline - size, 2),
                round(right, 2),
                round(baseline + size * 0.25, 2),
                size,
                xs=tuple(round(r[0], 2) for r in runs),
            )
        )
    return lines


def _phrases(runs: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """Join runs a word space apart: PDF writers often emit one run per word ("Invoice"
    "Number:" "INV-1"), and a reader sees the phrase; a wider gap separates cells."""
    out: list[tuple[float, float, str]] = []
    for x, size, text in runs:
        if out:
            px, psize, ptext = out[-1]
            end = px + len(ptext) * psize * 0.5  # the width estimate used for boxes
            if x - end <= 0.9 * min(size, psize):
                out[-1] = (px, max(size, psize), f"{ptext} {text}")
                continue
        out.append((x, size, text))
    return out


def _placed(texts: list[str], width: float) -> list[Line]:
    """Lines without positions (text the visitor did not report) on a simple grid."""
    out = []
    for i, text in enumerate(t.strip() for t in texts):
        if text:
            top = _MARGIN + i * _LINE_HEIGHT
            right = min(width - _MARGIN, _MARGIN + len(text) * _CHAR_WIDTH)
            out.append(Line((text,), _MARGIN, top, right, top + 12.0))
    return out


# ---------------------------------------------------------------- text formats


class _TableRow(tuple[str, ...]):
    """Cells of a row the source marks as a table row (CSV, markdown pipes)."""

    __slots__ = ()


def _synthetic_lines(rows: Iterable[tuple[str, ...] | str]) -> list[Line]:
    """Lay text rows out on a page grid (text formats have no geometry of their own)."""
    lines = []
    for row in rows:
        tabular = isinstance(row, _TableRow)
        cells = (row,) if isinstance(row, str) else row
        # Interior empty cells are structure (an empty table column); blank rows are breaks.
        cells = tuple(c.strip() for c in cells) if any(c.strip() for c in cells) else ()
        heading = False
        size = 10.0
        if len(cells) == 1 and re.match(r"#{1,6} ", cells[0]):
            level = len(cells[0]) - len(cells[0].lstrip("#"))
            heading, size = True, max(12.0, 20.0 - 2.5 * level)
            cells = (cells[0].lstrip("#").strip(),)
        if not cells:
            lines.append(Line((), 0, 0, 0, 0))  # keeps paragraph breaks
            continue
        lines.append(Line(cells, 0, 0, 0, 0, size, heading, tabular=tabular))
    return lines


def _plain_lines(text: str) -> list[list[Line]]:
    pages: list[list[Line]] = []
    for part in text.split("\f"):
        rows: list[tuple[str, ...]] = []
        for raw in part.splitlines():
            stripped = raw.strip()
            if stripped.startswith("|") and stripped.endswith("|"):
                if re.fullmatch(r"\|[\s:|-]+\|", stripped):
                    continue  # markdown table separator row
                rows.append(_TableRow(c.strip() for c in stripped.strip("|").split("|")))
            elif len(stripped) > 300:
                # A long paragraph: wrap it so pages and line boxes stay page-sized.
                rows.extend((part,) for part in textwrap.wrap(stripped, 100))
            else:
                rows.append(tuple(re.split(r"\t+| {2,}", stripped)))
        pages.append(_synthetic_lines(rows))
    return pages


def _csv_rows(text: str, name: str) -> list[list[str]]:
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise DocumentError("CORRUPT_FILE", f"{name} is not valid CSV ({exc}).") from exc


def _sheet_lines(raw: list[list[str]], sheet: int) -> list[Line]:
    """One line per spreadsheet row, marked with its row and sheet. A value standing alone
    between blank rows (a title such as "Bank statement" above a table) is text; every other
    row is a table row."""

    def filled(i: int) -> int:
        return sum(1 for c in raw[i] if c.strip()) if 0 <= i < len(raw) else 0

    rows: list[tuple[str, ...]] = []
    for i, row in enumerate(raw):
        if filled(i) == 1 and not filled(i - 1) and not filled(i + 1):
            # cut the empty cells after the value; the ones before keep its column
            rows.append(tuple(row[: max(j for j, c in enumerate(row) if c.strip()) + 1]))
        else:
            rows.append(_TableRow(row))
    # every row (blank ones too) makes one line, so a line's position is its row
    return [replace(ln, row=i, sheet=sheet) for i, ln in enumerate(_synthetic_lines(rows), 1)]


_BLOCK_TAGS = re.compile(
    r"<\s*/?\s*(p|div|br|tr|li|ul|ol|table|section|article|header|footer|h[1-6])\b[^>]*>", re.I
)
_CELL_TAGS = re.compile(r"<\s*/\s*t[dh]\s*>", re.I)


def _html_lines(text: str) -> list[list[Line]]:
    text = re.sub(r"<(script|style|head)\b.*?</\1\s*>", " ", text, flags=re.I | re.S)
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    text = re.sub(
        r"<\s*h([1-3])\b[^>]*>", lambda m: "\n" + "#" * int(m.group(1)) + " ", text, flags=re.I
    )
    text = re.sub(r"<\s*hr\b[^>]*class=[\"']?page-break[^>]*>", "\f", text, flags=re.I)
    text = _CELL_TAGS.sub("\t", text)
    text = _BLOCK_TAGS.sub("\n", text)
    text = re.sub(r"<[^>]+>", " ", text)
    text = html.unescape(text)
    text = "\n".join(re.sub(r"[ \u00a0]+", " ", ln).strip(" ") for ln in text.splitlines())
    return _plain_lines(text)


def _text_pages(pages: list[list[Line]], max_pages: int, name: str) -> tuple[Page, ...]:
    """Lay out synthetic lines; split long pages at ~3,000 characters on line boundaries."""
    split: list[list[Line]] = []
    for lines in pages:
        current: list[Line] = []
        size = 0
        for line in lines:
            if current and size + len(line.text) > _TEXT_PAGE_CHARS:
                split.append(current)
                current, size = [], 0
            current.append(line)
            size += len(line.text) + 1
        split.append(current)
    split = [p for p in split if any(ln.cells for ln in p)] or [[]]
    if len(split) > max_pages:
        raise DocumentError(
            "FILE_SIZE_TOO_LARGE",
            f"{name} has {len(split)} pages, over the {max_pages}-page limit.",
        )
    out = []
    for number, lines in enumerate(split, start=1):
        placed = []
        top = _MARGIN
        for line in lines:
            if not line.cells:
                top += _LINE_HEIGHT
                continue
            height = line.size * 1.2
            width = min(612.0 - 2 * _MARGIN, len(line.text) * _CHAR_WIDTH * line.size / 10)
            placed.append(
                Line(
                    line.cells,
                    _MARGIN,
                    round(top, 2),
                    round(_MARGIN + width, 2),
                    round(top + height, 2),
                    line.size,
                    line.heading,
                    tabular=line.tabular,
                    row=line.row,
                    sheet=line.sheet,
                )
            )
            top += max(height, _LINE_HEIGHT)
        out.append(_page(number, placed, 612.0, max(792.0, top + _MARGIN)))
    return tuple(out)


def _page(number: int, lines: list[Line], width: float, height: float) -> Page:
    lines = [ln for ln in lines if ln.cells]
    return Page(number, "\n".join(ln.text for ln in lines), width, height, tuple(lines))
