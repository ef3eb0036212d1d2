"""Extraction that generalises: dates, amounts and labels in six languages, and layouts where
the value is not simply "label: value" (right of the label in another text run, under it in a
column, printed before it in the PDF's text order, a grand total among net and tax lines)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fpdf import FPDF

from extend_frames.emulator._documents import extract_output, read_document
from extend_frames.emulator._documents._text import (
    decimal_separator,
    find_date,
    find_money,
    label_keywords,
    language,
    parse_number,
    prefers_day_first,
)
from extend_frames.emulator.samples import INVOICE_EXTRACTOR_CONFIG


@pytest.mark.parametrize(
    ("text", "day_first", "expected"),
    [
        ("19 april 2014", False, "2014-04-19"),
        ("7. Mai 2014", False, "2014-05-07"),
        ("August 3, 2014", False, "2014-08-03"),
        ("August 3 , 2014", False, "2014-08-03"),  # pypdf splits the comma off
        ("Aug. 3rd, 2014", False, "2014-08-03"),
        ("3rd of August 2014", False, None),  # "of" between: not a date form we claim
        ("03.08.2014", False, "2014-08-03"),
        ("03.08.14", False, "2014-08-03"),
        ("2014-08-03", False, "2014-08-03"),
        ("2014/08/03", False, "2014-08-03"),
        ("3/8/2014", False, "2014-03-08"),  # US reading
        ("3/8/2014", True, "2014-08-03"),  # the document is day-first
        ("03/04/2014", True, "2014-04-03"),
        ("23/04/2014", False, "2014-04-23"),  # only one reading makes sense
        ("04/23/2014", True, "2014-04-23"),
        ("15-10-2015", False, "2015-10-15"),
        ("02 Juillet 2015", False, "2015-07-02"),
        ("1er mars 2015", False, "2015-03-01"),
        ("5 août 2014", False, "2014-08-05"),
        ("12 décembre 2019", False, "2019-12-12"),
        ("3 de agosto de 2014", False, "2014-08-03"),
        ("14 febrero 2021", False, "2021-02-14"),
        ("7 maggio 2020", False, "2020-05-07"),
        ("1 gennaio 2020", False, "2020-01-01"),
        ("21 maart 2016", False, "2016-03-21"),
        ("3 mei 2016", False, "2016-05-03"),
        ("12. März 2013", False, "2013-03-12"),
        ("3-Aug-2014", False, "2014-08-03"),
        ("Facture du 02 Juillet 2015 n°7", False, "2015-07-02"),
        ("31.02.2014", False, None),  # no such day
        ("Invoice 2014", False, None),
        ("INV-2014-0803", False, None),
    ],
)
def test_dates_in_written_and_numeric_forms(
    text: str, day_first: bool, expected: str | None
) -> None:
    found = find_date(text, day_first=day_first)
    assert (found[0].isoformat() if found else None) == expected


@pytest.mark.parametrize(
    ("raw", "decimal", "expected"),
    [
        ("1.234,56", None, 1234.56),
        ("1,234.56", None, 1234.56),
        ("1 234,56", None, 1234.56),
        ("1\u00a0234,56", None, 1234.56),
        ("1'234.56", None, 1234.56),
        ("12.345.678,90", None, 12345678.90),
        ("1.234", None, 1234.0),  # one separator and three digits: thousands...
        ("1.234", ".", 1.234),  # ...unless the document writes decimals with a point
        ("1,234", ",", 1.234),
        ("1,234", ".", 1234.0),
        ("3,89", None, 3.89),
        ("0,750", None, 0.75),  # "0," is never a thousands group
        ("(12.00)", None, -12.0),
        ("-8,79", None, -8.79),
        ("12.00-", None, -12.0),
        ("−5.00", None, -5.0),
        ("1939", None, 1939.0),
    ],
)
def test_numbers_with_either_decimal_convention(
    raw: str, decimal: str | None, expected: float
) -> None:
    assert parse_number(raw, decimal) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "amount", "code"),
    [
        ("45,93 EUR", 45.93, "EUR"),
        ("EUR 1.234,56", 1234.56, "EUR"),
        ("$4.11", 4.11, "USD"),
        ("USD 1,250.00", 1250.0, "USD"),
        ("1 234,56 EUR", 1234.56, "EUR"),
        ("CHF 1'240.50", 1240.5, "CHF"),
        ("Rs 1939", 1939.0, "INR"),
        ("₹ 319.00", 319.0, "INR"),
        ("£12.00", 12.0, "GBP"),
        ("29.99 € TTC", 29.99, "EUR"),
        ("24.99 5.00 29.99", 29.99, None),  # a table row: the last amount
        ("EUR1.234,56", 1234.56, "EUR"),
        ("1.810,80 euros", 1810.8, "EUR"),
    ],
)
def test_money_with_symbols_and_codes_either_side(
    text: str, amount: float, code: str | None
) -> None:
    found = find_money(text)
    assert found is not None
    assert found[0] == pytest.approx(amount)
    assert found[1] == code


def test_the_document_decides_the_decimal_separator_and_the_day_order() -> None:
    assert decimal_separator("Netto 31,00 BTW 6,51 Totaal 37,51") == ","
    assert decimal_separator("Subtotal 1,509.00 Total 1,810.80") == "."
    assert decimal_separator("no amounts here") is None
    assert prefers_day_first("Rechnungsdatum 03/04/2014, Betrag 12,00 EUR, Summe, Datum")
    assert not prefers_day_first("Invoice date 03/04/2014, total due, amount")
    assert prefers_day_first("Invoice date 03/04/2014, due 23/04/2014")  # 23 only reads d/m
    assert not prefers_day_first("Facture du 04/23/2014")  # 23 only reads m/d


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Rechnung Nr. 42 vom 7. Mai 2014, Gesamtbetrag und MwSt, zahlbar bis", "de"),
        ("Facture n° 42 du 2 juillet 2015, montant total TTC pour vous", "fr"),
        ("Factuur nummer, factuurdatum, totaal bedrag te betalen voor", "nl"),
        ("Factura número 42, fecha de factura, importe total para el", "es"),
        ("Fattura n. 42 del 3 maggio, importo totale della fattura per il", "it"),
        ("Invoice number 42, the invoice date and the total amount due", "en"),
    ],
)
def test_language_of_a_document(text: str, lang: str) -> None:
    assert language(text) == lang


@pytest.mark.parametrize(
    ("label", "concept"),
    [
        ("Invoice No.", {"invoice", "number"}),
        ("Invoice Number", {"invoice", "number"}),
        ("Invoice #", {"invoice", "number"}),
        ("Rechnungsnummer", {"invoice", "number"}),
        ("Rechnung Nr.", {"invoice", "number"}),
        ("Rechnungs-Nr.", {"invoice", "number"}),
        ("Rechnungsnr.", {"invoice", "number"}),
        ("Facture n°", {"invoice", "number"}),
        ("Numéro de facture", {"invoice", "number"}),
        ("N° de facture", {"invoice", "number"}),
        ("Factuurnummer", {"invoice", "number"}),
        ("Factuur nr.", {"invoice", "number"}),
        ("Factura n.º", {"invoice", "number"}),
        ("Número de factura", {"invoice", "number"}),
        ("Nº Factura", {"invoice", "number"}),
        ("Fattura n.", {"invoice", "number"}),
        ("Numero fattura", {"invoice", "number"}),
        ("N. fattura", {"invoice", "number"}),
        ("Rechnungsdatum", {"invoice", "date"}),
        ("Date de facture", {"invoice", "date"}),
        ("Factuurdatum", {"invoice", "date"}),
        ("Fecha de factura", {"invoice", "date"}),
        ("Data fattura", {"invoice", "date"}),
        ("Fälligkeitsdatum", {"due", "date"}),
        ("Date d'échéance", {"due", "date"}),
        ("Vervaldatum", {"due", "date"}),
        ("Fecha de vencimiento", {"due", "date"}),
        ("Data di scadenza", {"due", "date"}),
        ("Gesamtbetrag", {"total", "amount"}),
        ("Rechnungsbetrag", {"total", "amount"}),
        ("Montant total", {"total", "amount"}),
        ("Totaalbedrag", {"total", "amount"}),
        ("Importe total", {"total", "amount"}),
        ("Importo totale", {"total", "amount"}),
        ("Total TTC", {"total", "gross"}),
        ("Total HT", {"total", "net"}),
        ("Net à payer", {"net", "total", "due"}),
        ("Te betalen", {"total", "due"}),
        ("Zwischensumme", {"subtotal"}),
        ("MwSt.", {"tax"}),
        ("Kundennr.", {"customer", "number"}),
    ],
)
def test_labels_in_six_languages_become_the_schema_words(label: str, concept: set[str]) -> None:
    assert label_keywords(label) == concept


# ---------------------------------------------------------------- whole documents


def _pdf(runs: list[tuple[float, float, str, float]]) -> bytes:
    """A one-page PDF with text runs placed at (x, y) points, written in the order given."""
    pdf = FPDF(unit="pt", format="A4")
    pdf.add_page()
    for x, y, text, size in runs:
        pdf.set_font("Helvetica", "", size)
        pdf.text(x, y, text)
    return bytes(pdf.output())


def _invoice(data: bytes, name: str, config: dict[str, Any] | None = None) -> dict[str, Any]:
    doc = read_document(data, name)
    value: dict[str, Any] = extract_output(doc, config or INVOICE_EXTRACTOR_CONFIG, file_id=None)[
        "value"
    ]
    return value


def _fields(value: dict[str, Any]) -> tuple[Any, ...]:
    return (
        value["invoice_number"],
        value["invoice_date"],
        value["due_date"],
        value["total"]["amount"],
        value["total"]["iso_4217_currency_code"],
    )


# Label and value in separate text runs on one row; net, tax and gross totals.
GERMAN = [
    (60, 60, "Musterfirma GmbH", 16),
    (60, 140, "Rechnung", 14),
    (60, 170, "Rechnungsnr.", 9), (160, 170, "RE-2014-0815", 9),
    (360, 170, "Kundennr.", 9), (450, 170, "47774", 9),
    (60, 184, "Rechnungsdatum", 9), (160, 184, "7. Mai 2014", 9),
    (60, 198, "Zahlbar bis", 9), (160, 198, "21.05.2014", 9),
    (60, 240, "Pos.", 8), (100, 240, "Beschreibung", 8), (480, 240, "Betrag", 8),
    (60, 256, "1", 8), (100, 256, "Beratung", 8), (480, 256, "1.000,00", 8),
    (360, 300, "Nettobetrag", 9), (480, 300, "1.000,00 EUR", 9),
    (360, 314, "MwSt. 19 %", 9), (480, 314, "190,00 EUR", 9),
    (360, 328, "Gesamtbetrag", 9), (480, 328, "1.190,00 EUR", 9),
]  # fmt: skip

# French: values under their column labels; "Facture n° X du <date>"; HT / TVA / TTC.
FRENCH = [
    (60, 60, "Au bon moulin SARL", 16),
    (60, 120, "Facture n° FA-2017-0010 du 13 novembre 2017", 12),
    (60, 160, "Date d'échéance", 9), (200, 160, "Votre référence", 9),
    (60, 174, "13/12/2017", 9), (200, 174, "PO445", 9),
    (360, 300, "Total HT", 10), (470, 300, "624,90 EUR", 10),
    (360, 314, "TVA", 10), (470, 314, "46,25 EUR", 10),
    (360, 328, "Total TTC", 10), (470, 328, "671,15 EUR", 10),
]  # fmt: skip

# Dutch: a table of labels with the values on the row below.
DUTCH = [
    (60, 60, "Exact Belgium BVBA", 16),
    (60, 120, "Factuurnummer", 8), (180, 120, "Factuurdatum", 8), (300, 120, "Vervaldatum", 8),
    (60, 132, "16117778", 8), (180, 132, "21-04-2016", 8), (300, 132, "28-04-2016", 8),
    (360, 300, "Totaal excl. BTW", 8), (480, 300, "EUR 31,00", 8),
    (360, 312, "BTW 21%", 8), (480, 312, "EUR 6,51", 8),
    (360, 324, "Te betalen", 8), (480, 324, "EUR 37,51", 8),
]  # fmt: skip

# Spanish, written to the PDF value first, label second (jumbled text order).
SPANISH = [
    (60, 60, "Suministros Ibéricos S.L.", 16),
    (170, 120, "A-2021/117", 10), (60, 120, "Nº Factura:", 10),
    (170, 134, "14 de febrero de 2021", 10), (60, 134, "Fecha:", 10),
    (170, 148, "16/03/2021", 10), (60, 148, "Vencimiento:", 10),
    (470, 300, "1.000,00 EUR", 10), (360, 300, "Base imponible", 10),
    (470, 314, "210,00 EUR", 10), (360, 314, "IVA 21%", 10),
    (470, 328, "1.210,00 EUR", 10), (360, 328, "Importe total", 10),
]  # fmt: skip

ITALIAN = [
    (60, 60, "Forniture Rossi S.r.l.", 16),
    (60, 120, "Fattura n. 2020/042", 11),
    (60, 136, "Data: 7 maggio 2020", 10),
    (60, 150, "Scadenza: 06/06/2020", 10),
    (360, 300, "Imponibile", 10), (470, 300, "EUR 2.000,00", 10),
    (360, 314, "IVA 22%", 10), (470, 314, "EUR 440,00", 10),
    (360, 328, "Totale fattura", 10), (470, 328, "EUR 2.440,00", 10),
]  # fmt: skip

# English with a US date, the grand total among subtotal/tax, values a row lower (bigger font).
ENGLISH = [
    (60, 60, "Amazon Web Services Invoice", 16),
    (300, 110, "Invoice Number:", 8), (500, 110, "42183017", 8),
    (300, 122, "Invoice Date:", 8), (500, 122, "August 3 , 2014", 8),
    (300, 200, "Subtotal", 10), (500, 200, "$4.00", 10),
    (300, 214, "Tax", 10), (500, 214, "$0.11", 10),
    (300, 230, "Grand Total", 13), (500, 232, "$4.11", 15),
]  # fmt: skip


# German table layout: labels in a header row over their values, a due date in a sentence,
# no currency printed anywhere (a German invoice: euros), the company name repeated below.
GERMAN_TABLE = [
    (60, 50, "Lieferant GmbH", 14), (60, 64, "Lieferantenstraße 20 - 80333 München", 7),
    (60, 120, "Kunden AG Mitte", 10), (60, 132, "Kundenstraße 15", 10),
    (60, 200, "Rechnung", 14),
    (60, 220, "Rechnungsnummer", 8), (160, 220, "Rechnungsdatum", 8),
    (260, 220, "Kundennummer", 8), (360, 220, "Lieferdatum", 8),
    (60, 230, "471102", 8), (160, 230, "05.03.2013", 8), (260, 230, "GE2020211", 8),
    (360, 230, "06.03.2013", 8),
    (60, 260, "Pos.", 8), (90, 260, "Artikel", 8), (300, 260, "Menge", 8), (450, 260, "Betrag", 8),
    (60, 272, "1", 8), (90, 272, "Trennblätter A4", 8), (300, 272, "20", 8),
    (450, 272, "198,00", 8),
    (300, 332, "Nettobetrag", 8), (450, 332, "473,00", 8),
    (300, 344, "Umsatzsteuer", 8), (450, 344, "56,87", 8),
    (300, 356, "Bruttobetrag", 8), (450, 356, "529,87", 8),
    (60, 400, "Zahlbar innerhalb 30 Tagen netto bis 04.04.2013, 3% Skonto bis 15.03.2013", 8),
    (60, 700, "Lieferant GmbH - Geschäftsführer Hans Muster - HRB 12345", 6),
]  # fmt: skip

# English, the invoice block top right, "Balance Due" after "Total" and "Amount Paid".
ENGLISH_RIGHT = [
    (60, 50, "Globex Corporation", 14), (400, 50, "INVOICE", 18),
    (400, 80, "Invoice #", 9), (480, 80, "10042", 9),
    (400, 92, "Date", 9), (480, 92, "Jan 5, 2024", 9),
    (400, 104, "Due Date", 9), (480, 104, "Feb 4, 2024", 9),
    (60, 300, "Description", 9), (300, 300, "Qty", 9), (480, 300, "Amount", 9),
    (60, 312, "Consulting", 9), (300, 312, "10", 9), (480, 312, "$1,500.00", 9),
    (380, 340, "Subtotal", 9), (480, 340, "$1,500.00", 9),
    (380, 352, "Tax (8%)", 9), (480, 352, "$120.00", 9),
    (380, 364, "Total", 9), (480, 364, "$1,620.00", 9),
    (380, 376, "Amount Paid", 9), (480, 376, "$0.00", 9),
    (380, 388, "Balance Due", 9), (480, 388, "$1,620.00", 9),
]  # fmt: skip

# French with "N° :" and the date on one row, day-first slash dates, "Net à payer".
FRENCH_NUMERIC = [
    (60, 50, "ACME Services SAS", 14), (60, 100, "FACTURE", 16),
    (60, 130, "N° : F2024-118", 9), (300, 130, "Date : 05/02/2024", 9),
    (60, 142, "Échéance : 06/03/2024", 9),
    (300, 300, "Total HT", 9), (450, 300, "1 250,00 EUR", 9),
    (300, 312, "TVA 20 %", 9), (450, 312, "250,00", 9),
    (300, 324, "Net à payer", 9), (450, 324, "1 500,00 EUR", 9),
]  # fmt: skip


@pytest.mark.parametrize(
    ("runs", "expected"),
    [
        (GERMAN_TABLE, ("471102", "2013-03-05", "2013-04-04", 529.87, "EUR")),
        (ENGLISH_RIGHT, ("10042", "2024-01-05", "2024-02-04", 1620.0, "USD")),
        (FRENCH_NUMERIC, ("F2024-118", "2024-02-05", "2024-03-06", 1500.0, "EUR")),
        (GERMAN, ("RE-2014-0815", "2014-05-07", "2014-05-21", 1190.0, "EUR")),
        (FRENCH, ("FA-2017-0010", "2017-11-13", "2017-12-13", 671.15, "EUR")),
        (DUTCH, ("16117778", "2016-04-21", "2016-04-28", 37.51, "EUR")),
        (SPANISH, ("A-2021/117", "2021-02-14", "2021-03-16", 1210.0, "EUR")),
        (ITALIAN, ("2020/042", "2020-05-07", "2020-06-06", 2440.0, "EUR")),
        (ENGLISH, ("42183017", "2014-08-03", None, 4.11, "USD")),
    ],
    ids=["de-table", "en-right", "fr-numeric", "de", "fr", "nl", "es", "it", "en"],
)
@pytest.mark.parametrize("per_word", [False, True], ids=["runs", "word-runs"])
def test_invoices_in_six_languages_and_layouts(
    runs: list[tuple[float, float, str, float]], expected: tuple[Any, ...], per_word: bool
) -> None:
    """Also when the PDF writes one text run per word, as many PDF writers do."""
    runs = _word_runs(runs) if per_word else runs
    assert _fields(_invoice(_pdf(runs), "invoice.pdf")) == expected


def _word_runs(
    runs: list[tuple[float, float, str, float]],
) -> list[tuple[float, float, str, float]]:
    """The same text, each word its own run at the place it had."""
    pdf = FPDF(unit="pt", format="A4")
    out = []
    for x, y, text, size in runs:
        pdf.set_font("Helvetica", "", size)
        for word in text.split(" "):
            out.append((x, y, word, size))
            x += pdf.get_string_width(word + " ")
    return out


def test_a_schema_of_other_names_reads_the_same_labels() -> None:
    """Field concepts come from the schema's own names and types, not from one config."""
    config = {
        "schema": {
            "type": "object",
            "properties": {
                "invoiceNumber": {"type": ["string", "null"]},
                "issued": {
                    "type": ["string", "null"],
                    "extend:type": "date",
                    "extend:name": "invoice date",
                },
                "paymentDueDate": {"type": ["string", "null"], "extend:type": "date"},
                "totalAmount": {"type": ["number", "null"]},
                "customerNumber": {"type": ["string", "null"]},
            },
        }
    }
    value = _invoice(_pdf(GERMAN), "rechnung.pdf", config)
    assert value == {
        "invoiceNumber": "RE-2014-0815",
        "issued": "2014-05-07",
        "paymentDueDate": "2014-05-21",
        "totalAmount": 1190.0,
        "customerNumber": "47774",
    }


