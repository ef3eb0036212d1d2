"""Text helpers: word tokens with light stemming, and parsers for dates, numbers and money.

These are deliberately general (no knowledge of the sample generator): the date parser knows
ISO, US (m/d/y), European (d.m.y, d/m/y when the day is over 12) and spelled-out month forms;
the money parser knows ISO codes, common currency symbols and both decimal conventions.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache

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


# ---------------------------------------------------------------- multilingual labels

# Label words of invoices in German, French, Dutch, Spanish and Italian (accents folded), and
# English variants, mapped to the English words extraction schemas use. Concept words, not
# document-specific phrases: "Rechnungsnummer", "N° de facture", "Numero fattura" all become
# {invoice, number}; "Total TTC", "Bruttobetrag" carry "gross", "Total HT" carries "net".
_LABEL_WORDS: dict[str, tuple[str, ...]] = {
    # the document
    "rechnung": ("invoice",), "facture": ("invoice",), "factuur": ("invoice",),
    "factura": ("invoice",), "fattura": ("invoice",), "faktura": ("invoice",),
    "fact": ("invoice",), "fatt": ("invoice",), "rg": ("invoice",), "re": ("invoice",),
    "avoir": ("credit", "note"),
    "gutschrift": ("credit", "note"), "creditnota": ("credit", "note"),
    # number, date, reference
    "nummer": ("number",), "numero": ("number",), "nro": ("number",), "n": ("number",),
    "nr": ("number",), "no": ("number",), "num": ("number",), "nb": ("number",), "id": ("number",),
    "datum": ("date",), "fecha": ("date",), "data": ("date",), "dated": ("date",),
    "referenz": ("reference",), "referentie": ("reference",), "referencia": ("reference",),
    "riferimento": ("reference",), "kenmerk": ("reference",),
    # due dates and payment
    "due": ("due",), "fallig": ("due",), "falligkeit": ("due",), "faellig": ("due",),
    "echeance": ("due",), "limite": ("due",), "verval": ("due",), "vervaldag": ("due", "date"),
    "vencimiento": ("due",), "vence": ("due",), "scadenza": ("due",),
    "zahlungsziel": ("due", "date"),
    "zahlbar": ("payable", "due"), "payable": ("payable", "due"),
    "betaalbaar": ("payable", "due"), "pagadero": ("payable", "due"),
    "zahlung": ("payment",), "paiement": ("payment",),
    "reglement": ("payment",), "betaling": ("payment",), "pago": ("payment",),
    "pagamento": ("payment",), "payer": ("total", "due"),
    "betalen": ("total", "due"), "zahlen": ("total", "due"), "pagar": ("total", "due"),
    "pagare": ("total", "due"), "uiterlijk": ("due",),
    # amounts
    "betrag": ("amount",), "montant": ("amount",), "bedrag": ("amount",), "importe": ("amount",),
    "importo": ("amount",), "monto": ("amount",), "somme": ("total",), "summe": ("total",),
    "som": ("total",), "totaal": ("total",), "totale": ("total",), "gesamt": ("total",),
    "endbetrag": ("total", "amount"), "zahlbetrag": ("total", "due"), "endsumme": ("total",),
    "grand": ("grand",), "gross": ("gross",), "brutto": ("gross",), "bruto": ("gross",),
    "ttc": ("gross",), "tvac": ("gross",), "incl": ("gross",), "inkl": ("gross",),
    "inclusive": ("gross",), "including": ("gross",), "lordo": ("gross",), "ivato": ("gross",),
    "net": ("net",), "netto": ("net",), "neto": ("net",), "ht": ("net",), "htva": ("net",),
    "excl": ("net",), "exkl": ("net",), "exclusive": ("net",), "excluding": ("net",),
    "imponibile": ("net",), "imponible": ("net",), "untaxed": ("net",),
    "zwischensumme": ("subtotal",), "subtotaal": ("subtotal",), "subtotale": ("subtotal",),
    "sous": ("sub",), "sub": ("sub",),
    "mwst": ("tax",), "ust": ("tax",), "tva": ("tax",), "btw": ("tax",), "iva": ("tax",),
    "vat": ("tax",), "gst": ("tax",), "steuer": ("tax",), "taxe": ("tax",), "taxes": ("tax",),
    "impuesto": ("tax",), "imposta": ("tax",), "igst": ("tax",), "cgst": ("tax",),
    "wahrung": ("currency",), "devise": ("currency",), "valuta": ("currency",),
    "moneda": ("currency",), "divisa": ("currency",),
    # parties
    "lieferant": ("vendor",), "fournisseur": ("vendor",), "leverancier": ("vendor",),
    "proveedor": ("vendor",), "fornitore": ("vendor",), "verkaufer": ("seller",),
    "vendeur": ("seller",), "verkoper": ("seller",), "vendedor": ("seller",),
    "venditore": ("seller",), "emetteur": ("issuer",), "aussteller": ("issuer",),
    "kunde": ("customer",), "client": ("customer",), "klant": ("customer",),
    "cliente": ("customer",), "acheteur": ("buyer",), "koper": ("buyer",),
    "comprador": ("buyer",), "destinatario": ("recipient",), "empfanger": ("recipient",),
    # other dates and numbers on invoices (so that they are not mistaken for the above)
    "bestellung": ("order",), "auftrag": ("order",), "commande": ("order",),
    "bestelling": ("order",), "pedido": ("order",), "ordine": ("order",),
    "lieferung": ("delivery",), "liefer": ("delivery",), "livraison": ("delivery",),
    "levering": ("delivery",), "entrega": ("delivery",), "consegna": ("delivery",),
    "leistung": ("service",), "prestation": ("service",), "ausstellung": ("issue",),
    "emission": ("issue",), "emision": ("issue",), "emissione": ("issue",),
    "rechnungsbetrag": ("total", "amount"), "factuurbedrag": ("total", "amount"),
    "steuernummer": ("tax", "number"), "konto": ("account",), "compte": ("account",),
    "rekening": ("account",), "cuenta": ("account",), "conto": ("account",),
    "adresse": ("address",), "adres": ("address",), "direccion": ("address",),
    "indirizzo": ("address",), "anschrift": ("address",), "sold": ("seller",),
    "aflever": ("delivery",), "afleveradres": ("delivery", "address"),
    "lieferadresse": ("delivery", "address"),
    "seite": ("page",), "pagina": ("page",), "blatt": ("page",),
}  # fmt: skip


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


_LABEL_STOPWORDS = _word_set(
    "de d di da del della dello dei degli la le les l du des au aux a un une et ou en y e el los "
    "las il lo al der die das dem den des ein eine und oder zu zum zur bis fur pour par sur te "
    "het een van op met voor con por para o i s"
)
# Words that read as connectors before a date: "Facture n° 42 du 2 juillet 2015".
DATE_CONNECTORS = frozenset({"du", "vom", "del", "dated", "dd", "le", "am", "van", "of"})
_FOLD = str.maketrans({"ß": "ss", "ø": "o", "æ": "ae", "œ": "oe", "ł": "l"})
_NUMBER_SIGN = re.compile(r"(?i)\b(n|nr|no|num)\s*[°º.]\s*|[°º#]|\bn\.\s*(?=\d)")


def fold(text: str) -> str:
    """Lower case without accents: 'Numéro' -> 'numero', 'Fälligkeit' -> 'falligkeit'."""
    text = unicodedata.normalize("NFKD", text.lower().translate(_FOLD))
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def _decompound(word: str) -> tuple[str, ...] | None:
    """German and Dutch compounds of known label words: 'rechnungsnummer' -> invoice number."""
    for i in range(len(word) - 2, 2, -1):
        head, tail = word[:i], word[i:]
        tail_words = _LABEL_WORDS.get(tail) or _LABEL_WORDS.get(stem(tail))
        if tail_words is None:
            continue
        for cut in (head, head[:-1] if head.endswith(("s", "n")) else "", head[:-2]):
            head_words = _LABEL_WORDS.get(cut)
            if head_words is None and len(cut) > 4:
                head_words = _decompound(cut)
            if head_words:
                return (*head_words, *tail_words)
    return None


def _label_words(word: str) -> tuple[str, ...]:
    if word in _LABEL_STOPWORDS:
        return ()
    if word in _LABEL_WORDS:
        return _LABEL_WORDS[word]
    if word.endswith("s") and word[:-1] in _LABEL_WORDS:  # "Rechnungs-Nr."
        return _LABEL_WORDS[word[:-1]]
    if len(word) > 6:
        parts = _decompound(word)
        if parts:
            return parts
    return (stem(_ABBREVIATIONS.get(word, word)),)


def label_keywords(text: str) -> frozenset[str]:
    """Keywords of a label or field name in any of the six languages, as English words."""
    return _label_keywords(_DIGITS.sub("0", text))  # digits never count: share the cache


_DIGITS = re.compile(r"\d+")


@lru_cache(maxsize=32768)
def _label_keywords(text: str) -> frozenset[str]:
    text = _NUMBER_SIGN.sub(" number ", fold(text).replace("_", " "))
    out: set[str] = set()
    for raw in re.findall(r"[a-z0-9]+", text):
        for word in _label_words(raw):
            if word not in STOPWORDS and not word.isdigit():
                out.add(word)
    return frozenset(out)


def language(text: str) -> str:
    """The likeliest of en, de, fr, nl, es, it for ``text`` (by common invoice words)."""
    words = re.findall(r"[a-z]+", fold(text[:20000]))
    counts = dict.fromkeys(_LANGUAGE_WORDS, 0)
    for word in words:
        for lang, vocabulary in _LANGUAGE_WORDS.items():
            if word in vocabulary:
                counts[lang] += 1
    return max(counts, key=lambda k: (counts[k], k == "en"))


_LANGUAGE_WORDS = {
    "en": _word_set(
        "the and invoice total due date amount to of for number bill from qty price tax "
        "subtotal balance paid payment terms thank you please description customer"
    ),
    "de": _word_set(
        "der die das und rechnung datum betrag summe mit fur bis nicht zu mwst ust netto "
        "brutto gesamt zahlbar nr kunde menge preis lieferung bitte vom seite ihre wir"
    ),
    "fr": _word_set(
        "le la les et facture du des de montant pour total ttc vous echeance tva ht payer "
        "reglement siret adresse client prix quantite designation conditions paiement"
    ),
    "nl": _word_set(
        "de het een en factuur datum bedrag totaal voor van te betalen btw factuurdatum "
        "vervaldatum klant aantal prijs omschrijving excl incl uw"
    ),
    "es": _word_set(
        "el la los las y factura fecha importe total para del con iva cliente cantidad "
        "precio vencimiento forma pago base imponible"
    ),
    "it": _word_set(
        "il la le e fattura data importo totale per del della di iva scadenza cliente "
        "quantita prezzo imponibile pagamento"
    ),
}

# ---------------------------------------------------------------- dates

# Month names and abbreviations in English, German, French, Dutch, Spanish and Italian
# (accents folded: 'août' -> 'aout', 'März' -> 'marz').
_MONTH_NAMES = (
    "jan january januar janner janvier janv januari enero ene gennaio gen",
    "feb february februar fevrier fevr fev februari febrero febbraio",
    "mar march marz maerz mars maart mrt marzo",
    "apr april avril avr abril abr aprile",
    "may mai mei mayo maggio mag",
    "jun june juni juin junio giugno giu",
    "jul july juli juillet juil julio luglio lug",
    "aug august aout augustus agosto ago",
    "sep sept september septembre septiembre setiembre settembre set",
    "oct october oktober okt octobre octubre ottobre ott",
    "nov november novembre noviembre",
    "dec december dezember dez decembre diciembre dic dicembre",
)
MONTHS = {name: i + 1 for i, names in enumerate(_MONTH_NAMES) for name in names.split()}
_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_YEAR = r"(\d{4}|\d{2})"
_DATE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ymd", re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")),
    (
        "dmy_text",
        re.compile(
            rf"(?<!\d)(\d{{1,2}})(?:st|nd|rd|th|er|e)?\.?[ -]*(?:de )?({_MONTH_RE})\b\.?,?"
            rf"[ -]*(?:de )?(\d{{4}}|\d{{2}})(?!\d)"
        ),
    ),
    (
        "mdy_text",
        re.compile(rf"\b({_MONTH_RE})\.? ?(\d{{1,2}})(?:st|nd|rd|th)?(?!\d) ?,? ?(\d{{4}})(?!\d)"),
    ),
    ("dot", re.compile(rf"(?<![\d.])(\d{{1,2}})\.(\d{{1,2}})\.{_YEAR}(?![\d])")),
    ("slash", re.compile(rf"(?<![\d/])(\d{{1,2}})[/-](\d{{1,2}})[/-]{_YEAR}(?![\d/])")),
)


def _make_date(year: int, month: int, day: int) -> dt.date | None:
    if year < 100:
        year += 2000 if year < 70 else 1900
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def find_date(text: str, *, day_first: bool = False) -> tuple[dt.date, str] | None:
    """The first date in ``text`` and the (accent-folded) substring it came from.

    Knows ISO dates, written months in six languages ("7. Mai 2014", "19 april 2014",
    "August 3, 2014", "3 de agosto de 2014") and numeric d.m.y / m/d/y forms: slash and dash
    dates are read day-first when ``day_first`` (or when the first number exceeds 12).
    """
    text = fold(text)
    best: tuple[int, dt.date, str] | None = None
    for kind, pattern in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            if best is not None and m.start() >= best[0]:
                break
            date = _date_of(kind, m.groups(), day_first=day_first)
            if date is not None:
                best = (m.start(), date, m.group(0))
                break
    return None if best is None else (best[1], best[2])


def _date_of(kind: str, groups: tuple[str, ...], *, day_first: bool) -> dt.date | None:
    a, b, c = groups
    if kind == "ymd":
        return _make_date(int(a), int(b), int(c))
    if kind == "dmy_text":
        return _make_date(int(c), MONTHS[b], int(a))
    if kind == "mdy_text":
        return _make_date(int(c), MONTHS[a], int(b))
    if kind == "dot":
        return _make_date(int(c), int(b), int(a))
    first, second = int(a), int(b)
    if (day_first or first > 12) and second <= 12:
        return _make_date(int(c), second, first)
    return _make_date(int(c), first, second)


def prefers_day_first(text: str) -> bool:
    """Whether numeric slash dates in ``text`` are day-first (03/04/2014 = 3 April).

    Evidence in order: a date that only reads one way (23/04/2025 or 04/23/2025), then the
    document's language (anything but English is day-first; English stays month-first, as
    US documents write it).
    """
    for m in re.finditer(r"(?<![\d/])(\d{1,2})[/-](\d{1,2})[/-]\d{2,4}(?![\d/])", text):
        first, second = int(m.group(1)), int(m.group(2))
        if first > 12 >= second:
            return True
        if second > 12 >= first:
            return False
    return language(text) != "en"


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
    ("zł", "PLN"),
)
_WORD_CURRENCIES = re.compile(r"\b(euros?|Rs\.?|INR|eur)(?![A-Za-z])", re.I)
ISO_CODES = _word_set(
    "USD EUR GBP JPY CAD AUD NZD CHF CNY HKD SGD SEK NOK DKK PLN CZK HUF INR BRL MXN ZAR KRW "
    "TRY AED SAR ILS THB MYR IDR PHP TWD RUB RON BGN ISK"
)
_CODE_RE = re.compile(r"(?<![A-Z])([A-Z]{3})(?![A-Z])")
_NUMBER_RE = re.compile(
    r"(?<![\d])(?<!\d[.,])[-−(]?[ ]?"
    r"(?:\d{1,3}(?:[ \u00a0\u202f'’]\d{3})+(?:[.,]\d{1,2})?(?!\d)|\d[\d,.]*\d|\d)"
    r"(?![\d])\)?(?:-(?![\d\w]))?"
)


def decimal_separator(text: str) -> str | None:
    """',' or '.' when the amounts of ``text`` mostly use it for decimals, else None."""
    comma = len(re.findall(r"\d,\d{2}(?![\d,.])", text))
    dot = len(re.findall(r"\d\.\d{2}(?![\d,.])", text))
    if comma > dot:
        return ","
    if dot > comma:
        return "."
    return None


def parse_number(raw: str, decimal: str | None = None) -> float | None:
    """'1,234.56' / '1.234,56' / '1 234,56' / "1'234.56" / '(12.00)' / '12.00-' -> float.

    One separator followed by exactly three digits groups thousands ("1,250", "2.500")
    unless ``decimal`` (the document's decimal separator) says it is the decimal point.
    """
    text = raw.strip().replace("−", "-")
    for space in ("\u00a0", "\u202f", "'", "’", " "):
        text = text.replace(space, "")
    negative = text.startswith(("-", "(")) or text.endswith("-")
    text = text.strip("-()")
    if not text or not re.fullmatch(r"\d[\d.,]*", text):
        return None
    last_dot, last_comma = text.rfind("."), text.rfind(",")
    if last_dot >= 0 and last_comma >= 0:
        point = "." if last_dot > last_comma else ","
    elif last_dot >= 0 or last_comma >= 0:
        sep = "." if last_dot >= 0 else ","
        head, _, tail = text.rpartition(sep)
        grouping = text.count(sep) > 1 or (
            len(tail) == 3 and head not in ("", "0") and decimal != sep
        )
        point = "" if grouping else sep
    else:
        point = ""
    other = "," if point == "." else "."
    if point:
        head, _, tail = text.rpartition(point)
        text = head.replace(other, "").replace(point, "") + "." + tail
    else:
        text = text.replace(",", "").replace(".", "")
    try:
        value = float(text)
    except ValueError:
        return None
    return -value if negative else value


def find_number(text: str, decimal: str | None = None) -> tuple[float, str] | None:
    """The last number in ``text`` (amounts sit right of their labels) and its substring."""
    found: tuple[float, str] | None = None
    for m in _NUMBER_RE.finditer(text):
        value = parse_number(m.group(0), decimal)
        if value is not None:
            found = (value, m.group(0).strip())
    return found


def currency_code(text: str) -> str | None:
    """An ISO 4217 code written in ``text``, or one implied by a currency symbol or word."""
    for m in _CODE_RE.finditer(text):
        if m.group(1) in ISO_CODES:
            return m.group(1)
    for symbol, code in _SYMBOLS:
        if symbol in text:
            return code
    word = _WORD_CURRENCIES.search(text)
    if word is not None:
        return "INR" if word.group(1).lower().startswith("rs") else "EUR"
    return None


def find_money(text: str, decimal: str | None = None) -> tuple[float, str | None, str] | None:
    """(amount, ISO code or None, matched text) for the last amount in ``text``."""
    number = find_number(text, decimal)
    if number is None:
        return None
    return number[0], currency_code(text), number[1]
