"""Extraction: fill an extractor's JSON Schema from a document's labelled values.

General by design: every field is matched by its name, ``extend:name``, its parents' names and
its description against the labels the layout finds (``label: value`` pairs, header/value
rows, label-then-value lines); values are typed per the schema (dates -> yyyy-mm-dd, currency
-> {amount, iso_4217_currency_code}, numbers, enums, booleans, signatures). Arrays of objects
come from tables whose header cells match the item properties. Unfound fields are null.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from dataclasses import field as dc_field
from functools import lru_cache
from typing import Any

from ._address import PART_WORDS, looks_like_address, parse_address
from ._layout import Block, key_value, page_blocks
from ._model import Document, Line, Page, select_pages
from ._parse import polygon
from ._text import (
    DATE_CONNECTORS,
    ISO_CODES,
    MONTHS,
    currency_code,
    decimal_separator,
    find_date,
    find_money,
    find_number,
    fold,
    label_keywords,
    language,
    prefers_day_first,
    split_identifier,
    tokens,
)

keywords = label_keywords  # labels and field names alike, in any of the six languages

# Words naming the party that issues a document: its "name" may be the letterhead.
_ISSUER_WORDS = frozenset(
    {"vendor", "supplier", "seller", "merchant", "issuer", "biller", "company", "store"}
)
# Words of document titles, not names ("TAX INVOICE", "SALES RECEIPT").
_TITLE_WORDS = frozenset(
    keywords(
        "invoice tax receipt statement bill account agreement contract credit note sales "
        "commercial proforma pro forma quote quotation original copy purchase order bank service "
        "retail invoices payment simplified"
    )
)
# Words that name the document itself: implicit in every label of an invoice.
_DOC_WORDS = frozenset({"invoice", "document", "receipt", "bill"})
# Words of the document's own (issue) date: a bare "Date" label belongs to it.
_ISSUE_WORDS = frozenset({"issu", "issue", "creation", "creat", "dat"})
# Total-amount wording: the grand total (gross, due) beats net, subtotal and tax lines.
_GROSS_WORDS = frozenset({"gross", "grand", "due", "payable", "balance"})
_PART_WORDS = frozenset({"net", "sub", "subtotal", "tax"})
# "Musterfirma GmbH", "Au bon moulin SARL", "Exact Belgium II BVBA": up to five name words
# (not starting with a digit) and a legal form.
_COMPANY = re.compile(
    r"(?<![\w&])(?:[^\W\d_][\w&'.-]*\s+){1,5}?(?:[\w&'.-]+\s+)?"
    r"(?:GmbH|AG|SARL|SAS|SASU|SA|S\.A\.|BV|B\.V\.|BVBA|NV|N\.V\.|Ltd\.?|Limited|Inc\.?|LLC|"
    r"plc|PLC|S\.L\.|SL|S\.r\.l\.|Srl|SRL|SpA|S\.p\.A\.|KG|e\.K\.|Oy|AB|A/S|LLP|Pty Ltd|"
    r"Corporation|Corp\.?|a\.G\.)"
    r"(?![\w])"
)
# Letterhead lines that are section labels, not a company name ("Adresse de livraison").
_EURO_LANGUAGES = frozenset({"de", "fr", "nl", "es", "it"})
_NOT_A_NAME = frozenset({"address", "delivery", "customer", "recipient", "buyer", "ship"})
# "Page 1 of 2", "Seite 1 von 3", "Page : 1 / 1", "1/2": a page number is nobody's value.
_PAGE_WORDS = re.compile(
    r"(?i)^\s*(?:page|seite|pagina|página|blatt|p\.)\s*:?\s*\d+(?:\s*(?:/|of|von|de|sur|di|van)"
    r"\s*\d+)?\s*$"
)
_PAGE_BARE = re.compile(r"^\s*(\d{1,3})\s*/\s*(\d{1,3})\s*$")


def _page_number(text: str) -> bool:
    if _PAGE_WORDS.match(text):
        return True
    m = _PAGE_BARE.match(text)
    return m is not None and 0 < int(m.group(1)) <= int(m.group(2))


_LETTER = re.compile(r"[^\W\d_]")
_HAS_VALUE = re.compile(r"\d|[$€£¥₹]|(?<![A-Za-z])[A-Z]{3}(?![A-Za-z])|zł")
_ID_WORDS = frozenset({"number", "reference", "code"})  # identifiers: values hold a digit
_NUMBER_PREFIX = re.compile(r"(?i)(?<![a-z])(n[°º]|nr\.|no\.|#)(?=[a-z0-9])")
_YES = frozenset({"yes", "y", "true", "x", "✓", "✔", "checked", "signed", "paid"})
_NO = frozenset({"no", "n", "false", "unchecked", "unsigned", "none"})


@dataclass(frozen=True, slots=True)
class _Candidate:
    label: frozenset[str]
    context: frozenset[str]  # tokens of the section label above (e.g. "Bill to", "Vendor")
    value: str
    page: Page
    lines: tuple[Line, ...]
    order: int
    weak: bool = False  # label guessed without a separator
    loose: bool = False  # label = the words of a sentence before the value (extras are free)
    phrase: str = dc_field(default="", compare=False)  # the label words, sorted (set on creation)

    def __post_init__(self) -> None:
        object.__setattr__(self, "phrase", " ".join(sorted(self.label)))


@dataclass(frozen=True, slots=True)
class _Field:
    own: frozenset[str]
    parent: frozenset[str]
    desc: frozenset[str]
    phrases: frozenset[str] = frozenset()  # wordings the description lists, e.g. "pay by"
    total: bool = False  # a total amount: prefer gross/due wording over net/subtotal/tax

    def score(self, cand: _Candidate) -> float:
        label = cand.label
        own = len(self.own & label)
        parent = len(self.parent & (label | cand.context))
        desc = len(self.desc & label - self.own - self.parent)
        extra = 0 if cand.loose else len(label - self.own - self.parent - self.desc)
        # The description lists this exact wording ("dated", "pay by", "units"): trust it.
        phrase = 3.0 if cand.phrase in self.phrases else 0.0
        if own == 0 and parent == 0 and desc < 2 and not phrase:
            return 0.0
        if self.parent and parent == 0 and own + desc < 3 and not phrase:
            return 0.0
        # Only an entity's name answers to the entity's own label ("Vendor: Acme" -> vendor.name).
        if own == 0 and desc == 0 and not phrase and "name" not in self.own:
            return 0.0
        score = 3.0 * own + 2.0 * parent + 1.0 * desc + phrase - 0.75 * extra
        if self.total:
            if label & _GROSS_WORDS:
                score += 1.5
            elif label & (_PART_WORDS - self.own):
                score -= 2.0
        return score * (0.5 if cand.loose else 0.8 if cand.weak else 1.0)

    def claims(self, cand: _Candidate, score: float, *, self_field: _Field) -> bool:
        """Does this (sibling) field match ``cand`` better than ``self_field`` does?"""
        mine = self.score(cand)
        if mine > score:
            return True
        return mine == score and bool(self.own & cand.label) and not self_field.own & cand.label


def _value_token(token: str) -> bool:
    bare = token.strip("(),;")
    return (
        any(ch.isdigit() for ch in token)
        or bare in ISO_CODES
        or bare in ("$", "€", "£", "¥", "₹", "CHF", "zł")
    )


@lru_cache(maxsize=8192)
def _month_word(word: str) -> bool:
    return fold(word).strip(".,") in MONTHS


@lru_cache(maxsize=16384)
def _word_pairs(cell: str) -> tuple[tuple[str, str], ...]:
    """(label, value) pairs in text written without separators, left to right."""
    if not _HAS_VALUE.search(cell):
        return ()
    words = _NUMBER_PREFIX.sub(r"\1 ", cell).split()  # "n°562044387" -> "n° 562044387"
    value = [_value_token(w) for w in words]
    for i, word in enumerate(words):  # "3 March 2025", "May 26, 2023": month names join dates
        near = (i > 0 and value[i - 1]) or (i + 1 < len(words) and value[i + 1])
        if not value[i] and near and _month_word(word):
            value[i] = True
    for i, word in enumerate(words):  # "7. Mai 2014", "3 de agosto de 2014", "August 3 , 2014"
        if (
            not value[i]
            and word in (",", "de", "-")
            and 0 < i < len(words) - 1
            and value[i - 1]
            and value[i + 1]
        ):
            value[i] = True
    pairs: list[tuple[str, str]] = []
    i = 0
    while i < len(words):
        j = i
        while j < len(words) and not value[j]:
            j += 1
        k = j
        while k < len(words) and value[k]:
            k += 1
        label, found = " ".join(words[i:j]), " ".join(words[j:k])
        if found.startswith("#") and label:  # "INVOICE #INV-7": the '#' belongs to the label
            label, found = label + " #", found[1:]
        # "Facture n° 42 du 2 juillet 2015": a date after a connector dates what precedes it.
        connector = set(fold(label).split()) if pairs and 0 < len(label) <= 6 else set()
        if connector and connector <= DATE_CONNECTORS and find_date(found) is not None:
            kind = [w for w in pairs[-1][0].split() if keywords(w) & _DOC_WORDS]
            label = " ".join([*kind, "date"])
        if label and found and _is_label_text(label):
            pairs.append((label, found))
        i = k if k > i else i + 1
    return tuple(pairs)


@dataclass(frozen=True, slots=True)
class _Cell:
    text: str
    left: float
    right: float
    top: float
    size: float
    line: Line


def _rows(page: Page) -> list[list[_Cell]]:
    """Visual rows of a PDF page: lines whose tops are within a few points, cells by x.

    PDF text runs of one row can sit on slightly different baselines (a bigger font for the
    total, a superscript), which the reader keeps as separate lines.
    """
    rows: list[list[_Cell]] = []
    last_top = -1e9
    for line in page.lines:
        if len(line.xs) != len(line.cells):
            return []
        cells = []
        for i, (text, x) in enumerate(zip(line.cells, line.xs, strict=True)):
            width = len(text) * line.size * 0.5
            right = x + width
            if i + 1 < len(line.xs):
                right = min(right, line.xs[i + 1])
            cells.append(_Cell(text, x, right, line.top, line.size, line))
        if rows and abs(line.top - last_top) <= min(3.0, line.size * 0.4):
            rows[-1] = sorted(rows[-1] + cells, key=lambda c: c.left)
        else:
            rows.append(cells)
            last_top = line.top
    return rows


def _looks_like_label(text: str) -> bool:
    text = text.strip()
    if not text or len(text) > 50 or len(text.split()) > 6 or not _LETTER.search(text):
        return False
    return sum(ch.isdigit() for ch in text) <= 4


def _currency_mark(text: str) -> bool:
    """A cell holding only a currency symbol or code, or a tax mark ("€", "EUR", "TTC")."""
    bare = text.strip()
    return len(bare) <= 4 and (currency_code(bare) is not None or bare.upper() in ("TTC", "HT"))


def _is_value(text: str) -> bool:
    return len(text) <= 60 and any(ch.isdigit() for ch in text) and not _page_number(text)


def _geometry_pairs(page: Page) -> list[tuple[str, str, tuple[Line, ...], bool]]:
    """(label, value, lines, weak) read off positions: right of a label, or under it.

    Labels are short text cells; the value is the next cell on the same visual row, the last
    cell of that row (amount columns), or the cell below that overlaps the label's span.
    """
    rows = _rows(page)
    out: list[tuple[str, str, tuple[Line, ...], bool]] = []
    for r, row in enumerate(rows):
        reach = row[0].top + 2.6 * max(c.size for c in row)
        below = [c for nxt in rows[r + 1 : r + 4] if nxt[0].top <= reach for c in nxt]
        for i, cell in enumerate(row):
            if not _looks_like_label(cell.text):
                continue
            label = cell.text.rstrip(": ")
            rest = row[i + 1 :]
            if len(rest) > 1 and _currency_mark(rest[0].text) and _is_value(rest[1].text):
                rest = [replace(rest[1], text=f"{rest[0].text} {rest[1].text}"), *rest[2:]]
            if rest and _is_value(rest[0].text):
                tail = " ".join(c.text for c in rest[1:3] if _currency_mark(c.text))
                value = f"{rest[0].text} {tail}".strip()
                out.append((label, value, (cell.line, rest[0].line), False))
                last = rest[-1]
                if len(rest) > 1 and _is_value(last.text):
                    out.append((label, last.text, (cell.line, last.line), True))
                elif len(rest) > 2 and _is_value(rest[-2].text):
                    value = f"{rest[-2].text} {last.text}"
                    out.append((label, value, (cell.line, last.line), True))
            else:
                for under in below:
                    overlap = min(cell.right, under.right) - max(cell.left, under.left)
                    if overlap > 0 and _is_value(under.text):
                        out.append((label, under.text, (cell.line, under.line), True))
                        break
    return out


def _is_label_text(text: str) -> bool:
    text = text.strip()
    return 0 < len(text) <= 40 and len(text.split()) <= 5 and not re.search(r"\d", text)


class _Reader:
    """Candidates and helpers for one document (built once per extract call)."""

    def __init__(self, doc: Document, file_id: str | None) -> None:
        self.doc = doc
        self.file_id = file_id
        self.day_first = prefers_day_first(doc.text)
        self.decimal = decimal_separator(doc.text)
        self.blocks: list[Block] = [b for p in doc.pages for b in page_blocks(p)]
        self.candidates = self._candidates()
        # word -> candidates whose label or context has it: a field only scores those.
        self.by_word: dict[str, list[_Candidate]] = {}
        for cand in self.candidates:
            for word in cand.label | cand.context:
                self.by_word.setdefault(word, []).append(cand)
        self.doc_currency = self._doc_currency()

    # ------------------------------------------------------------ candidates

    def _candidates(self) -> list[_Candidate]:
        """Labelled values in reading order, each with the section it sits in.

        The context of a value is the heading or label-only line above it (within six blocks)
        plus the labels of the two values just before it: "Title:" under "Signature:" belongs
        to the signature, "Name:" under "Bill to" to the customer.
        """
        out: list[_Candidate] = []
        for page in self.doc.pages:
            section: frozenset[str] = frozenset()
            section_age = 99
            recent: list[frozenset[str]] = []
            for block in page_blocks(page):
                section_age += 1
                if section_age > 6:
                    section = frozenset()
                context = section.union(*recent[-2:])
                found = self._block_candidates(block, page, context, len(out))
                out.extend(found)
                if block.type == "heading" or (
                    block.type == "text" and len(block.lines) == 1 and block.text.endswith(":")
                ):
                    section, section_age, recent = frozenset(keywords(block.text)), 0, []
                elif block.type == "key_value":
                    recent.append(frozenset(keywords(block.rows[0][0])))
            for label, value, lines, weak in _geometry_pairs(page):
                words = frozenset(keywords(label))
                if words:
                    out.append(_Candidate(words, frozenset(), value, page, lines, len(out), weak))
        return out

    def _block_candidates(
        self, block: Block, page: Page, context: frozenset[str], order: int
    ) -> list[_Candidate]:
        out: list[_Candidate] = []

        def add(
            label: str,
            value: str,
            lines: tuple[Line, ...],
            *,
            weak: bool = False,
            loose: bool = False,
        ) -> None:
            value = value.strip()
            label_tokens = frozenset(keywords(label))
            if value and label_tokens:
                n = order + len(out)
                out.append(_Candidate(label_tokens, context, value, page, lines, n, weak, loose))

        if block.type == "key_value":
            add(block.rows[0][0], block.rows[0][1], block.lines)
        elif block.type == "table":
            header = block.rows[0]
            if len(block.rows) == 2 and len(block.rows[1]) == len(header):
                for label, value in zip(header, block.rows[1], strict=True):
                    add(label, value, block.lines)
            for row, line in zip(block.rows, block.lines, strict=True):
                cells = [c for c in row if c.strip()]
                if len(cells) == 2:
                    add(cells[0], cells[1], (line,))
                # Side-by-side columns: "12 Main St | Invoice #: | INV-1" holds a labelled value.
                self._line_candidates(line, add)
        else:
            for line in block.lines:
                self._line_candidates(line, add)
        return out

    @staticmethod
    def _line_candidates(line: Line, add: Any) -> None:
        cells = line.cells
        # "Invoice #:" "INV-1" "Date:" "2024-01-02" on one line: pair each label with its value.
        for i in range(len(cells) - 1):
            if cells[i].endswith(":"):
                add(cells[i].rstrip(":"), cells[i + 1], (line,))
        for cell in cells:
            kv = key_value(Line((cell,), 0, 0, 0, 0))
            if kv is not None:
                add(kv[0], kv[1], (line,))
            else:
                # "Invoice No. 2024-0042", "Total due $1,234.00", "Invoice number INV-7 total
                # 12.50": runs of label words, each followed by a run of value tokens.
                pairs = _word_pairs(cell)
                for label, value in pairs:
                    add(label, value, (line,), weak=True)
                # "Zahlbar innerhalb 30 Tagen bis 04.04.2013": a date in a sentence is dated
                # by all the words before it (loosely: other words cost nothing).
                for i in range(1, min(len(pairs), 4)):
                    if find_date(pairs[i][1]) is not None:
                        words = " ".join(p[0] for p in pairs[: i + 1])
                        add(words, pairs[i][1], (line,), weak=True, loose=True)

    def _doc_currency(self) -> str | None:
        for cand in self.candidates:
            if "currency" in cand.label:
                code = currency_code(cand.value.upper())
                if code:
                    return code
        code = currency_code(self.doc.text)
        if code is None and language(self.doc.text) in _EURO_LANGUAGES:
            return "EUR"  # a German, French, ... invoice that writes no currency: euros
        return code

    # ------------------------------------------------------------ matching

    def best(
        self, field: _Field, convert: Any, rivals: tuple[tuple[_Field, Any], ...] = ()
    ) -> tuple[Any, _Candidate, float] | None:
        """The highest-scoring candidate whose value converts; earliest wins ties.

        A candidate that a sibling field (``rivals``) matches better belongs to that sibling:
        "Invoice date" is not the due date even though both mention a date.
        """
        shared: set[str] = set()
        for rival, _ in rivals:
            shared |= field.own & rival.own
        # "Date" alone is the invoice date, not the due date: when a sibling shares a word,
        # the label must carry this field's own distinguishing word (or a listed wording).
        need = field.own - shared - _DOC_WORDS - _ISSUE_WORDS if shared - _DOC_WORDS else set()
        words = field.own | field.parent | field.desc
        pool = {c.order: c for w in words for c in self.by_word.get(w, ())}
        scored = [
            (field.score(c), c)
            for c in pool.values()
            if not need or need & c.label or c.phrase in field.phrases
        ]
        ranked = sorted(
            (
                (score, any(r.score(c) >= score for r, _ in rivals), c.order, c)
                for score, c in scored
                if score >= 1.5
            ),
            key=lambda t: (-t[0], t[1], t[2]),
        )
        found: tuple[Any, _Candidate, float] | None = None
        for score, _, _, cand in ranked:
            if found is not None and score < found[2]:
                break
            if any(
                rival.claims(cand, score, self_field=field) and conv(cand) is not None
                for rival, conv in rivals
            ):
                continue
            value = convert(cand)
            if value is None:
                continue
            if found is None:
                found = (value, cand, score)
                if not field.total:
                    break
            elif _amount(value) > _amount(found[0]):  # equal wording: the largest total
                found = (value, cand, score)
        return found

    def citation(self, cand: _Candidate) -> dict[str, Any]:
        points, _ = polygon(cand.lines)
        out: dict[str, Any] = {
            "page": {
                "number": cand.page.number,
                "width": cand.page.width,
                "height": cand.page.height,
            },
            "referenceText": " ".join(ln.text for ln in cand.lines),
            "polygon": points,
        }
        if self.file_id:
            out = {"fileId": self.file_id, **out}
        return out

    def company(self) -> _Candidate | None:
        """A company name with its legal form that the document prints more than once.

        The issuer's name recurs (letterhead, footer, bank details, "payable to"); a
        customer's usually appears once. Among repeated names, the most frequent wins, then
        the first printed.
        """
        seen: dict[str, list[tuple[str, Page, Line]]] = {}
        for page in self.doc.pages:
            for line in page.lines:
                for cell in line.cells:
                    m = _COMPANY.search(cell)
                    if m is not None:
                        name = m.group(0).strip(" ,-")
                        seen.setdefault(fold(name), []).append((name, page, line))
        repeated = [v for v in seen.values() if len(v) >= 2]
        if repeated:
            name, page, line = max(repeated, key=len)[0]
            return _Candidate(frozenset(), frozenset(), name, page, (line,), -1)
        if self.doc.pages:  # printed once: only as the very first lines of the first page
            head = self.doc.pages[0].lines[:2]
            for occurrences in seen.values():
                name, page, line = occurrences[0]
                if page is self.doc.pages[0] and any(line is h for h in head):
                    return _Candidate(frozenset(), frozenset(), name, page, (line,), -1)
        return None

    def letterhead(self) -> _Candidate | None:
        """The first prominent line of page 1 that is not a document title (the issuer's name)."""
        if not self.doc.pages:
            return None
        page = self.doc.pages[0]
        for block in page_blocks(page)[:6]:
            if block.type not in ("heading", "text"):
                continue
            for line in block.lines[:3]:
                words = keywords(line.text)
                if (
                    words
                    and not words <= _TITLE_WORDS
                    and not words & _NOT_A_NAME
                    and not re.search(r"\d", line.text)
                ):
                    return _Candidate(frozenset(), frozenset(), line.text, page, (line,), -1)
        return None


# ---------------------------------------------------------------- schema walking


def _kind(schema: dict[str, Any]) -> str:
    ext = schema.get("extend:type")
    if ext in ("currency", "signature", "date"):
        return str(ext)
    if "enum" in schema:
        return "enum"
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    return str(kind or "string")


def _null(schema: dict[str, Any]) -> Any:
    kind = _kind(schema)
    if kind in ("object", "currency", "signature"):
        return {k: _null(v) for k, v in (schema.get("properties") or {}).items()}
    if kind == "array":
        return []
    return None


class _Extractor:
    def __init__(self, reader: _Reader, *, citations: bool = True, insights: bool = False) -> None:
        self.r = reader
        self.citations = citations
        self.insights = insights
        self.metadata: dict[str, dict[str, Any]] = {}

    def note(self, path: str, found: tuple[_Candidate, float] | None) -> None:
        if found is None:
            self.metadata[path] = self._empty()
            return
        cand, score = found
        confidence = round(min(0.99, 0.55 + 0.06 * score), 3)
        entry: dict[str, Any] = {
            "ocrConfidence": 0.99 if self.r.doc.file_type == "PDF" else None,
            "logprobsConfidence": confidence,
        }
        entry["citations"] = [self.r.citation(cand)] if self.citations else []
        if self.insights:
            where = " ".join(ln.text for ln in cand.lines)[:120]
            entry["insights"] = [
                {"type": "reasoning", "content": f"Read from '{where}' on page {cand.page.number}."}
            ]
        self.metadata[path] = entry

    def field_of(self, key: str, schema: dict[str, Any], parents: tuple[str, ...]) -> _Field:
        own = keywords(split_identifier(key)) | keywords(str(schema.get("extend:name") or ""))
        parent: set[str] = set()
        for name in parents:
            parent |= keywords(split_identifier(name))
        description = str(schema.get("description") or "")
        desc = keywords(description)
        parts = [*re.split(r"[,;:()/]| or ", description), str(schema.get("extend:name") or "")]
        phrases = {" ".join(sorted(keywords(p))) for p in parts}
        total = "total" in own and _kind(schema) in ("currency", "number", "integer")
        return _Field(
            frozenset(own),
            frozenset(parent - own),
            frozenset(desc),
            frozenset(phrases - {""}),
            total,
        )

    def value(
        self,
        path: str,
        key: str,
        schema: dict[str, Any],
        parents: tuple[str, ...],
        siblings: dict[str, Any],
    ) -> Any:
        kind = _kind(schema)
        if kind in ("object", "signature"):
            out = {}
            children = schema.get("properties") or {}
            for child, sub in children.items():
                out[child] = self.value(f"{path}.{child}", child, sub, (*parents, key), children)
            if kind == "signature":
                self._signed(path, out)
            else:
                field = self.field_of(key, schema, parents)
                words = field.own | keywords(str(schema.get("description") or ""))
                if "address" in words and any(v is None for v in out.values()):
                    self._address(path, field, parents, out)
            present = [
                m for k, m in self.metadata.items() if k.startswith(path + ".") and m["citations"]
            ]
            self.metadata[path] = present[0] if present else self._empty()
            return out
        if kind == "array":
            return self.array(path, key, schema, parents)
        field = self.field_of(key, schema, parents)
        rivals = tuple(
            (self.field_of(k, v, parents), self.converter(_kind(v), v, k))
            for k, v in siblings.items()
            if k != key
        )
        found = self.r.best(field, self.converter(kind, schema, key), rivals)
        if found is None and kind == "string":
            found = self._fallback_name(field)
        if found is None and kind == "enum":
            return self._enum_scan(path, schema)
        self.note(path, None if found is None else (found[1], found[2]))
        if found is None:
            return _null(schema)
        return found[0]

    def _empty(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"ocrConfidence": None, "logprobsConfidence": None, "citations": []}
        if self.insights:
            entry["insights"] = [{"type": "reasoning", "content": "Not found in the document."}]
        return entry

    def _fallback_name(self, field: _Field) -> tuple[Any, _Candidate, float] | None:
        wanted = field.own | field.parent
        if ("name" in wanted and wanted & _ISSUER_WORDS) or field.own & _ISSUER_WORDS:
            cand = self.r.company() or self.r.letterhead()
            if cand is not None:
                return cand.value, cand, 3.0
        return None

    def converter(self, kind: str, schema: dict[str, Any], key: str = "") -> Any:
        r = self.r
        if kind == "date":
            return lambda c: (d := find_date(c.value, day_first=r.day_first)) and d[0].isoformat()
        if kind in ("number", "integer"):

            def number(c: _Candidate) -> Any:
                found = find_number(c.value, r.decimal)
                if found is None:
                    return None
                return int(found[0]) if kind == "integer" else found[0]

            return number
        if kind == "currency":

            def money(c: _Candidate) -> Any:
                found = find_money(c.value, r.decimal)
                if found is None or find_date(c.value) is not None:
                    return None
                code = (
                    found[1] or currency_code(" ".join(ln.text for ln in c.lines)) or r.doc_currency
                )
                return {"amount": found[0], "iso_4217_currency_code": code}

            return money
        if kind == "boolean":

            def boolean(c: _Candidate) -> Any:
                word = c.value.strip().lower().rstrip(".")
                return True if word in _YES else False if word in _NO else None

            return boolean
        if kind == "enum":
            options = [o for o in schema.get("enum") or [] if isinstance(o, str)]

            def enum(c: _Candidate) -> Any:
                value = set(tokens(c.value))
                for option in options:
                    if set(tokens(option)) <= value:
                        return option
                return None

            return enum
        name = split_identifier(key) + " " + str(schema.get("extend:name") or "")
        if (
            keywords(name) & _ID_WORDS
        ):  # an identifier ("number", "id", "reference") always holds a digit
            return lambda c: c.value if re.search(r"\d", c.value) else None
        return lambda c: c.value if not re.fullmatch(r"[_.\s-]*", c.value) else None

    def _enum_scan(self, path: str, schema: dict[str, Any]) -> Any:
        """No labelled value: score each option by its words (x5) and its description's words
        present in the document; words shared by every option's description do not count."""
        options = [o for o in schema.get("enum") or [] if isinstance(o, str)]
        descriptions = list(schema.get("extend:descriptions") or [])
        descriptions += [""] * (len(options) - len(descriptions))
        present = set(tokens(self.r.doc.text))
        desc_words = [set(keywords(str(d))) for d in descriptions[: len(options)]]
        shared = set.intersection(*desc_words) if desc_words else set()
        scores = {
            option: 5 * len(keywords(option) & present) + len((words - shared) & present)
            for option, words in zip(options, desc_words, strict=True)
        }
        ranked = sorted(options, key=lambda o: -scores[o])
        self.metadata[path] = self._empty()
        if not ranked or scores[ranked[0]] == 0:
            return None
        if len(ranked) > 1 and scores[ranked[1]] == scores[ranked[0]]:
            return None  # a tie is no evidence either way
        top, runner_up = scores[ranked[0]], scores[ranked[1]] if len(ranked) > 1 else 0
        self.metadata[path] = {
            "ocrConfidence": None,
            "logprobsConfidence": round(0.5 + 0.45 * (top - runner_up) / top, 3),
            "citations": [],
        }
        return ranked[0]

    def _signed(self, path: str, out: dict[str, Any]) -> None:
        name = out.get("printed_name")
        if isinstance(name, str) and name.lower().startswith("/s/"):
            out["printed_name"] = name[3:].strip()  # "/s/ Jane Doe": a conformed signature
        if "is_signed" not in out or out["is_signed"] is not None:
            return
        marks = [c for c in self.r.candidates if c.label & {"signature", "signed", "sign"}]
        if not marks:
            return
        out["is_signed"] = any(not re.fullmatch(r"[_.\s-]*", c.value) for c in marks)
        self.note(f"{path}.is_signed", (marks[0], 3.0))

    def _address(
        self, path: str, field: _Field, parents: tuple[str, ...], out: dict[str, Any]
    ) -> None:
        """Fill unlabelled address parts from a labelled address or the issuer's letterhead."""
        found = self.r.best(field, lambda c: c.value if looks_like_address(c.value) else None)
        if found is not None:
            cand = found[1]
            lines = [found[0]]
        else:
            issuer = set(parents) & _ISSUER_WORDS or field.own & _ISSUER_WORDS
            head = self.r.letterhead() if issuer else None
            if head is None:
                return
            cand, lines = self._lines_below(head)
            if not lines:
                return
        parts = parse_address(lines)
        for child, value in list(out.items()):
            if value is not None:
                continue
            part = next(
                (PART_WORDS[t] for t in tokens(split_identifier(child)) if t in PART_WORDS), None
            )
            if part is not None and part in parts:
                out[child] = parts[part]
                self.note(f"{path}.{child}", (cand, 3.0))

    def _lines_below(self, head: _Candidate) -> tuple[_Candidate, list[str]]:
        """Address-like first cells of the lines just under the letterhead line."""
        page = head.page
        start = page.lines.index(head.lines[0]) + 1
        taken: list[Line] = []
        for line in page.lines[start : start + 5]:
            first = next((c for c in line.cells if c), "")
            if looks_like_address(first):
                taken.append(line)
            elif taken:
                break
        if not taken:
            return head, []
        texts = [next(c for c in ln.cells if c) for ln in taken]
        return _Candidate(frozenset(), frozenset(), "", page, tuple(taken), -1), texts

    def array(
        self, path: str, key: str, schema: dict[str, Any], parents: tuple[str, ...]
    ) -> list[Any]:
        items = schema.get("items") or {}
        props = items.get("properties") or {}
        if _kind(items) != "object" or not props:
            self.metadata[path] = self._empty()
            return []
        fields = {name: self.field_of(name, sub, ()) for name, sub in props.items()}
        rows: list[tuple[tuple[str, ...], Line, Page]] = []
        mapping: dict[str, int] | None = None
        header_line: Line | None = None
        width = 0
        pages = {p.number: p for p in self.r.doc.pages}
        for block in self.r.blocks:
            if block.type != "table":
                continue
            header = block.rows[0]
            header_map = _header_mapping(header, fields)
            page = pages[block.page]
            if len(header_map) >= 2:
                mapping, width, header_line = header_map, len(header), block.lines[0]
                body = list(zip(block.rows[1:], block.lines[1:], strict=True))
            elif mapping is not None and len(header) == width:
                body = list(zip(block.rows, block.lines, strict=True))
            else:
                continue
            for cells, line in body:
                if len(cells) != width and header_line is not None:
                    cells = _align(line, header_line)
                rows.append((cells, line, page))
        if mapping is None:
            self.metadata[path] = self._empty()
            return []
        out: list[Any] = []
        table_lines: list[Line] = []
        for cells, line, page in rows:
            if len(cells) != width or _summary_row(cells, mapping):
                continue
            item: dict[str, Any] = {}
            ipath = f"{path}[{len(out)}]"
            for name, sub in props.items():
                col = mapping.get(name)
                cand = None
                if col is not None:
                    cand = _Candidate(frozenset(), frozenset(), cells[col], page, (line,), 0)
                convert = self.converter(_kind(sub), sub)
                value = convert(cand) if cand is not None else None
                item[name] = _null(sub) if value is None else value
                self.note(f"{ipath}.{name}", None if value is None or cand is None else (cand, 5.0))
            row_cand = _Candidate(frozenset(), frozenset(), "", page, (line,), 0)
            self.note(ipath, (row_cand, 5.0))
            table_lines.append(line)
            out.append(item)
        if out:
            first = rows[0][2]
            self.note(
                path, (_Candidate(frozenset(), frozenset(), "", first, (table_lines[0],), 0), 5.0)
            )
        else:
            self.metadata[path] = self._empty()
        return out


def _amount(value: Any) -> float:
    """The amount of a converted number or currency value (for "largest total" ties)."""
    if isinstance(value, dict):
        value = value.get("amount")
    return float(value) if isinstance(value, int | float) else float("-inf")


def _summary_row(cells: tuple[str, ...], mapping: dict[str, int]) -> bool:
    """A totals row inside an item table ("| | Total | 120.00 |"): first column or most empty."""
    filled = sum(1 for col in mapping.values() if cells[col].strip())
    return not cells[min(mapping.values())].strip() or filled * 2 < len(mapping)


def _align(line: Line, header: Line) -> tuple[str, ...]:
    """Put a row's cells under the header columns by position (PDFs skip empty cells)."""
    if len(line.xs) != len(line.cells) or len(header.xs) != len(header.cells):
        return line.cells

    def centre(x: float, text: str, size: float) -> float:
        return x + len(text) * size * 0.25

    columns = [centre(x, c, header.size) for x, c in zip(header.xs, header.cells, strict=True)]
    out = [""] * len(columns)
    for x, cell in zip(line.xs, line.cells, strict=True):
        mid = centre(x, cell, line.size)
        col = min(range(len(columns)), key=lambda i: abs(columns[i] - mid))
        if out[col]:
            return line.cells  # two cells under one header: leave the row as it is
        out[col] = cell
    return tuple(out)


def _header_mapping(header: tuple[str, ...], fields: dict[str, _Field]) -> dict[str, int]:
    """Property -> column index, by the best label score of each header cell."""
    scored = []
    for col, cell in enumerate(header):
        words = frozenset(keywords(cell))
        if not words:
            continue
        cand = _Candidate(words, frozenset(), cell, _NO_PAGE, (), col)
        for name, field in fields.items():
            score = field.score(cand)
            if score >= 1.5:
                scored.append((score, name, col))
    mapping: dict[str, int] = {}
    used: set[int] = set()
    for _score, name, col in sorted(scored, key=lambda t: (-t[0], t[2])):
        if name not in mapping and col not in used:
            mapping[name] = col
            used.add(col)
    return mapping


_NO_PAGE = Page(0, "")


def extract_output(doc: Document, config: dict[str, Any], *, file_id: str | None) -> dict[str, Any]:
    """ExtractOutput ``{"value": ..., "metadata": ...}`` filling ``config["schema"]``."""
    schema = (config or {}).get("schema") or {"type": "object", "properties": {}}
    options = (config or {}).get("advancedOptions") or {}
    extractor = _Extractor(
        _Reader(select_pages(doc, config), file_id),
        citations=options.get("citationsEnabled") is not False,
        insights=bool(options.get("modelReasoningInsightsEnabled")),
    )
    value = {}
    properties = schema.get("properties") or {}
    for key, sub in properties.items():
        value[key] = extractor.value(key, key, sub, (), properties)
    return {"value": value, "metadata": extractor.metadata}
