"""Classification and splitting by keyword scoring against the processor's classifications.

Each classification contributes its type/id words (strong) and description words (weak),
weighted down when several classifications share a word. A document (or page) scores by where
the words appear: titles and headings count most. A classification called ``other`` (or
described as "any other ...") wins when nothing scores well. Split finds boundaries from page
titles and "Page k of n" / "continued" markers, then classifies each page range.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ._extract import _Field, _Reader
from ._layout import page_blocks
from ._model import Document, Page, select_pages
from ._text import keywords, split_identifier, tokens

_THRESHOLD = 2.5  # "other" wins below this: less than one mention of a type word
_MARKER = re.compile(
    r"\bpage\s*(\d{1,4})\s*(?:of|/)\s*(\d{1,4})\b|^\s*(\d{1,3})\s*(?:of|/)\s*(\d{1,3})\s*$",
    re.I | re.M,
)


@dataclass(frozen=True, slots=True)
class _Class:
    id: str
    type: str
    strong: frozenset[str]
    weights: dict[str, float]
    is_other: bool
    identifier_key: str


def _classes(items: Sequence[dict[str, Any]]) -> list[_Class]:
    raw = []
    for item in items:
        cid, ctype = (
            str(item.get("id") or item.get("type")),
            str(item.get("type") or item.get("id")),
        )
        strong = keywords(split_identifier(ctype)) | keywords(split_identifier(cid))
        weak = keywords(str(item.get("description") or "")) - strong
        desc = str(item.get("description") or "").lower()
        other = (
            ctype.lower() == "other"
            or cid.lower() == "other"
            or desc.startswith(("any other", "anything else"))
        )
        raw.append((cid, ctype, strong, weak, other, str(item.get("identifierKey") or "")))
    df: Counter[str] = Counter()
    for _, _, strong, weak, other, _ in raw:
        if not other:
            df.update(strong | weak)
    out = []
    for cid, ctype, strong, weak, other, ident in raw:
        # Sorted, so that float sums (and so ties) do not depend on set iteration order.
        weights = {t: 3.0 / df[t] for t in sorted(strong) if df[t]}
        weights.update({t: 1.0 / df[t] for t in sorted(weak) if df[t] and t not in weights})
        out.append(_Class(cid, ctype, frozenset(strong), weights, other, ident))
    return out


def _titles(page: Page) -> list[str]:
    """Headings in the top 40% of the page."""
    return [
        b.text
        for b in page_blocks(page)
        if b.type == "heading" and b.lines[0].top <= page.height * 0.4
    ]


def _score(pages: Sequence[Page], cls: _Class) -> tuple[float, list[str]]:
    title_words: set[str] = set()
    for page in pages[:1]:
        for title in _titles(page):
            title_words |= keywords(title)
    counts = Counter(t for p in pages for t in tokens(p.text))
    score = 0.0
    matched = []
    for term, weight in cls.weights.items():
        hits = (4.0 if term in title_words else 0.0) + min(3.0, math.log2(1 + counts[term]))
        if hits:
            score += weight * hits
            matched.append(term)
    return score, matched


def _rank(pages: Sequence[Page], classes: list[_Class]) -> list[tuple[float, _Class, list[str]]]:
    scored: list[tuple[float, _Class, list[str]]] = []
    for cls in classes:
        if cls.is_other:
            scored.append((_THRESHOLD, cls, []))
        else:
            score, matched = _score(pages, cls)
            scored.append((score, cls, matched))
    return sorted(scored, key=lambda t: -t[0])


def _confidence(ranked: list[tuple[float, _Class, list[str]]]) -> float:
    best = ranked[0][0]
    second = ranked[1][0] if len(ranked) > 1 else 0.0
    if best <= 0:
        return 0.5
    return round(min(0.99, 0.5 + 0.5 * (best - second) / best), 3)


def classify_output(doc: Document, config: dict[str, Any]) -> dict[str, Any]:
    """ClassifyOutput ``{"id", "type", "confidence", "insights"}`` for the best classification."""
    classes = _classes((config or {}).get("classifications") or [])
    if not classes:
        classes = _classes([{"id": "other", "type": "other", "description": "Any other document"}])
    doc = select_pages(doc, config)
    ranked = _rank(doc.pages, classes)
    score, cls, matched = ranked[0]
    if cls.is_other:
        reason = "No classification's terms appear prominently in the document."
    else:
        title = next(iter(_titles(doc.pages[0])), None) if doc.pages else None
        reason = (
            f"Matched {', '.join(sorted(matched)[:8])} (score {score:.1f}"
            + (f"; next {ranked[1][1].type} {ranked[1][0]:.1f}" if len(ranked) > 1 else "")
            + ")"
            + (f"; title reads '{title}'." if title else ".")
        )
    return {
        "id": cls.id,
        "type": cls.type,
        "confidence": _confidence(ranked),
        "insights": [{"type": "reasoning", "content": reason}],
    }


# ---------------------------------------------------------------- split


def _marker(page: Page) -> tuple[int, int] | None:
    """A "Page k of n" (or bare "k of n") marker, if the page has a plausible one."""
    for m in _MARKER.finditer(page.text):
        a, b = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        if 1 <= int(a) <= int(b):
            return int(a), int(b)
    return None


def _starts(page: Page, classes: list[_Class]) -> bool | None:
    """True: a new document starts here; False: it continues the last one; None: unknown."""
    marker = _marker(page)
    head = " ".join(ln.text for ln in page.lines[:4]).lower()
    if (marker is not None and marker[0] > 1) or "continued" in head:
        return False
    if marker is not None and marker[0] == 1:
        return True
    for title in _titles(page):
        words = keywords(title)
        if any(words & cls.weights.keys() for cls in classes if not cls.is_other):
            return True
    return None


def _split_id(name: str, start: int, end: int) -> str:
    digest = hashlib.sha256(f"{name}\x00{start}\x00{end}".encode()).digest()
    return "split_" + base64.urlsafe_b64encode(digest[:15]).decode()


def split_output(
    doc: Document, config: dict[str, Any], *, make_file_id: Callable[[dict[str, Any]], str]
) -> dict[str, Any]:
    """SplitOutput ``{"splits": [...]}``: contiguous page ranges, each classified.

    ``make_file_id(split)`` stores the split's sub-document as a file and returns its id.
    """
    classes = _classes((config or {}).get("splitClassifications") or [])
    if not classes:
        classes = _classes([{"id": "other", "type": "other", "description": "Any other document"}])
    doc = select_pages(doc, config)
    ranges: list[list[Page]] = []
    for page in doc.pages:
        start = _starts(page, classes)
        if not ranges or start is True:
            ranges.append([page])
        else:
            ranges[-1].append(page)
    splits = []
    for pages in ranges:
        ranked = _rank(pages, classes)
        _, cls, matched = ranked[0]
        first, last = pages[0].number, pages[-1].number
        identifier = _identifier(doc, pages, cls)
        title = next(iter(_titles(pages[0])), None)
        observation = (
            (f"Pages {first}-{last}" if last > first else f"Page {first}")
            + f" read as {cls.type}"
            + (f" (title '{title}'" if title else " (no title")
            + (f"; terms {', '.join(sorted(matched)[:6])})." if matched else ").")
        )
        split: dict[str, Any] = {
            "id": _split_id(doc.name, first, last),
            "classificationId": cls.id,
            "type": cls.type,
            "startPage": first,
            "endPage": last,
            "identifier": identifier,
            "observation": observation,
        }
        split["fileId"] = make_file_id(split)
        splits.append(split)
    return {"splits": splits, "isExternal": False}  # SDK 1.20 declares it; always our own splits


def _identifier(doc: Document, pages: list[Page], cls: _Class) -> str:
    """The value labelled like the classification's identifierKey, else the range's title."""
    if cls.identifier_key:
        sub = Document(doc.name, doc.file_type, tuple(pages))
        words = frozenset(keywords(cls.identifier_key))
        found = _Reader(sub, None).best(_Field(words, frozenset(), frozenset()), lambda c: c.value)
        if found is not None:
            return str(found[0])
    titles = _titles(pages[0])
    return titles[0] if titles else ""