def test_text_invoices_read_alike() -> None:
    text = (
        "Factuur\n\nFactuurnummer:  2016-117\nFactuurdatum:  21 april 2016\n"
        "Vervaldatum:  5 mei 2016\n\nTotaal excl. BTW:  1.000,00\nBTW 21%:  210,00\n"
        "Totaalbedrag:  € 1.210,00\n"
    ).encode()
    value = _invoice(text, "factuur.txt")
    assert _fields(value) == ("2016-117", "2016-04-21", "2016-05-05", 1210.0, "EUR")


def test_a_bare_date_label_is_the_invoice_date_not_the_due_date() -> None:
    value = _invoice(b"Invoice No: 77\nDate: 2024-01-02\nTotal: 10.00 USD\n", "bare.txt")
    assert (value["invoice_date"], value["due_date"]) == ("2024-01-02", None)


def test_dates_follow_the_document_language() -> None:
    german = _invoice(b"Rechnung Nr.: 5\nDatum: 03/04/2014\nSumme: 12,00 EUR\n", "de.txt")
    english = _invoice(b"Invoice No.: 5\nDate: 03/04/2014\nTotal: 12.00 USD\n", "en.txt")
    assert german["invoice_date"] == dt.date(2014, 4, 3).isoformat()
    assert english["invoice_date"] == dt.date(2014, 3, 4).isoformat()


