"""The batch flow the library drives, for the four operations, checked response by response:
zero findings, and every endpoint the library calls was among the checked ones."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import extend_frames as xf
from extend_frames.emulator import Emulator

from ..jobs.conftest import FAST, create_processor, make_client
from ._tap import tapping

LIBRARY_ENDPOINTS = {
    "POST BatchRun",  # the four batch POSTs
    "GET BatchRun",  # polling
    "POST File",  # uploads of local files
    "GET ParseRunsListResponse",
    "GET ExtractRunsListResponse",
    "GET ClassifyRunsListResponse",
    "GET SplitRunsListResponse",
    "GET ParseRun",
    "GET ExtractRun",
    "GET ClassifyRun",
    "GET SplitRun",
    "GET ExtractorVersion",
    "GET ClassifierVersion",
    "GET SplitterVersion",
    "POST WebhookEndpointCreate",
    "DELETE WebhookEndpointsDeleteResponse",
    "POST ExtractRun",  # the single-run route
    "WEBHOOK WebhookEvent",  # batch events the webhook wait received
}


@pytest.mark.lenient_wire  # this test asserts on its own tap instead of the autouse one
def test_the_batch_flow_has_zero_findings(tmp_path: Path) -> None:
    local = tmp_path / "note.txt"
    local.write_text("Invoice INV-3\nTotal: 4.00\n")
    texts = ["Invoice INV-1\nTotal: 10.00", "Receipt R-2\nPaid 3.00", "__FAIL:CORRUPT_FILE"]
    with Emulator() as emu, tapping() as tap, xf.WebhookReceiver() as receiver:
        client = make_client(emu)
        # the batch route on purpose (small jobs would go through single runs under "auto")
        common = {"client": client, "polling": FAST, "progress": False, "route": "batch"}
        files = pl.DataFrame({"file": [str(local), "http://127.0.0.1:9/missing.pdf"]})
        rows = pl.DataFrame({"doc": texts})
        xf.parse(files, **common)
        xf.parse(rows, text_column="doc", **common)
        ex = create_processor(emu, "extractor")
        xf.extract(rows, processor=ex, text_column="doc", **common)
        xf.extract(
            rows, processor=ex, text_column="doc", wait="webhook", webhook=receiver, **common
        )
        xf.classify(
            rows, processor=create_processor(emu, "classifier"), text_column="doc", **common
        )
        xf.split(files, processor=create_processor(emu, "splitter"), **common)
        xf.extract(rows, processor=ex, text_column="doc", **{**common, "route": "single"})
    assert tap.report() == ""
    assert tap.found == []
    missing = LIBRARY_ENDPOINTS - set(tap.checked)
    assert not missing, f"not exercised: {missing}; checked {sorted(tap.checked)}"
    assert sum(tap.checked.values()) > 20
