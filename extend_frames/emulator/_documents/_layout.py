"""Page lines -> layout blocks (heading, key_value, table, text, page_number).

Parse, extract, classify and split all read documents through these blocks, so the labels a
parse run shows are the labels extraction matches. Rules are simple layout cues: font size for
headings, runs of multi-cell lines for tables, ``label: value`` shapes for key-value pairs.
"""

from __future__ import annotations

import html
import re
import statistics
from dataclasses import dataclass
from functools import lru_cache

from ._model import Line, Page

_PAGE_NUMBER = re.compile(r"^(page\s*\d+(\s*(of|/)\s*\d+)?|\d+\s*(of|/)\s*\d+|-\s*\d+\s*-)$", re.I)
_INLINE_KV = re.compile(r"^([A-Za-z][\w .#/&'()%-]{0,40}?)\s*:\s+(\S.*)$")


@dataclass(frozen=True, slots=True)
class Block:
    """A layout block: ``rows`` holds table rows, or ``(label, value)`` for key_value."""

    type: str
    page: int
    lines: tuple[Line, ...]
    rows: tuple[tuple[str, ...], ...]
    level: int = 1  # heading level

    @property
    def text(self) -> str:
        return "\n".join(ln.text for ln in self.lines)


def _is_label(cell: str) -> bool:
    words = cell.split()
    return (
        0 < len(words) <= 5
        and len(cell) <= 40
        and any(ch.isalpha() for ch in cell)
        and not re.search(r"\d{3,}", cell)
    )


def key_value(line: Line) -> tuple[str, str] | None:
    """``(label, value)`` when the line reads as a labelled value."""
    cells = line.cells
    if (
        len(cells) == 2
        and _is_label(cells[0])
        and (cells[0].endswith(":") or not cells[1].endswith(":"))
        and not _INLINE_KV.match(cells[0])  # "Invoice No: 7" | "Date: 1/2": two pairs, not one
    ):
        return cells[0].rstrip(":").strip(), cells[1].strip()
    if len(cells) == 1:
        m = _INLINE_KV.match(cells[0])
        if m and _is_label(m.group(1)):
            return m.group(1).strip(), m.group(2).strip()
    return None


def page_blocks(page: Page) -> tuple[Block, ...]:
    """The layout blocks of ``page``, in reading order.

    Cached on the page's full content (lines and geometry included), so parse, extract and
    classify of one document share the work; the cache is thread-safe and bounded.
    """
    return _blocks(page.number, page.lines)


def clear_cache() -> None:
    """Forget cached layouts (benchmarks use it to time cold runs)."""
    _blocks.cache_clear()


@lru_cache(maxsize=2048)
def _blocks(number: int, lines: tuple[Line, ...]) -> tuple[Block, ...]:
    if not lines:
        return ()
    sizes = [ln.size for ln in lines]
    body = statistics.median(sizes)
    top_size = max(sizes)
    blocks: list[Block] = []
    paragraph: list[Line] = []
    n = number

    def flush() -> None:
        if paragraph:
            blocks.append(Block("text", n, tuple(paragraph), ()))
            paragraph.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        text = line.text
        if len(line.cells) >= 3 or line.tabular:
            j = i
            while j < len(lines) and (
                lines[j].tabular if line.tabular else len(lines[j].cells) >= 3
            ):
                j += 1
            if j - i >= 2:
                flush()
                run = lines[i:j]
                blocks.append(Block("table", n, tuple(run), tuple(ln.cells for ln in run)))
                i = j
                continue
        if _PAGE_NUMBER.match(text.strip()):
            flush()
            blocks.append(Block("page_number", n, (line,), ()))
        elif (line.heading or line.size >= body * 1.3) and len(line.cells) == 1 and len(text) <= 80:
            flush()
            level = 1 if line.size >= top_size - 0.5 else 2
            blocks.append(Block("heading", n, (line,), (), level))
        elif (kv := key_value(line)) is not None:
            flush()
            blocks.append(Block("key_value", n, (line,), (kv,)))
        elif (
            len(line.cells) == 1
            and text.endswith(":")
            and _is_label(text)
            and i + 1 < len(lines)
            and len(lines[i + 1].cells) == 1
            and not lines[i + 1].text.endswith(":")
        ):
            flush()
            nxt = lines[i + 1]
            blocks.append(
                Block("key_value", n, (line, nxt), ((text.rstrip(":").strip(), nxt.text),))
            )
            i += 1
        else:
            if paragraph:
                prev = paragraph[-1]
                if (
                    line.top - prev.bottom > max(prev.bottom - prev.top, 8.0)
                    or line.size != prev.size
                ):
                    flush()
            paragraph.append(line)
        i += 1
    flush()
    return tuple(blocks)


def block_content(block: Block, *, table_format: str = "markdown") -> str:
    """The block's text in the parse output's target format."""
    if block.type == "heading":
        return "#" * block.level + " " + block.text
    if block.type == "key_value":
        label, value = block.rows[0]
        return f"{label}: {value}"
    if block.type == "table":
        width = max(len(r) for r in block.rows)
        rows = [list(r) + [""] * (width - len(r)) for r in block.rows]
        if table_format == "html":
            cell = html.escape
            head = "".join(f"<th>{cell(c)}</th>" for c in rows[0])
            body = "".join(
                "<tr>" + "".join(f"<td>{cell(c)}</td>" for c in r) + "</tr>" for r in rows[1:]
            )
            return f"<table><tr>{head}</tr>{body}</table>"
        out = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * width]
        out.extend("| " + " | ".join(r) + " |" for r in rows[1:])
        return "\n".join(out)
    return block.text
