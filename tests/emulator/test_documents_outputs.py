"""Parse / extract / classify / split outputs: SPEC shapes, SDK models, general extraction."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from extend_ai.types import ClassifyOutput, ExtractOutputJson, ParseRunOutput, SplitOutput
from fpdf import FPDF

from extend_frames.emulator._documents import (
    Document,
    DocumentError,
    classify_output,
    credits_for,
    extract_output,
    parse_output,
    read_document,
    split_output,
)
from extend_frames.emulator.samples import CLASSIFIER_CONFIG, SPLITTER_CONFIG

POLICY = b"""# Harbor Mutual Insurance

Policy No.:   HM-778-2291
Effective date:   14.03.2025
Expiry:   March 13, 2026
Annual premium:   CHF 1'240.50
Renewal:   yes
Coverage:   Comprehensive cover

## Insured

Name:   Lena Vogt
City:   Basel

| Vehicle | Plate | Value |
|---|---|---|
| VW Golf | BS 12345 | 18,500.00 |
| Vespa GTS | BS 777 | 4,200.00 |

Signature:   /s/ Lena Vogt
Title:   Policy holder
Date:   14.03.2025
"""

POLICY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "policy_number": {"type": ["string", "null"], "description": "Policy number"},
        "start": {
            "type": ["string", "null"],
            "extend:type": "date",
            "extend:name": "effective date",
        },
        "end_date": {"type": ["string", "null"], "extend:type": "date", "description": "expiry"},
        "premium": {
            "type": "object",
            "extend:type": "currency",
            "description": "annual premium",
            "properties": {
                "amount": {"type": ["number", "null"]},
                "iso_4217_currency_code": {"type": ["string", "null"]},
            },
        },
        "is_renewal": {"type": ["boolean", "null"], "description": "renewal"},
        "coverage": {
            "enum": ["comprehensive", "third_party", None],
            "extend:descriptions": ["Comprehensive cover", "Third-party only"],
        },
        "insured": {
            "type": "object",
            "properties": {
                "name": {"type": ["string", "null"]},
                "city": {"type": ["string", "null"]},
            },
        },
        "vehicles": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "vehicle": {"type": ["string", "null"]},
                    "plate": {"type": ["string", "null"], "description": "licence plate"},
                    "value": {"type": ["number", "null"]},
                },
            },
        },
        "signature": {
            "type": "object",
            "extend:type": "signature",
            "properties": {
                "printed_name": {"type": ["string", "null"]},
                "signature_date": {"type": ["string", "null"], "extend:type": "date"},
                "is_signed": {"type": ["boolean", "null"]},
                "title_or_role": {"type": ["string", "null"]},
            },
        },
        "broker": {"type": ["string", "null"], "description": "Insurance broker"},
    },
}


def _packet_pdf() -> bytes:
    pdf = FPDF(unit="pt", format="letter")
    pages = [
        ("INVOICE", ["Invoice #: A-1", "Amount due: $20.00"]),
        (None, ["Invoice A-1 (continued)", "more line items", "Page 2 of 2"]),
        ("Bank Statement", ["Opening balance: $10.00", "Deposits and withdrawals"]),
        ("SERVICE AGREEMENT", ["This contract sets terms between the parties."]),
    ]
    for title, lines in pages:
        pdf.add_page()
        if title:
            pdf.set_font("Helvetica", "B", 20)
            pdf.cell(0, 28, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        for line in lines:
            pdf.cell(0, 14, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


@pytest.fixture(scope="module")
def policy() -> Document:
    return read_document(POLICY, "policy.md")


@pytest.fixture(scope="module")
def packet() -> Document:
    return read_document(_packet_pdf(), "packet.pdf")


def test_parse_page_chunks_match_the_spec_and_the_sdk(packet: Document) -> None:
    out = parse_output(packet, {})
    ParseRunOutput.model_validate(out)
    chunks = out["chunks"]
    assert [c["metadata"]["pageRange"] for c in chunks] == [
        {"start": n, "end": n} for n in range(1, 5)
    ]
    first = chunks[0]
    assert first["type"] == "page"
    assert first["content"].startswith("# INVOICE")
    kinds = [b["type"] for b in first["blocks"]]
    assert kinds == ["heading", "key_value", "key_value"]
    block = first["blocks"][1]
    assert block["content"] == "Invoice #: A-1"
    assert block["metadata"]["page"] == {"number": 1, "width": 612.0, "height": 792.0}
    box = block["boundingBox"]
    assert 0 < box["left"] < box["right"] <= 612
    assert 0 < box["top"] < box["bottom"] <= 792
    assert [p["x"] for p in block["polygon"]] == [
        box["left"],
        box["right"],
        box["right"],
        box["left"],
    ]
    assert chunks[1]["blocks"][-1]["type"] == "page_number"
    ids = [b["id"] for c in chunks for b in c["blocks"]]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith("block_") for i in ids)
    assert parse_output(packet, {}) == out  # ids are a deterministic hash


def test_parse_tables_and_chunking_strategies(policy: Document) -> None:
    md = parse_output(policy, {"chunkingStrategy": {"type": "page"}})
    table = next(b for b in md["chunks"][0]["blocks"] if b["type"] == "table")
    assert table["content"].splitlines()[:2] == ["| Vehicle | Plate | Value |", "|---|---|---|"]
    assert table["details"] == {"type": "table_details", "rowCount": 3, "columnCount": 3}
    html = parse_output(policy, {"blockOptions": {"tables": {"targetFormat": "html"}}})
    html_table = next(b for b in html["chunks"][0]["blocks"] if b["type"] == "table")
    assert html_table["content"].startswith("<table><tr><th>Vehicle</th>")
    sections = parse_output(policy, {"chunkingStrategy": {"type": "section"}})
    ParseRunOutput.model_validate(sections)
    assert [c["type"] for c in sections["chunks"]] == ["section", "section"]
    assert sections["chunks"][1]["content"].startswith("## Insured")


def test_parse_document_chunk_spans_all_pages(packet: Document) -> None:
    out = parse_output(packet, {"chunkingStrategy": {"type": "document"}})
    ParseRunOutput.model_validate(out)
    (chunk,) = out["chunks"]
    assert chunk["type"] == "document"
    assert chunk["metadata"]["pageRange"] == {"start": 1, "end": 4}
    assert chunk["content"] == "\n\n".join(c["content"] for c in parse_output(packet, {})["chunks"])


def test_extract_fills_any_schema_by_labels(policy: Document) -> None:
    out = extract_output(policy, {"schema": POLICY_SCHEMA}, file_id="file_abc")
    ExtractOutputJson.model_validate(out)
    value = out["value"]
    assert value["policy_number"] == "HM-778-2291"
    assert value["start"] == "2025-03-14"  # found through extend:name, day-first dotted date
    assert value["end_date"] == "2026-03-13"
    assert value["premium"] == {"amount": 1240.5, "iso_4217_currency_code": "CHF"}
    assert value["is_renewal"] is True
    assert value["coverage"] == "comprehensive"
    assert value["insured"] == {"name": "Lena Vogt", "city": "Basel"}
    assert value["vehicles"] == [
        {"vehicle": "VW Golf", "plate": "BS 12345", "value": 18500.0},
        {"vehicle": "Vespa GTS", "plate": "BS 777", "value": 4200.0},
    ]
    assert value["signature"] == {
        "printed_name": "Lena Vogt",
        "signature_date": "2025-03-14",
        "is_signed": True,
        "title_or_role": "Policy holder",
    }
    assert value["broker"] is None


def test_extract_metadata_paths_and_citations(policy: Document) -> None:
    meta = extract_output(policy, {"schema": POLICY_SCHEMA}, file_id="file_abc")["metadata"]
    for path in ("policy_number", "insured.name", "vehicles", "vehicles[0]", "vehicles[1].plate"):
        assert path in meta, path
    citation = meta["policy_number"]["citations"][0]
    assert citation["fileId"] == "file_abc"
    assert citation["page"]["number"] == 1
    assert citation["referenceText"] == "Policy No.: HM-778-2291"
    assert 0 < meta["policy_number"]["logprobsConfidence"] <= 1
    assert meta["vehicles[1].plate"]["citations"][0]["referenceText"] == "Vespa GTS BS 777 4,200.00"
    assert meta["broker"] == {"ocrConfidence": None, "logprobsConfidence": None, "citations": []}


def test_extract_empty_schema_and_missing_everything() -> None:
    doc = read_document(b"nothing to see", "n.txt")
    assert extract_output(doc, {}, file_id=None) == {"value": {}, "metadata": {}}
    out = extract_output(doc, {"schema": POLICY_SCHEMA}, file_id=None)
    ExtractOutputJson.model_validate(out)
    assert out["value"]["vehicles"] == []
    assert out["value"]["premium"] == {
        "amount": None,
        "iso_4217_currency_code": None,
    }


def test_classify_scores_types_and_falls_back_to_other(packet: Document) -> None:
    out = classify_output(packet, CLASSIFIER_CONFIG)
    ClassifyOutput.model_validate(out)
    assert (out["id"], out["type"]) == ("invoice", "invoice")
    assert 0.5 <= out["confidence"] <= 0.99
    assert out["insights"][0]["type"] == "reasoning"
    recipe = read_document(b"Pancakes\n\nMix flour, eggs and milk. Fry.", "r.txt")
    assert classify_output(recipe, CLASSIFIER_CONFIG)["id"] == "other"


def test_split_finds_boundaries_titles_and_continuations(packet: Document) -> None:
    ids = iter(f"file_{i}" for i in range(10))
    out = split_output(packet, SPLITTER_CONFIG, make_file_id=lambda _: next(ids))
    SplitOutput.model_validate(out)
    got = [(s["startPage"], s["endPage"], s["classificationId"]) for s in out["splits"]]
    assert got == [(1, 2, "invoice"), (3, 3, "bank_statement"), (4, 4, "contract")]
    first = out["splits"][0]
    assert first["identifier"] == "A-1"
    assert first["fileId"] == "file_0"
    assert first["type"] == "invoice"
    assert "Pages 1-2" in first["observation"]


def test_outputs_are_deterministic_and_thread_safe(policy: Document, packet: Document) -> None:
    def run(_: int) -> tuple[Any, ...]:
        return (
            parse_output(packet, {}),
            extract_output(policy, {"schema": POLICY_SCHEMA}, file_id="f"),
            classify_output(packet, CLASSIFIER_CONFIG),
            split_output(packet, SPLITTER_CONFIG, make_file_id=lambda _: "file_x"),
        )

    expected = run(0)
    with ThreadPoolExecutor(4) as pool:
        assert all(r == expected for r in pool.map(run, range(8)))


def test_credits_per_page(packet: Document) -> None:
    assert credits_for("EXTRACT", packet) == credits_for("extract", packet)
    assert [credits_for(k, packet) for k in ("parse", "extract", "classify", "split")] == [
        4.0,
        8.0,
        4.0,
        4.0,
    ]


def test_page_ranges_restrict_every_run_type(packet: Document) -> None:
    only = {"advancedOptions": {"pageRanges": [{"start": 3, "end": 4}]}}
    parsed = parse_output(packet, only)
    assert [c["metadata"]["pageRange"]["start"] for c in parsed["chunks"]] == [3, 4]
    doc_chunk = parse_output(packet, {**only, "chunkingStrategy": {"type": "document"}})
    assert doc_chunk["chunks"][0]["metadata"]["pageRange"] == {"start": 3, "end": 4}
    config = {**SPLITTER_CONFIG, **only}
    splits = split_output(packet, config, make_file_id=lambda _: "file_x")["splits"]
    assert [(s["startPage"], s["type"]) for s in splits] == [(3, "bank_statement"), (4, "contract")]
    classified = classify_output(packet, {**CLASSIFIER_CONFIG, **only})
    assert classified["type"] in ("bank_statement", "contract")


def test_extract_options_citations_off_and_reasoning_insights(policy: Document) -> None:
    config = {
        "schema": POLICY_SCHEMA,
        "advancedOptions": {"citationsEnabled": False, "modelReasoningInsightsEnabled": True},
    }
    out = extract_output(policy, config, file_id="file_abc")
    ExtractOutputJson.model_validate(out)
    meta = out["metadata"]["policy_number"]
    assert meta["citations"] == []
    assert meta["insights"][0]["content"] == "Read from 'Policy No.: HM-778-2291' on page 1."
    assert out["metadata"]["broker"]["insights"][0]["content"] == "Not found in the document."


def test_extract_skips_total_rows_inside_item_tables() -> None:
    doc = read_document(
        b"| Item | Qty | Price |\n|---|---|---|\n| Tea | 2 | 3.50 |\n| Cake | 1 | 4.00 |\n"
        b"| | Total | 11.00 |\n",
        "bill.md",
    )
    schema = {
        "type": "object",
        "properties": {
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "item": {"type": ["string", "null"]},
                        "qty": {"type": ["integer", "null"]},
                        "price": {"type": ["number", "null"]},
                    },
                },
            },
            "total": {"type": ["number", "null"]},
        },
    }
    value = extract_output(doc, {"schema": schema}, file_id=None)["value"]
    assert value["items"] == [
        {"item": "Tea", "qty": 2, "price": 3.5},
        {"item": "Cake", "qty": 1, "price": 4.0},
    ]
    assert value["total"] == 11.0


def test_extract_aligns_pdf_rows_with_empty_cells_under_their_headers() -> None:
    import random

    from extend_frames.emulator._samples import _content
    from extend_frames.emulator._samples._render import to_pdf

    pages, _ = _content.bank_statement(random.Random(3))
    doc = read_document(to_pdf(pages), "statement.pdf")
    schema = {
        "type": "object",
        "properties": {
            "opening_balance": {"type": ["number", "null"]},
            "transactions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "date": {"type": ["string", "null"], "extend:type": "date"},
                        "description": {"type": ["string", "null"]},
                        "withdrawals": {"type": ["number", "null"]},
                        "deposits": {"type": ["number", "null"]},
                        "balance": {"type": ["number", "null"]},
                    },
                },
            },
        },
    }
    value = extract_output(doc, {"schema": schema}, file_id=None)["value"]
    rows = value["transactions"]
    assert len(rows) >= 10
    balance = value["opening_balance"]
    for row in rows:  # each row moves the running balance by exactly its one amount
        assert (row["withdrawals"] is None) != (row["deposits"] is None), row
        balance = round(balance - (row["withdrawals"] or 0) + (row["deposits"] or 0), 2)
        assert row["balance"] == balance, row
        assert row["date"] is not None


def test_csv_parses_to_one_markdown_table() -> None:
    doc = read_document(b"name,amount\nTea,3.50\nCake,\n", "prices.csv")
    (chunk,) = parse_output(doc, {})["chunks"]
    assert [b["type"] for b in chunk["blocks"]] == ["table"]
    assert chunk["content"] == "| name | amount |\n|---|---|\n| Tea | 3.50 |\n| Cake |  |"


STATEMENT_CSV = b",Bank statement,\n\nDate,Description,Amount\n2024-01-02,Coffee,3.50\n"


def test_csv_blocks_name_their_sheet_and_with_cell_metadata_their_cells() -> None:
    """A CSV is one sheet named after the file; a title standing alone between blank rows is a
    text block, and names its cell (A1 notation) only with excelIncludeCellMetadata."""
    doc = read_document(STATEMENT_CSV, "statement.csv")
    cells_on = {"advancedOptions": {"excelIncludeCellMetadata": True}}
    (chunk,) = parse_output(doc, cells_on)["chunks"]
    title, table = chunk["blocks"]
    assert (title["type"], title["content"], table["type"]) == ("text", "Bank statement", "table")
    assert title["details"] == {"type": "text_details", "cellReference": "B1"}
    assert {b["metadata"]["sheet"]["name"] for b in chunk["blocks"]} == {"statement"}
    assert {b["metadata"]["sheet"]["index"] for b in chunk["blocks"]} == {0}
    assert "cellReference" not in table["details"]  # TableDetails has no such key
    (plain,) = parse_output(doc, {})["chunks"]
    assert plain["blocks"][0]["details"] == {"type": "text_details"}
    ParseRunOutput.model_validate(parse_output(doc, cells_on))
    txt = read_document(STATEMENT_CSV, "statement.txt")
    assert all(
        "sheet" not in b["metadata"] for b in parse_output(txt, cells_on)["chunks"][0]["blocks"]
    )


def _workbook(sheets: dict[str, str], strings: list[str]) -> bytes:
    """A minimal .xlsx: ``sheets`` maps a sheet name to its ``<sheetData>`` XML."""
    import io
    import zipfile

    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    names = list(sheets)
    book = "".join(
        f'<sheet name="{n}" sheetId="{i + 1}" r:id="rId{i + 1}"/>' for i, n in enumerate(names)
    )
    rels = "".join(
        f'<Relationship Id="rId{i + 1}" Target="worksheets/sheet{i + 1}.xml" Type="ws"/>'
        for i in range(len(names))
    )
    shared = "".join(f"<si><t>{t}</t></si>" for t in strings)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>{book}</sheets></workbook>',
        )
        zf.writestr(
            "xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{pkg}">{rels}</Relationships>'
        )
        zf.writestr("xl/sharedStrings.xml", f'<sst xmlns="{main}">{shared}</sst>')
        for i, n in enumerate(names):
            zf.writestr(
                f"xl/worksheets/sheet{i + 1}.xml",
                f'<worksheet xmlns="{main}"><sheetData>{sheets[n]}</sheetData></worksheet>',
            )
    return out.getvalue()


def test_xlsx_sheets_are_pages_whose_blocks_name_their_sheet_and_cells() -> None:
    """Each worksheet is a page; blocks carry the sheet (workbook order, name) and, with cell
    metadata on, text blocks their cells. Shared, inline, boolean and number cells read as
    stored."""
    summary = '<row r="2"><c r="B2" t="s"><v>0</v></c></row>'
    table = (
        '<row r="1"><c r="A1" t="s"><v>1</v></c><c r="B1" t="inlineStr"><is><t>Paid</t></is></c>'
        '<c r="C1" t="s"><v>2</v></c></row>'
        '<row r="2"><c r="A2" t="s"><v>3</v></c><c r="B2" t="b"><v>1</v></c>'
        '<c r="C2"><v>3.5</v></c></row>'
    )
    data = _workbook(
        {"Summary": summary, "Items": table}, ["Quarterly report", "Item", "Amount", "Tea"]
    )
    doc = read_document(data, "report.xlsx")
    assert (doc.file_type, doc.page_count, doc.sheets) == ("EXCEL", 2, ("Summary", "Items"))
    out = parse_output(doc, {"advancedOptions": {"excelIncludeCellMetadata": True}})
    ParseRunOutput.model_validate(out)
    first, second = out["chunks"]
    (title,) = first["blocks"]
    assert (title["content"], title["details"]["cellReference"]) == ("Quarterly report", "B2")
    assert title["metadata"]["sheet"] == {"index": 0, "name": "Summary"}
    (items,) = second["blocks"]
    assert items["type"] == "table"
    assert items["metadata"]["sheet"] == {"index": 1, "name": "Items"}
    assert "| Tea | TRUE | 3.5 |" in items["content"]
    assert out["metadata"]["originalMimeType"].endswith("spreadsheetml.sheet")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"PK\x03\x04 not really a zip", "FILE_TYPE_NOT_SUPPORTED"),
        (
            _workbook({"S": '<row r="1"><c r="A1"><v>1</v></c></row>'}, [])[:200],
            "FILE_TYPE_NOT_SUPPORTED",
        ),
    ],
)
def test_broken_workbooks_fail_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(DocumentError) as caught:
        read_document(data, "broken.xlsx")
    assert caught.value.reason == reason


def test_a_workbook_part_with_a_dtd_is_refused() -> None:
    data = _workbook({"S": ""}, ["x"]).replace(b"<sst ", b"<!DOCTYPE sst []><sst ")
    with pytest.raises(DocumentError) as caught:
        read_document(data, "evil.xlsx")
    assert caught.value.reason == "CORRUPT_FILE"


def test_cell_ranges_span_rows_and_columns() -> None:
    from extend_frames.emulator._documents._model import Line
    from extend_frames.emulator._documents._parse import cell_range, column_name

    assert [column_name(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]
    lines = (Line(("a", "", "c"), 0, 0, 0, 0, row=2), Line(("", "b"), 0, 0, 0, 0, row=3))
    assert cell_range(lines) == "A2:C3"
    assert cell_range((Line(("x",), 0, 0, 0, 0),)) is None  # not from a spreadsheet


def test_address_parts_from_one_or_several_lines() -> None:
    from extend_frames.emulator._documents._address import parse_address

    assert parse_address(["1 Infinite Loop", "Cupertino, CA 95014", "USA"]) == {
        "street": "1 Infinite Loop",
        "city": "Cupertino",
        "state": "CA",
        "postal_code": "95014",
        "country": "USA",
    }
    assert parse_address(["Musterstraße 5, 80331 München, Germany"]) == {
        "street": "Musterstraße 5",
        "postal_code": "80331",
        "city": "München",
        "country": "Germany",
    }


def test_section_chunks_honour_min_and_max_characters() -> None:
    text = "\n\n".join(f"# Part {i}\n\n" + "word " * 40 for i in range(6)).encode()
    doc = read_document(text, "parts.md")
    plain = parse_output(doc, {"chunkingStrategy": {"type": "section"}})["chunks"]
    assert len(plain) == 6
    merged = parse_output(
        doc, {"chunkingStrategy": {"type": "section", "options": {"minCharacters": 400}}}
    )["chunks"]
    assert len(merged) == 3  # each section is ~210 characters: two per chunk
    assert all(c["content"].startswith("# Part") for c in merged)
    small = parse_output(
        doc, {"chunkingStrategy": {"type": "section", "options": {"maxCharacters": 100}}}
    )["chunks"]
    assert len(small) == 12  # a heading and its paragraph no longer fit together
    html_doc = read_document(b"| a<b | c |\n|---|---|\n| 1 | 2 |\n", "t.md")
    table = parse_output(html_doc, {"blockOptions": {"tables": {"targetFormat": "html"}}})
    assert table["chunks"][0]["content"].startswith("<table><tr><th>a&lt;b</th>")


@pytest.mark.parametrize(
    ("text", "number", "total", "date"),
    [
        (b"Invoice number INV-7 total 12.50", "INV-7", 12.5, None),
        (b"ACME Corp\nInvoice No. 4471 dated 3 March 2025", "4471", None, "2025-03-03"),
        (
            b"INVOICE #INV-123\nTotal due $1,234.00\nDate May 26, 2023",
            "INV-123",
            1234.0,
            "2023-05-26",
        ),
        (b"Receipt for coffee", None, None, None),
    ],
)
def test_extract_from_unseparated_free_text(
    text: bytes, number: str | None, total: float | None, date: str | None
) -> None:
    schema = {
        "type": "object",
        "properties": {
            "invoice_number": {"type": ["string", "null"]},
            "total": {"type": ["number", "null"]},
            "date": {"type": ["string", "null"], "extend:type": "date", "description": "dated"},
        },
    }
    value = extract_output(read_document(text, "t.txt"), {"schema": schema}, file_id=None)["value"]
    assert value == {"invoice_number": number, "total": total, "date": date}
