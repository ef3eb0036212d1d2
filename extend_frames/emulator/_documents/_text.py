"""Text helpers: word tokens with light stemming, and parsers for dates, numbers and money.

These are deliberately general (no knowledge of the sample generator): the date parser knows
ISO, US (m/d/y), European (d.m.y, d/m/y when the day is over 12) and spelled-out month forms;
the money parser knows ISO codes, common currency symbols and both decimal conventions.
"""

from __future__ import annotations

import datetime as dt
import re

_WORD = re.compile(r"[a-z0-9]+|#")

# Abbreviations found on business documents, mapped to the word they stand for.
_ABBREVIATIONS = {
    "#": "number",
    "no": "number",
    "nr": "number",
    "num": "number",
    "qty": "quantity",
    "amt": "amount",
    "desc": "description",
    "ref": "reference",
    "acct": "account",
    "inv": "invoice",
    "dt": "date",
    "addr": "address",
    "tel": "phone",
}

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "or",
        "and",
        "to",
        "for",
        "in",
        "on",
        "at",
        "by",
        "is",
        "are",
        "be",
        "as",
        "with",
        "from",
        "this",
        "that",
        "any",
        "other",
        "it",
        "its",
        "was",
        "were",
        "has",
        "have",
        "which",
        "when",
        "where",
        "who",
        "what",
        "all",
        "per",
        "each",
        "e",
        "g",
        "eg",
        "ie",
    ]
)


def stem(word: str) -> str:
    """A tiny suffix stripper so that 'invoices'/'invoiced' meet 'invoice'."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    for suffix in ("ing", "ed"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def tokens(text: str) -> list[str]:
    """Lower-cased, abbreviation-expanded, stemmed word tokens of ``text``."""
    out: list[str] = []
    for raw in _WORD.findall(text.lower().replace("_", " ")):
        word = _ABBREVIATIONS.get(raw, raw)
        out.append(stem(word))
    return out


def split_identifier(name: str) -> str:
    """'invoiceNumber' / 'invoice_number' -> 'invoice number'."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("_", " ").replace("-", " ")


def keywords(text: str) -> set[str]:
    return {t for t in tokens(text) if t not in STOPWORDS and not t.isdigit()}


# ---------------------------------------------------------------- dates

_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for m in names
}
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ymd", re.compile(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b")),
    (
        "dmy_text",
        re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?[ -]({_MONTH_RE})\.?,?[ -](\d{{4}})\b", re.I),
    ),
    (
        "mdy_text",
        re.compile(rf"\b({_MONTH_RE})\.? (\d{{1,2}})(?:st|nd|rd|th)?,? (\d{{4}})\b", re.I),
    ),
    ("dot", re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b")),
    ("slash", re.compile(r"\b(\d{1,2})[/-](\d{1,2})[/-](\d{4})\b")),
)


def _make_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def find_date(text: str, *, day_first: bool = False) -> tuple[dt.date, str] | None:
    """The first date in ``text`` and the substring it came from.

    Slash dates are read month-first (US) unless ``day_first`` or the first number exceeds 12.
    """
    best: tuple[int, dt.date, str] | None = None
    for kind, pattern in _DATE_PATTERNS:
        m = pattern.search(text)
        if m is None:
            continue
        a, b, c = m.groups()
        date: dt.date | None
        if kind == "ymd":
            date = _make_date(int(a), int(b), int(c))
        elif kind == "dmy_text":
            date = _make_date(int(c), _MONTHS[b.lower()], int(a))
        elif kind == "mdy_text":
            date = _make_date(int(c), _MONTHS[a.lower()], int(b))
        elif kind == "dot":
            date = _make_date(int(c), int(b), int(a))
        else:
            first, second = int(a), int(b)
            if day_first or first > 12:
                date = _make_date(int(c), second, first)
            else:
                date = _make_date(int(c), first, second)
        if date is not None and (best is None or m.start() < best[0]):
            best = (m.start(), date, m.group(0))
    return None if best is None else (best[1], best[2])


