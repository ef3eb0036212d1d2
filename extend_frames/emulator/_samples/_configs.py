"""Processor configs that fit the sample corpus (docs/extend-api.md#processors), as plain dicts.

The demo, the tests and the benchmarks create extractors, classifiers and splitters from these.
Descriptions list the label wordings a reader should accept, as a real extractor's would.
"""

from __future__ import annotations

import copy
from typing import Any


def _nullable(kind: str, description: str, **extra: Any) -> dict[str, Any]:
    return {"type": [kind, "null"], "description": description, **extra}


def _currency(description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "extend:type": "currency",
        "description": description,
        "properties": {
            "amount": {"type": ["number", "null"]},
            "iso_4217_currency_code": {"type": ["string", "null"]},
        },
        "required": ["amount", "iso_4217_currency_code"],
        "additionalProperties": False,
    }


def _object(description: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


_INVOICE_SCHEMA: dict[str, Any] = _object(
    "An invoice",
    {
        "invoice_number": _nullable(
            "string", "The invoice number (invoice no., invoice #, invoice ID, bill number)"
        ),
        "invoice_date": _nullable(
            "string",
            "Date the invoice was issued (invoice date, issue date, dated)",
            **{"extend:type": "date"},
        ),
        "due_date": _nullable(
            "string",
            "Date payment is due (due date, payment due, pay by)",
            **{"extend:type": "date"},
        ),
        "vendor": _object(
            "The company issuing the invoice (vendor, supplier, seller, from, billed by)",
            {
                "name": _nullable("string", "Legal name of the vendor"),
                "address": _object(
                    "Vendor postal address",
                    {
                        "street": _nullable("string", "Street address"),
                        "city": _nullable("string", "City"),
                        "postal_code": _nullable("string", "Postal or ZIP code"),
                        "country": _nullable("string", "Country"),
                    },
                ),
            },
        ),
        "total": _currency(
            "Total amount due including tax (total due, amount due, balance due, grand total)"
        ),
        "subtotal": _currency("Sum of the line items before tax (subtotal)"),
        "tax": _currency("Tax or VAT amount"),
        "payment_status": {
            "enum": ["paid", "unpaid", None],
            "extend:descriptions": [
                "Marked as paid in full",
                "Payment still outstanding: the invoice asks the customer to pay by a date",
            ],
            "description": "Whether the invoice has been paid",
        },
        "line_items": {
            "type": "array",
            "description": "Invoice line items",
            "items": _object(
                "One line of the invoice",
                {
                    "description": _nullable(
                        "string", "What was sold (description, item, service, details)"
                    ),
                    "quantity": _nullable("number", "Quantity (qty, units, hours)"),
                    "unit_price": _nullable("number", "Price per unit (unit price, rate, price)"),
                    "amount": _nullable("number", "Line total (amount, line total, total)"),
                },
            ),
        },
    },
)

INVOICE_EXTRACTOR_CONFIG: dict[str, Any] = {
    "baseProcessor": "extraction_performance",
    "extractionRules": "Amounts are in the invoice currency. Dates as written on the invoice.",
    "schema": _INVOICE_SCHEMA,
    "advancedOptions": {"citationsEnabled": True},
}

_CLASSIFICATIONS: list[dict[str, Any]] = [
    {
        "id": "invoice",
        "type": "invoice",
        "description": "An invoice or bill requesting payment for goods or services, "
        "with an invoice number, a due date, line items and an amount due.",
    },
    {
        "id": "receipt",
        "type": "receipt",
        "description": "A receipt from a store or merchant confirming a purchase already paid: "
        "cashier, card, cash, change, thank you.",
    },
    {
        "id": "bank_statement",
        "type": "bank_statement",
        "description": "A bank account statement for a period listing transactions, deposits, "
        "withdrawals, an opening balance and a closing balance.",
    },
    {
        "id": "contract",
        "type": "contract",
        "description": "A contract or agreement between parties setting out terms, clauses, "
        "obligations, termination and signatures.",
    },
    {"id": "other", "type": "other", "description": "Any other document."},
]

CLASSIFIER_CONFIG: dict[str, Any] = {
    "baseProcessor": "classification_performance",
    "classifications": _CLASSIFICATIONS,
}

_IDENTIFIERS = {
    "invoice": "invoice number",
    "receipt": "receipt number",
    "bank_statement": "account number",
    "contract": "agreement date",
}

SPLITTER_CONFIG: dict[str, Any] = {
    "baseProcessor": "splitting_performance",
    "splitClassifications": [
        {**c, **({"identifierKey": _IDENTIFIERS[c["id"]]} if c["id"] in _IDENTIFIERS else {})}
        for c in _CLASSIFICATIONS
    ],
}


def invoice_extractor_config() -> dict[str, Any]:
    """A fresh copy of INVOICE_EXTRACTOR_CONFIG (safe to modify)."""
    return copy.deepcopy(INVOICE_EXTRACTOR_CONFIG)


def classifier_config() -> dict[str, Any]:
    """A fresh copy of CLASSIFIER_CONFIG (safe to modify)."""
    return copy.deepcopy(CLASSIFIER_CONFIG)


def splitter_config() -> dict[str, Any]:
    """A fresh copy of SPLITTER_CONFIG (safe to modify)."""
    return copy.deepcopy(SPLITTER_CONFIG)
