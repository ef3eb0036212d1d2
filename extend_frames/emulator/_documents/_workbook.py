"""Excel workbooks (.xlsx, .xlsm) -> sheets of cell text, with the standard library only.

A workbook is a ZIP of XML parts: ``xl/workbook.xml`` lists the sheets in order (name and
relationship id), ``xl/_rels/workbook.xml.rels`` maps each id to its part, ``xl/sharedStrings.xml``
holds the strings cells point to. Cells read as stored: shared, inline and formula strings,
booleans as TRUE/FALSE, numbers as written (no number formats applied, as with
``excelUseRawCellValues``). Legacy ``.xls`` (binary) is not read.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from xml.etree import ElementTree

from ._model import DocumentError

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CELL = re.compile(r"([A-Z]+)(\d+)")
_MAX_PART = 64 * 2**20  # uncompressed bytes of one XML part (a ZIP bomb stops here)

Sheet = tuple[str, list[list[str]]]  # (name, rows of cell text; row i is spreadsheet row i+1)


def is_workbook(data: bytes) -> bool:
    """A ZIP holding ``xl/workbook.xml`` (an Office Open XML spreadsheet)."""
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return "xl/workbook.xml" in zf.namelist()
    except zipfile.BadZipFile:
        return False


def read_workbook(data: bytes, name: str) -> list[Sheet]:
    """Every sheet of the workbook, in workbook order."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            strings = _shared_strings(zf)
            return [(title, _rows(zf, part, strings)) for title, part in _sheet_parts(zf)]
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError) as exc:
        raise DocumentError("CORRUPT_FILE", f"{name} is not a readable workbook ({exc}).") from exc


def _part(zf: zipfile.ZipFile, name: str) -> ElementTree.Element:
    """One XML part, parsed. Workbook parts never declare a DTD, so one is refused (no entity
    can expand); a part over ``_MAX_PART`` bytes uncompressed is refused before it is read."""
    if zf.getinfo(name).file_size > _MAX_PART:
        raise DocumentError("FILE_SIZE_TOO_LARGE", f"the workbook part {name} is too large.")
    data = zf.read(name)
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise DocumentError("CORRUPT_FILE", f"the workbook part {name} declares a DTD.")
    return ElementTree.fromstring(data)  # noqa: S314 (no DTD, bounded size: see above)


def _sheet_parts(zf: zipfile.ZipFile) -> list[tuple[str, str]]:
    rels = _part(zf, "xl/_rels/workbook.xml.rels")
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_PKG}Relationship")}
    book = _part(zf, "xl/workbook.xml")
    out: list[tuple[str, str]] = []
    for sheet in book.iter(f"{_MAIN}sheet"):
        target = targets[sheet.get(f"{_REL}id")]
        part = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
        out.append((sheet.get("name", f"Sheet{len(out) + 1}"), posixpath.normpath(part)))
    return out


def _text(node: ElementTree.Element) -> str:
    """The text of a string item: its ``t`` elements, rich-text runs included."""
    return "".join(t.text or "" for t in node.iter(f"{_MAIN}t"))


def _shared_strings(zf: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in zf.namelist():
        return []
    root = _part(zf, "xl/sharedStrings.xml")
    return [_text(si) for si in root.iter(f"{_MAIN}si")]


def _column(letters: str) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - ord("A") + 1
    return index - 1


def _value(cell: ElementTree.Element, strings: list[str]) -> str:
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        inline = cell.find(f"{_MAIN}is")
        return _text(inline) if inline is not None else ""
    raw = cell.findtext(f"{_MAIN}v") or ""
    if kind == "s" and raw.isdigit() and int(raw) < len(strings):
        return strings[int(raw)]
    if kind == "b":
        return "TRUE" if raw == "1" else "FALSE"
    return raw


def _rows(zf: zipfile.ZipFile, part: str, strings: list[str]) -> list[list[str]]:
    """The sheet as rows of cell text; missing rows and cells are empty strings."""
    cells: dict[tuple[int, int], str] = {}
    root = _part(zf, part)
    for cell in root.iter(f"{_MAIN}c"):
        match = _CELL.fullmatch(cell.get("r", ""))
        if match:
            text = _value(cell, strings).strip()
            if text:
                cells[(int(match.group(2)) - 1, _column(match.group(1)))] = text
    if not cells:
        return []
    height = max(r for r, _ in cells) + 1
    width = max(c for _, c in cells) + 1
    return [[cells.get((r, c), "") for c in range(width)] for r in range(height)]
