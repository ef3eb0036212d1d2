"""Random but seeded document content: invoices, receipts, bank statements, contracts.

Each builder returns ``(pages, truth)``: the page elements for ``_render`` and the ground truth
the document carries. Layouts, label wordings, date and number formats, currencies and page
counts vary so that extraction is not trivial.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from ._render import Element

_ADJ = [
    "Northwind",
    "Blue Harbor",
    "Granite",
    "Silverline",
    "Redwood",
    "Summit",
    "Oakridge",
    "Bright Path",
    "Ironclad",
    "Meridian",
    "Polaris",
    "Cedar Grove",
    "Lakeside",
    "Horizon",
    "Evergreen",
    "Crescent",
    "Falcon",
    "Pinnacle",
    "Riverbend",
    "Starlight",
    "Keystone",
]
_NOUN = [
    "Traders",
    "Logistics",
    "Consulting",
    "Supplies",
    "Analytics",
    "Foods",
    "Systems",
    "Design Studio",
    "Engineering",
    "Media",
    "Robotics",
    "Outfitters",
    "Labs",
    "Partners",
    "Printing",
    "Hardware",
    "Software",
    "Textiles",
    "Energy",
    "Imports",
]
_SUFFIX = ["Ltd", "LLC", "Inc.", "GmbH", "S.A.", "Pty Ltd", "Co.", "Corporation", "AG", "plc"]
_PEOPLE = [
    "Jane Doe",
    "Omar Haddad",
    "Li Wei",
    "Maria Garcia",
    "John Smith",
    "Aiko Tanaka",
    "Priya Patel",
    "Lukas Becker",
    "Chloé Martin",
    "Sam Okafor",
    "Elena Rossi",
    "Noah Kim",
]
_STREETS = [
    "Main Street",
    "Harbour Road",
    "Elm Avenue",
    "Kings Way",
    "Market Square",
    "Station Road",
]
_CITIES = [
    ("Springfield", "62704", "United States"),
    ("Leeds", "LS1 4AP", "United Kingdom"),
    ("Munich", "80331", "Germany"),
    ("Lyon", "69002", "France"),
    ("Toronto", "M5V 2T6", "Canada"),
    ("Melbourne", "3000", "Australia"),
    ("Zurich", "8001", "Switzerland"),
    ("Osaka", "530-0001", "Japan"),
]
_ITEMS = [
    "Consulting services",
    "Software license",
    "Office chairs",
    "Printer toner",
    "Cloud hosting",
    "Data migration",
    "Support plan",
    "Laptop stand",
    "Network cabling",
    "Design review",
    "Training session",
    "Travel expenses",
    "Maintenance visit",
    "Copy paper (box)",
    "USB-C cables",
    "Monitor 27in",
    "Project management",
    "Security audit",
    "Catering",
    "Freight charges",
    "Installation",
    "Custom development",
    "Translation",
    "Photography",
    "Storage rental",
]

# currency -> (how amounts are written, decimals)
_CURRENCIES = {
    "USD": ("$", 2),
    "EUR": ("EUR", 2),
    "GBP": ("£", 2),
    "CAD": ("CA$", 2),
    "AUD": ("A$", 2),
    "CHF": ("CHF", 2),
    "JPY": ("¥", 0),
}

_NUMBER_LABELS = [
    "Invoice #",
    "Invoice No.",
    "Invoice Number",
    "Bill number",
    "Invoice ID",
    "Invoice no",
]
_DATE_LABELS = ["Invoice date", "Date", "Issue date", "Date of issue", "Dated", "Invoice Date"]
_DUE_LABELS = ["Due date", "Payment due", "Due", "Pay by", "Due Date"]
_TOTAL_LABELS = [
    "Total",
    "Total due",
    "Amount due",
    "Balance due",
    "Grand total",
    "TOTAL",
    "Total (incl. tax)",
]
_TITLES = ["INVOICE", "Invoice", "TAX INVOICE", "Commercial Invoice", "Sales Invoice"]
_VENDOR_LABELS = ["From", "Vendor", "Supplier", "Billed by", "Seller"]


def company(rng: random.Random) -> str:
    return f"{rng.choice(_ADJ)} {rng.choice(_NOUN)} {rng.choice(_SUFFIX)}"


def fmt_date(day: dt.date, style: str) -> str:
    if style == "iso":
        return day.isoformat()
    if style == "us":
        return day.strftime("%m/%d/%Y")
    if style == "dot":
        return day.strftime("%d.%m.%Y")
    if style == "long":
        return f"{day.strftime('%B')} {day.day}, {day.year}"
    return f"{day.day} {day.strftime('%b')} {day.year}"


def fmt_amount(value: float, currency: str, style: str, *, bare: bool = False) -> str:
    symbol, decimals = _CURRENCIES[currency]
    text = f"{value:,.{decimals}f}"
    if style == "eu":
        text = text.replace(",", "_").replace(".", ",").replace("_", ".")
    elif style == "fr":
        text = text.replace(",", "\u00a0").replace(".", ",").replace("\u00a0", " ")
    elif style == "ch":
        text = text.replace(",", "'")
    if bare:
        return text
    if symbol.isalpha():
        return f"{symbol} {text}" if style not in ("eu", "fr") else f"{text} {symbol}"
    return f"{symbol}{text}"


def _money(rng: random.Random, low: float, high: float, decimals: int) -> float:
    return round(rng.uniform(low, high), decimals)


def _address(rng: random.Random) -> tuple[str, str, str, str]:
    city, postal, country = rng.choice(_CITIES)
    return f"{rng.randint(1, 480)} {rng.choice(_STREETS)}", city, postal, country


def invoice(
    rng: random.Random, *, pages: int | None = None
) -> tuple[list[list[Element]], dict[str, Any]]:
    vendor = company(rng)
    customer = company(rng)
    currency = rng.choice(list(_CURRENCIES))
    decimals = _CURRENCIES[currency][1]
    local = {"EUR": rng.choice(["eu", "fr"]), "CHF": "ch"}.get(currency, "us")
    num_style = local if rng.random() < 0.8 else "us"
    date_style = rng.choice(["iso", "us", "dot", "long", "short"])
    issued = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randint(0, 1000))
    due = issued + dt.timedelta(days=rng.choice([7, 14, 30, 45, 60]))
    number = rng.choice(
        [
            f"INV-{issued.year}-{rng.randint(1, 9999):04d}",
            f"{issued.year}/{rng.randint(100, 99999)}",
            f"A-{rng.randint(10000, 99999)}",
            f"{rng.randint(100000, 999999)}",
            f"F{rng.randint(1000, 9999)}-{rng.randint(10, 99)}",
        ]
    )
    page_count = pages or rng.choices([1, 2, 3, 4], weights=[60, 22, 12, 6])[0]
    n_items = (
        rng.randint(2, 12)
        if page_count == 1
        else rng.randint(24 * (page_count - 1) + 4, 24 * (page_count - 1) + 16)
    )
    items: list[dict[str, Any]] = []
    for _ in range(n_items):
        qty = float(rng.choice([1, 1, 2, 3, 4, 5, 10, 12, 25]))
        price = (
            _money(rng, 5, 900, decimals) if currency != "JPY" else float(rng.randint(500, 90000))
        )
        items.append(
            {
                "description": rng.choice(_ITEMS),
                "quantity": qty,
                "unit_price": price,
                "amount": round(qty * price, decimals),
            }
        )
    subtotal = round(sum(i["amount"] for i in items), decimals)
    rate = rng.choice([0, 5, 7.5, 8, 10, 19, 20])
    tax = round(subtotal * rate / 100, decimals)
    total = round(subtotal + tax, decimals)
    street, city, postal, country = _address(rng)

    def money(value: float) -> str:
        return fmt_amount(value, currency, num_style)

    layout = rng.choice(
        [
            "classic",
            "grid",
            "title_first",
            "labelled_vendor",
            "two_column",
            "stacked",
            "title_number",
        ]
    )
    head: list[Element] = []
    title = rng.choice(_TITLES)
    labels = {
        "number": rng.choice(_NUMBER_LABELS),
        "date": rng.choice(_DATE_LABELS),
        "due": rng.choice(_DUE_LABELS),
        "total": rng.choice(_TOTAL_LABELS),
    }
    colon = rng.choice([":", ":", ""])
    if layout == "title_first":
        head += [("title", title, 22), ("title", vendor, 13)]
    elif layout == "two_column":
        # Address on the left, invoice details on the right of the same lines.
        widths = [250, 110, 150]
        head += [
            ("title", vendor, rng.choice([16, 18])),
            ("row", [street, labels["number"] + ":", number], widths, ["L", "L", "L"]),
            (
                "row",
                [f"{city} {postal}", labels["date"] + ":", fmt_date(issued, date_style)],
                widths,
                ["L", "L", "L"],
            ),
            (
                "row",
                [country, labels["due"] + ":", fmt_date(due, date_style)],
                widths,
                ["L", "L", "L"],
            ),
            ("gap", 8),
            ("title", title, 15),
        ]
    elif layout == "title_number":
        head += [
            ("title", vendor, 16),
            ("row", [f"{street}, {city} {postal}, {country}"], [400], ["L"]),
            ("gap", 8),
            ("title", f"{title} #{number}", 15),
        ]
    else:
        head += [
            ("title", vendor, rng.choice([16, 18, 20])),
            ("row", [f"{street}, {city} {postal}"], [400], ["L"]),
            ("row", [country], [400], ["L"]),
            ("gap", 8),
            ("title", title, 15),
        ]
    if layout == "labelled_vendor":
        head.append(("kv", rng.choice(_VENDOR_LABELS) + ":", vendor))
    show_currency = currency in ("USD", "GBP", "JPY") and rng.random() < 0.3
    if layout == "two_column":
        pass
    elif layout == "title_number":
        head += [
            ("kv", labels["date"] + colon, fmt_date(issued, date_style)),
            ("kv", labels["due"] + colon, fmt_date(due, date_style)),
        ]
    elif layout == "stacked":
        for label, value in (
            (labels["number"], number),
            (labels["date"], fmt_date(issued, date_style)),
            (labels["due"], fmt_date(due, date_style)),
        ):
            head += [("row", [label + ":"], [300], ["L"]), ("row", [value], [300], ["L"])]
    elif layout == "grid":
        head.append(("gap", 6))
        head.append(
            (
                "table",
                [labels["number"], labels["date"], labels["due"]],
                [[number, fmt_date(issued, date_style), fmt_date(due, date_style)]],
                [150, 150, 150],
                ["L", "L", "L"],
            )
        )
    else:
        head += [
            ("kv", labels["number"] + colon, number),
            ("kv", labels["date"] + colon, fmt_date(issued, date_style)),
            ("kv", labels["due"] + colon, fmt_date(due, date_style)),
        ]
        if rng.random() < 0.3:
            head.append(("kv", "PO Number" + colon, f"PO-{rng.randint(1000, 9999)}"))
    if currency not in ("USD", "GBP", "JPY") or show_currency:
        head.append(("kv", "Currency" + colon, currency))
    head += [
        ("gap", 8),
        ("heading", rng.choice(["Bill to", "Billed to", "Customer"])),
        ("row", [customer], [400], ["L"]),
        ("row", [rng.choice(_PEOPLE)], [400], ["L"]),
        ("gap", 8),
    ]
    if rng.random() < 0.3:  # a second address: the ship-to, not the vendor's
        ship_street, ship_city, ship_postal, ship_country = _address(rng)
        head += [
            ("heading", "Ship to"),
            ("row", [f"{ship_street}, {ship_city} {ship_postal}"], [400], ["L"]),
            ("row", [ship_country], [400], ["L"]),
            ("gap", 8),
        ]
    cols = rng.choice(
        [
            ["Description", "Qty", "Unit price", "Amount"],
            ["Item", "Quantity", "Rate", "Total"],
            ["Details", "Units", "Price", "Line total"],
            ["Service", "Hours", "Rate", "Amount"],
        ]
    )
    widths, aligns = [230, 60, 100, 110], ["L", "R", "R", "R"]
    rows = [
        [
            i["description"],
            f"{i['quantity']:g}",
            fmt_amount(i["unit_price"], currency, num_style, bare=True),
            fmt_amount(i["amount"], currency, num_style, bare=True),
        ]
        for i in items
    ]
    out_pages: list[list[Element]] = []
    per_page = [rows[: n_items - 24 * (page_count - 1)]] if page_count == 1 else []
    if page_count > 1:
        first = n_items - 24 * (page_count - 1)
        per_page = [rows[:first]] + [
            rows[first + 24 * k : first + 24 * (k + 1)] for k in range(page_count - 1)
        ]
    markers = rng.random() < 0.6
    for index, chunk in enumerate(per_page):
        page: list[Element] = (
            head
            if index == 0
            else [("row", [f"{title.title()} {number} (continued)"], [400], ["L"]), ("gap", 6)]
        )
        page = list(page)
        page.append(("table", cols, chunk, widths, aligns))
        if index == len(per_page) - 1:
            page += [
                ("gap", 10),
                ("row", ["Subtotal", money(subtotal)], [390, 110], ["R", "R"]),
                ("row", [f"Tax ({rate:g}%)", money(tax)], [390, 110], ["R", "R"]),
                ("row", [labels["total"], money(total)], [390, 110], ["R", "R"]),
                ("gap", 12),
            ]
            status = rng.choice(["paid", "unpaid", "unpaid"])
            if status == "paid":
                page.append(("para", "PAID - thank you for your payment."))
            else:
                page.append(
                    (
                        "para",
                        f"Please pay within {(due - issued).days} days. Bank transfer to "
                        f"IBAN DE{rng.randint(10**15, 10**16 - 1)}.",
                    )
                )
        if markers and page_count > 1:
            page += [("gap", 10), ("row", [f"Page {index + 1} of {page_count}"], [500], ["C"])]
        out_pages.append(page)
    truth = {
        "doc_type": "invoice",
        "invoice_number": number,
        "invoice_date": issued,
        "due_date": due,
        "total_amount": total,
        "currency": currency,
        "vendor_name": vendor,
        "vendor_address": None
        if layout == "title_first"
        else {"street": street, "city": city, "postal_code": postal, "country": country},
        "line_items": items,
        "payment_status": status,
    }
    return out_pages, truth


def receipt(rng: random.Random) -> tuple[list[list[Element]], dict[str, Any]]:
    store = company(rng).replace(" Ltd", " Store").replace(" LLC", " Market")
    currency = rng.choice(["USD", "GBP", "CAD", "AUD"])
    day = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randint(0, 1000))
    items = [
        (
            rng.choice(
                ["Coffee", "Bagel", "Notebook", "Batteries", "Water", "Sandwich", "Pens", "Tape"]
            ),
            rng.randint(1, 3),
            round(rng.uniform(1, 25), 2),
        )
        for _ in range(rng.randint(2, 8))
    ]
    subtotal = round(sum(q * p for _, q, p in items), 2)
    tax = round(subtotal * 0.08, 2)
    total = round(subtotal + tax, 2)
    page: list[Element] = [
        ("title", store, 16),
        ("row", [f"{_address(rng)[0]}, {_address(rng)[1]}"], [400], ["L"]),
        ("title", rng.choice(["RECEIPT", "Sales Receipt", "Payment Receipt", "Receipt"]), 14),
        ("kv", "Receipt #:", f"R{rng.randint(100000, 999999)}"),
        ("kv", "Date:", fmt_date(day, "us") + f" {rng.randint(8, 21)}:{rng.randint(0, 59):02d}"),
        ("kv", "Cashier:", rng.choice(_PEOPLE).split()[0]),
        (
            "table",
            ["Item", "Qty", "Price"],
            [[n, str(q), f"{p:.2f}"] for n, q, p in items],
            [250, 60, 100],
            ["L", "R", "R"],
        ),
        ("row", ["Subtotal", fmt_amount(subtotal, currency, "us")], [310, 100], ["R", "R"]),
        ("row", ["Sales tax", fmt_amount(tax, currency, "us")], [310, 100], ["R", "R"]),
        ("row", ["TOTAL PAID", fmt_amount(total, currency, "us")], [310, 100], ["R", "R"]),
        (
            "kv",
            "Paid by:",
            rng.choice(["VISA ****", "Mastercard ****", "Cash"]) + str(rng.randint(1000, 9999)),
        ),
        ("kv", "Change:", fmt_amount(0, currency, "us")),
        ("para", "Thank you for shopping with us! Keep this receipt for returns within 30 days."),
    ]
    return [page], {
        "doc_type": "receipt",
        "total_amount": total,
        "currency": currency,
        "vendor_name": store,
    }


def bank_statement(rng: random.Random) -> tuple[list[list[Element]], dict[str, Any]]:
    bank = rng.choice(
        [
            "First Meridian Bank",
            "Harbor Savings Bank",
            "Union Federal Bank",
            "Alpine Bank AG",
            "Crown Bank plc",
            "Pacific Coast Credit Union",
        ]
    )
    start = dt.date(2023, 1, 1) + dt.timedelta(days=30 * rng.randint(0, 30))
    end = start + dt.timedelta(days=29)
    balance = round(rng.uniform(200, 20000), 2)
    opening = balance
    page_count = rng.choices([1, 2, 3], weights=[50, 35, 15])[0]
    pages: list[list[Element]] = []
    account = f"****{rng.randint(1000, 9999)}"
    for index in range(page_count):
        rows = []
        for _ in range(rng.randint(10, 24)):
            amount = round(rng.uniform(-900, 1200), 2)
            balance = round(balance + amount, 2)
            day = start + dt.timedelta(days=rng.randint(0, 29))
            desc = rng.choice(
                [
                    "Card purchase",
                    "Direct deposit",
                    "ATM withdrawal",
                    "Transfer",
                    "Utility bill",
                    "Salary",
                    "Online payment",
                    "Interest",
                ]
            )
            rows.append(
                [
                    fmt_date(day, "us"),
                    desc,
                    f"{-amount:,.2f}" if amount < 0 else "",
                    f"{amount:,.2f}" if amount >= 0 else "",
                    f"{balance:,.2f}",
                ]
            )
        page: list[Element] = [("title", bank, 16)]
        if index == 0:
            page += [
                (
                    "title",
                    rng.choice(["Account Statement", "Bank Statement", "Statement of Account"]),
                    14,
                ),
                ("kv", "Account number:", account),
                ("kv", "Account holder:", rng.choice(_PEOPLE)),
                ("kv", "Statement period:", f"{fmt_date(start, 'us')} - {fmt_date(end, 'us')}"),
                ("kv", "Opening balance:", f"${opening:,.2f}"),
                ("gap", 6),
            ]
        else:
            page += [("row", [f"Statement {account} - transactions (continued)"], [400], ["L"])]
        page.append(
            (
                "table",
                ["Date", "Description", "Withdrawals", "Deposits", "Balance"],
                rows,
                [80, 160, 90, 90, 90],
                ["L", "L", "R", "R", "R"],
            )
        )
        if index == page_count - 1:
            page.append(("kv", "Closing balance:", f"${balance:,.2f}"))
        page += [("gap", 8), ("row", [f"Page {index + 1} of {page_count}"], [500], ["C"])]
        pages.append(page)
    return pages, {"doc_type": "bank_statement", "currency": "USD", "vendor_name": bank}


_CLAUSES = [
    "Scope of Services",
    "Term",
    "Fees and Payment",
    "Confidentiality",
    "Intellectual Property",
    "Warranties",
    "Limitation of Liability",
    "Termination",
    "Governing Law",
    "Notices",
]


def contract(rng: random.Random) -> tuple[list[list[Element]], dict[str, Any]]:
    a, b = company(rng), company(rng)
    day = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randint(0, 1000))
    title = rng.choice(
        [
            "SERVICE AGREEMENT",
            "Master Services Agreement",
            "Consulting Contract",
            "NON-DISCLOSURE AGREEMENT",
            "Supply Contract",
        ]
    )
    page_count = rng.choices([1, 2, 3, 4], weights=[30, 35, 25, 10])[0]
    clauses = list(_CLAUSES)
    rng.shuffle(clauses)
    pages: list[list[Element]] = []
    per_page = 3
    for index in range(page_count):
        page: list[Element] = []
        if index == 0:
            page += [
                ("title", title, 18),
                ("kv", "Agreement date:", fmt_date(day, "long")),
                (
                    "para",
                    f'This agreement (the "Contract") is made between {a} ("Provider") and {b} '
                    '("Client"). The parties agree to the following terms and conditions.',
                ),
            ]
        for k in range(per_page):
            number = index * per_page + k + 1
            name = clauses[(number - 1) % len(clauses)]
            page += [
                ("heading", f"{number}. {name}"),
                (
                    "para",
                    f"The {name.lower()} obligations of each party under this contract shall apply "
                    f"for the duration of the agreement. Either party may terminate this agreement "
                    f"with {rng.choice([30, 60, 90])} days written notice to the other party.",
                ),
            ]
        if index == page_count - 1:
            signed = rng.random() < 0.7
            page += [
                ("gap", 10),
                ("kv", "Signature:", "/s/ " + rng.choice(_PEOPLE) if signed else "______________"),
                ("kv", "Name:", rng.choice(_PEOPLE)),
                ("kv", "Title:", rng.choice(["CEO", "Director", "COO"])),
                ("kv", "Date signed:", fmt_date(day, "long")),
            ]
        pages.append(page)
    return pages, {"doc_type": "contract"}


_TOPICS = [
    "office move",
    "quarterly planning",
    "new coffee machine",
    "parking rules",
    "holiday schedule",
    "team offsite",
    "security badge renewal",
    "printer upgrade",
]


def memo(rng: random.Random) -> tuple[list[list[Element]], dict[str, Any]]:
    """An internal memo or meeting notes: a document none of the business types describe."""
    topic = rng.choice(_TOPICS)
    day = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randint(0, 1000))
    title = rng.choice(["MEMORANDUM", "Meeting notes", "Internal memo", "Team update"])
    page: list[Element] = [
        ("title", title, 16),
        ("kv", "To:", rng.choice(["All staff", "Engineering", "Operations team"])),
        ("kv", "From:", rng.choice(_PEOPLE)),
        ("kv", "Subject:", topic.capitalize()),
        ("kv", "Date:", fmt_date(day, "long")),
        (
            "para",
            f"This note covers the {topic}. Please read it before the next team meeting "
            f"and send questions to {rng.choice(_PEOPLE)}.",
        ),
        (
            "para",
            "Action items: confirm attendance, update the shared calendar, and bring "
            "ideas for the agenda. Thanks to everyone who helped organise this.",
        ),
    ]
    return [page], {"doc_type": "other"}