def test_two_labelled_values_on_one_row_stay_two_pairs() -> None:
    """'Invoice No: INV-0' and 'Date: 2024-01-02' side by side are not one label and value."""
    runs = [(60, 60, "Invoice No: INV-0", 9), (300, 60, "Date: 2024-01-02", 9)]
    runs += [(380, 200, "Total", 9), (480, 200, "1,234.50 USD", 9)]
    value = _invoice(_pdf(runs), "two.pdf")
    assert _fields(value) == ("INV-0", "2024-01-02", None, 1234.5, "USD")


@pytest.mark.parametrize(
    ("runs", "vendor"),
    [
        (GERMAN_TABLE, "Lieferant GmbH"),  # printed twice, the customer's AG once
        (ENGLISH_RIGHT, "Globex Corporation"),  # the first line, next to the title
        (FRENCH_NUMERIC, "ACME Services SAS"),
    ],
)
def test_the_vendor_is_the_company_the_document_names_as_issuer(
    runs: list[tuple[float, float, str, float]], vendor: str
) -> None:
    assert _invoice(_pdf(runs), "vendor.pdf")["vendor"]["name"] == vendor


def test_a_page_number_next_to_the_title_is_not_the_invoice_number() -> None:
    runs = [(60, 60, "INVOICE", 12), (450, 60, "Page 1 of 2", 12)]
    runs += [(60, 100, "Nr.", 9), (160, 100, "A-77", 9), (60, 112, "Datum", 9)]
    runs += [(160, 112, "02.01.2024", 9), (380, 200, "Summe", 9), (480, 200, "12,00", 9)]
    value = _invoice(_pdf(runs), "paged.pdf")
    assert _fields(value) == ("A-77", "2024-01-02", None, 12.0, "EUR")
