"""Render a simple page description to PDF (fpdf2) or to TXT / Markdown / HTML.

A document is a list of pages; a page is a list of elements:
``("title", text, size)``, ``("heading", text)``, ``("row", cells, widths, aligns)``,
``("kv", label, value)``, ``("table", header, rows, widths, aligns)``, ``("para", text)``,
``("gap", points)``. PDF output is byte-identical for identical input (fixed dates and ids).
"""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

Element = tuple[Any, ...]
_EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
_FILE_ID = "<" + "0F" * 16 + "><" + "0F" * 16 + ">"


def to_pdf(
    pages: list[list[Element]], *, font: str = "Helvetica", password: str | None = None
) -> bytes:
    from fpdf import FPDF  # the emulator extra

    pdf = FPDF(unit="pt", format="letter")
    pdf.set_creation_date(_EPOCH)
    pdf.set_auto_page_break(False)
    pdf.set_margins(54, 54, 54)
    pdf.file_id = lambda: _FILE_ID  # type: ignore[method-assign]  # fixed id: reproducible bytes
    if password is not None:
        pdf.set_encryption(owner_password="owner-" + password, user_password=password)
    for elements in pages:
        pdf.add_page()
        pdf.set_font(font, "", 10)
        for element in elements:
            _pdf_element(pdf, font, element)
    return bytes(pdf.output())


def _pdf_element(pdf: Any, font: str, element: Element) -> None:
    kind = element[0]
    if kind == "title":
        size = element[2]
        pdf.set_font(font, "B", size)
        pdf.cell(0, size * 1.4, element[1], new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(font, "", 10)
    elif kind == "heading":
        pdf.set_font(font, "B", 10.5)
        pdf.cell(0, 16, element[1], new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(font, "", 10)
    elif kind == "row":
        _pdf_row(pdf, element[1], element[2], element[3])
    elif kind == "kv":
        pdf.cell(130, 14, element[1])
        pdf.cell(0, 14, element[2], new_x="LMARGIN", new_y="NEXT")
    elif kind == "table":
        pdf.set_font(font, "B", 10)
        _pdf_row(pdf, element[1], element[3], element[4])
        pdf.set_font(font, "", 10)
        for row in element[2]:
            _pdf_row(pdf, row, element[3], element[4])
    elif kind == "para":
        pdf.multi_cell(0, 13, element[1], new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
    elif kind == "gap":
        pdf.ln(element[1])


def _pdf_row(pdf: Any, cells: list[str], widths: list[float], aligns: list[str]) -> None:
    for cell, width, align in zip(cells, widths, aligns, strict=True):
        pdf.cell(width, 14, cell, align=align)
    pdf.ln(14)


def to_text(pages: list[list[Element]], style: str) -> bytes:
    """``style`` is "txt", "md" or "html"."""
    if style == "html":
        return _to_html(pages).encode()
    out: list[str] = []
    for elements in pages:
        lines: list[str] = []
        for element in elements:
            lines.extend(_text_element(element, markdown=style == "md"))
        out.append("\n".join(lines) + "\n")
    return "\f".join(out).encode()


def _text_element(element: Element, *, markdown: bool) -> list[str]:
    kind = element[0]
    if kind == "title":
        return [("# " if markdown else "") + element[1], ""]
    if kind == "heading":
        return ["", ("## " if markdown else "") + element[1]]
    if kind == "row":
        return ["   ".join(c for c in element[1] if c)]
    if kind == "kv":
        return [f"{element[1]}   {element[2]}"]
    if kind == "table":
        header, rows = element[1], element[2]
        if markdown:
            out = ["", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            out.extend("| " + " | ".join(r) + " |" for r in rows)
            return [*out, ""]
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        return [
            "",
            *(
                "   ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                for r in [header, *rows]
            ),
            "",
        ]
    if kind == "para":
        return ["", element[1], ""]
    return [""]


def _to_html(pages: list[list[Element]]) -> str:
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>document</title>",
        "<style>td{padding:2px 8px}</style></head><body>",
    ]
    for number, elements in enumerate(pages):
        if number:
            parts.append("<hr class='page-break'>")
        for element in elements:
            kind = element[0]
            esc = [html.escape(str(e)) if isinstance(e, str) else e for e in element]
            if kind == "title":
                parts.append(f"<h1>{esc[1]}</h1>")
            elif kind == "heading":
                parts.append(f"<h4>{esc[1]}</h4>")
            elif kind == "row":
                cells = "".join(f"<td>{html.escape(c)}</td>" for c in element[1] if c)
                parts.append(f"<table><tr>{cells}</tr></table>")
            elif kind == "kv":
                parts.append(f"<p><b>{esc[1]}</b> {esc[2]}</p>")
            elif kind == "table":
                head = "".join(f"<th>{html.escape(c)}</th>" for c in element[1])
                body = "".join(
                    "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
                    for r in element[2]
                )
                parts.append(f"<table><tr>{head}</tr>{body}</table>")
            elif kind == "para":
                parts.append(f"<p>{esc[1]}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
