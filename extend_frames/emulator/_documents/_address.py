"""Postal addresses: split "12 Main Street, Leeds LS1 4AP, United Kingdom" into parts.

Used when an extractor's schema has an address object whose parts carry no labels of their
own on the page (letterheads rarely say "City:"). Heuristics, general rather than exhaustive.
"""

from __future__ import annotations

import re

_COUNTRIES = {
    c.lower(): c
    for c in (
        "United States", "USA", "U.S.A.", "United Kingdom", "UK", "Germany", "France", "Canada",
        "Australia", "Switzerland", "Japan", "Spain", "Italy", "Netherlands", "Belgium", "Austria",
        "Sweden", "Norway", "Denmark", "Finland", "Ireland", "India", "China", "Brazil", "Mexico",
        "Singapore", "New Zealand", "South Africa", "Poland", "Portugal", "Luxembourg",
    )
}  # fmt: skip
_STREET_WORDS = re.compile(
    r"\b(street|st|road|rd|avenue|ave|way|lane|ln|square|sq|boulevard|blvd|drive|dr|place|pl|"
    r"court|ct|strasse|straße|rue|via|calle|highway|hwy|parkway|row|terrace|close)\b\.?",
    re.I,
)
_POSTAL = re.compile(
    r"\b([A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}"  # UK: LS1 4AP
    r"|[A-Z]\d[A-Z] ?\d[A-Z]\d"  # Canada: M5V 2T6
    r"|\d{3}-\d{4}"  # Japan: 530-0001
    r"|\d{5}-\d{4}|\d{4,6})\b"  # US ZIP+4, most others
)
_PLACE_WORD = re.compile(r"[^\W\d_]+(?:[.'-][^\W\d_]+)*\.?")  # "Saint-Denis", "St.", "O'Hare"
_STATE = re.compile(r"\b([A-Z]{2})\b")

# Schema property words -> address part.
PART_WORDS = {
    "street": "street",
    "line": "street",
    "address1": "street",
    "city": "city",
    "town": "city",
    "locality": "city",
    "postal": "postal_code",
    "zip": "postal_code",
    "postcode": "postal_code",
    "country": "country",
    "state": "state",
    "province": "state",
    "region": "state",
}


def looks_like_address(text: str) -> bool:
    """A line that could belong to a postal address (street, city + postcode, or country)."""
    text = text.strip()
    if ":" in text or "#" in text:
        return False  # a labelled value, not an address line
    if _STREET_WORDS.search(text) and re.search(r"\d", text):
        return True
    if all(p.strip().lower().rstrip(".") in _COUNTRIES for p in text.split(",") if p.strip()):
        return bool(text)
    postal = _POSTAL.search(text)
    if postal is None:
        return False
    rest = (text[: postal.start()] + text[postal.end() :]).replace(",", " ")
    words = rest.split()
    return 0 < len(words) <= 4 and all(_PLACE_WORD.fullmatch(w) for w in words)


def parse_address(lines: list[str]) -> dict[str, str]:
    """Parts found in ``lines``: street, city, postal_code, state, country (absent if unsure)."""
    parts = [p.strip() for line in lines for p in line.split(",") if p.strip()]
    out: dict[str, str] = {}
    rest: list[str] = []
    for part in parts:
        if "country" not in out and part.lower().rstrip(".") in _COUNTRIES:
            out["country"] = part
        elif "street" not in out and re.search(r"\d", part) and _STREET_WORDS.search(part):
            out["street"] = part
        else:
            rest.append(part)
    if "street" not in out:
        # "1 Infinite Loop", "Musterstraße 5": a house number before or after the name.
        street = re.compile(r"\d{1,5}[a-z]?\s+[^\d,]+|[^\d,]+\s\d{1,4}[a-z]?", re.I)
        found = next((p for p in rest if street.fullmatch(p)), None)
        if found is not None:
            out["street"] = found
            rest.remove(found)
    for part in rest:
        postal = _POSTAL.search(part)
        if postal and "postal_code" not in out:
            out["postal_code"] = postal.group(1)
            part = (part[: postal.start()] + part[postal.end() :]).strip()
            state = _STATE.search(part)
            if state and part.endswith(state.group(1)):
                out["state"] = state.group(1)
                part = part[: state.start()].strip()
        if part and "city" not in out and not re.search(r"\d", part):
            out["city"] = part
    return out