def prefers_day_first(text: str) -> bool:
    """True when some slash date in ``text`` only makes sense day-first (e.g. 23/04/2025)."""
    return any(int(m.group(1)) > 12 for m in re.finditer(r"\b(\d{1,2})/(\d{1,2})/\d{4}\b", text))


# ---------------------------------------------------------------- numbers and money

_SYMBOLS = (
    ("CA$", "CAD"),
    ("C$", "CAD"),
    ("A$", "AUD"),
    ("AU$", "AUD"),
    ("NZ$", "NZD"),
    ("US$", "USD"),
    ("HK$", "HKD"),
    ("S$", "SGD"),
    ("R$", "BRL"),
    ("$", "USD"),
    ("€", "EUR"),
    ("£", "GBP"),
    ("¥", "JPY"),
    ("₹", "INR"),
    ("₩", "KRW"),
    ("Fr.", "CHF"),
)
ISO_CODES = frozenset(
    [
        "USD",
        "EUR",
        "GBP",
        "JPY",
        "CAD",
        "AUD",
        "NZD",
        "CHF",
        "CNY",
        "HKD",
        "SGD",
        "SEK",
        "NOK",
        "DKK",
        "PLN",
        "CZK",
        "HUF",
        "INR",
        "BRL",
        "MXN",
        "ZAR",
        "KRW",
        "TRY",
        "AED",
        "SAR",
        "ILS",
        "THB",
        "MYR",
        "IDR",
        "PHP",
        "TWD",
        "RUB",
    ]
)
_CODE_RE = re.compile(r"(?<![A-Z])([A-Z]{3})(?![A-Z])")
_NUMBER_RE = re.compile(r"(?<![\w.,])[-−(]?\d[\d,.' \u00a0]*\d(?![\d])|(?<![\w.,])[-−(]?\d(?![\d])")


def parse_number(raw: str) -> float | None:
    """'1,234.56' / '1.234,56' / '1 234,56' / "1'234.56" / '(12.00)' -> float."""
    text = raw.strip().replace("\u00a0", " ").replace("'", "").replace("−", "-")
    negative = text.startswith(("-", "(")) and not text.startswith("(-")
    text = text.strip("-()").replace(" ", "")
    if not text or not re.fullmatch(r"[\d.,]+", text):
        return None
    last_dot, last_comma = text.rfind("."), text.rfind(",")
    if last_dot >= 0 and last_comma >= 0:
        decimal = "." if last_dot > last_comma else ","
    elif last_dot >= 0 or last_comma >= 0:
        sep = "." if last_dot >= 0 else ","
        head, _, tail = text.rpartition(sep)
        # one separator followed by exactly three digits groups thousands ("1,250", "2.500")
        grouping = text.count(sep) > 1 or (len(tail) == 3 and head not in ("", "0"))
        decimal = "" if grouping else sep
    else:
        decimal = ""
    if decimal == ",":
        text = text.replace(".", "").replace(",", ".")
    elif decimal == ".":
        text = text.replace(",", "")
    else:
        text = text.replace(",", "").replace(".", "")
    try:
        value = float(text)
    except ValueError:
        return None
    return -value if negative else value


def find_number(text: str) -> tuple[float, str] | None:
    """The last number in ``text`` (amounts sit right of their labels) and its substring."""
    found: tuple[float, str] | None = None
    for m in _NUMBER_RE.finditer(text):
        value = parse_number(m.group(0))
        if value is not None:
            found = (value, m.group(0).strip())
    return found


def currency_code(text: str) -> str | None:
    """An ISO 4217 code written in ``text``, or one implied by a currency symbol."""
    for m in _CODE_RE.finditer(text):
        if m.group(1) in ISO_CODES:
            return m.group(1)
    for symbol, code in _SYMBOLS:
        if symbol in text:
            return code
    return None


def find_money(text: str) -> tuple[float, str | None, str] | None:
    """(amount, ISO code or None, matched text) for the last amount in ``text``."""
    number = find_number(text)
    if number is None:
        return None
    return number[0], currency_code(text), number[1]
