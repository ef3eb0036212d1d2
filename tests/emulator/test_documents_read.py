"""read_document: file types by magic and name, text per page, and Extend's failure reasons."""

from __future__ import annotations

import pytest
from fpdf import FPDF

from extend_frames.emulator._documents import DocumentError, read_document


def _pdf(pages: list[list[str]], *, password: str | None = None) -> bytes:
    pdf = FPDF(unit="pt", format="letter")
    if password is not None:
        pdf.set_encryption(owner_password="owner", user_password=password)
    for lines in pages:
        pdf.add_page()
        pdf.set_font("Helvetica", "", 10)
        for line in lines:
            pdf.cell(0, 14, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _reason(data: bytes, name: str, **kwargs: object) -> DocumentError:
    with pytest.raises(DocumentError) as info:
        read_document(data, name, **kwargs)  # type: ignore[arg-type]
    return info.value


def test_pdf_text_per_page_with_geometry() -> None:
    doc = read_document(_pdf([["Hello page one", "second line"], ["Page two here"]]), "a.pdf")
    assert doc.file_type == "PDF"
    assert doc.page_count == 2
    assert doc.pages[0].text == "Hello page one\nsecond line"
    assert doc.pages[1].text == "Page two here"
    first, second = doc.pages[0].lines
    assert (doc.pages[0].width, doc.pages[0].height) == (612.0, 792.0)
    assert 0 < first.top < second.top < doc.pages[0].height  # origin top-left, y grows down
    assert first.left < first.right


def test_pdf_detected_by_magic_whatever_the_name() -> None:
    assert read_document(_pdf([["x marks"]]), "download").file_type == "PDF"


def test_text_formats() -> None:
    txt = read_document(b"first page\n\fsecond page", "notes.txt")
    assert txt.file_type == "TXT"
    assert [p.text for p in txt.pages] == ["first page", "second page"]
    md = read_document(b"# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n", "x.md")
    assert md.pages[0].lines[0].heading
    assert md.pages[0].lines[1].cells == ("a", "b")
    html = read_document(
        b"<html><head><style>p{}</style></head><body><h1>Hi &amp; bye</h1>"
        b"<table><tr><td>k</td><td>v</td></tr></table><script>x()</script></body></html>",
        "page.html",
    )
    assert html.file_type == "HTML"
    assert html.pages[0].text == "Hi & bye\nk v"
    assert "x()" not in html.pages[0].text
    csv = read_document(b'name,amount\n"Smith, J",12.50\n', "t.csv")
    assert csv.file_type == "CSV"
    assert csv.pages[0].lines[1].cells == ("Smith, J", "12.50")


def test_long_text_is_paged_near_3000_characters() -> None:
    text = "\n".join(f"line {i} " + "x" * 90 for i in range(100)).encode()
    doc = read_document(text, "long.txt")
    assert doc.page_count == 4
    assert all(len(p.text) <= 3100 for p in doc.pages)
    assert "line 0 " in doc.pages[0].text
    assert "line 99 " in doc.pages[-1].text


def test_empty_and_corrupt_files() -> None:
    assert _reason(b"", "e.pdf").reason == "CORRUPT_FILE"
    assert _reason(b"  \n", "e.txt").reason == "CORRUPT_FILE"
    damaged = _reason(b"%PDF-1.4\n" + bytes(range(256)) * 4, "bad.pdf")
    assert damaged.reason == "CORRUPT_FILE"
    assert "bad.pdf" in damaged.message
    assert _reason(b"just text", "fake.pdf").reason == "CORRUPT_FILE"
    assert _reason(b"abc\x00\x01\x02", "bin.txt").reason == "CORRUPT_FILE"


def test_unsupported_types_by_magic_and_by_name() -> None:
    assert _reason(b"PK\x03\x04rest", "archive.zip").reason == "FILE_TYPE_NOT_SUPPORTED"
    zip_named_pdf = _reason(b"PK\x03\x04rest", "looks.pdf")
    assert zip_named_pdf.reason == "FILE_TYPE_NOT_SUPPORTED"
    assert "ZIP" in zip_named_pdf.message
    assert _reason(b"MZ\x90\x00", "setup.exe").reason == "FILE_TYPE_NOT_SUPPORTED"
    assert _reason(b"plain words", "photo.png").reason == "FILE_TYPE_NOT_SUPPORTED"


def test_password_protected_pdf() -> None:
    data = _pdf([["secret invoice"]], password="s3cret")
    missing = _reason(data, "locked.pdf")
    assert missing.reason == "PASSWORD_PROTECTED_FILE"
    assert "password" in missing.message
    wrong = _reason(data, "locked.pdf", password="nope")
    assert wrong.reason == "PASSWORD_PROTECTED_FILE"
    assert "does not open" in wrong.message
    assert "s3cret" not in str(wrong)
    assert "nope" not in str(wrong)
    assert read_document(data, "locked.pdf", password="s3cret").pages[0].text == "secret invoice"


def test_limits() -> None:
    data = _pdf([["a"], ["b"], ["c"]])
    pages = _reason(data, "big.pdf", max_pages=2)
    assert pages.reason == "FILE_SIZE_TOO_LARGE"
    assert "3 pages" in pages.message
    assert _reason(data, "big.pdf", max_bytes=100).reason == "FILE_SIZE_TOO_LARGE"
    assert _reason(b"x" * 7000, "t.txt", max_pages=1).reason == "FILE_SIZE_TOO_LARGE"
    assert read_document(data, "ok.pdf", max_pages=3).page_count == 3


def test_xml_leaf_elements_read_as_labelled_lines() -> None:
    doc = read_document(
        b'<?xml version="1.0"?><Invoice><InvoiceNumber>INV-1</InvoiceNumber>'
        b'<Total currency="USD">12.50</Total></Invoice>',
        "invoice.xml",
    )
    assert doc.file_type == "XML"
    assert doc.pages[0].text == "Invoice Number: INV-1\nTotal: 12.50"
