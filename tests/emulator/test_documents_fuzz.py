"""Any text or bytes: read_document either raises DocumentError or every output validates."""

from __future__ import annotations

import itertools
from typing import Any

from extend_ai.types import ClassifyOutput, ExtractOutputJson, ParseRunOutput, SplitOutput
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extend_frames.emulator._documents import (
    DocumentError,
    classify_output,
    extract_output,
    parse_output,
    read_document,
    split_output,
)
from extend_frames.emulator.samples import (
    CLASSIFIER_CONFIG,
    INVOICE_EXTRACTOR_CONFIG,
    SPLITTER_CONFIG,
)

# Text shaped like documents: labels, colons, pipes, tabs, numbers, dates, currency signs.
_PIECES = st.sampled_from(
    ["Invoice #:", "Total", "Date:", "|", "\t", "  ", "\n", "\f", "#", "$", "€", "1,234.56",
     "12/31/2024", "31.12.2024", "Page 1 of 2", "(continued)", "Qty", "Amount", "---", ":"]
)  # fmt: skip
_TEXT = st.lists(st.one_of(_PIECES, st.text(max_size=12)), max_size=40).map("".join)
_NAMES = st.sampled_from(["a.txt", "a.md", "a.html", "a.csv", "a", "a.pdf", "a.xml"])


def _all_outputs(data: bytes, name: str) -> dict[str, Any] | None:
    try:
        doc = read_document(data, name)
    except DocumentError as exc:
        reason = exc.reason
        assert reason in {"CORRUPT_FILE", "FILE_TYPE_NOT_SUPPORTED"}
        return None
    assert doc.page_count >= 1
    return {
        "parse": parse_output(doc, {"chunkingStrategy": {"type": "section"}}),
        "extract": extract_output(doc, INVOICE_EXTRACTOR_CONFIG, file_id="file_1"),
        "classify": classify_output(doc, CLASSIFIER_CONFIG),
        "split": split_output(doc, SPLITTER_CONFIG, make_file_id=lambda _: "file_2"),
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_TEXT, name=_NAMES)
def test_any_text_gives_valid_outputs_or_a_document_error(text: str, name: str) -> None:
    out = _all_outputs(text.encode(), name)
    if out is None:
        return
    ParseRunOutput.model_validate(out["parse"])
    ExtractOutputJson.model_validate(out["extract"])
    ClassifyOutput.model_validate(out["classify"])
    SplitOutput.model_validate(out["split"])
    splits = out["split"]["splits"]
    assert splits[0]["startPage"] == 1
    assert all(a["endPage"] + 1 == b["startPage"] for a, b in itertools.pairwise(splits))
    value = out["extract"]["value"]
    assert set(value) == set(INVOICE_EXTRACTOR_CONFIG["schema"]["properties"])
    assert value["invoice_date"] is None or len(value["invoice_date"]) == 10


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=300), name=_NAMES)
def test_any_bytes_never_crash(data: bytes, name: str) -> None:
    _all_outputs(data, name)
