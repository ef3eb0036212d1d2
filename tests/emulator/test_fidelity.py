"""The emulator's fidelity decisions (docs/emulator-fidelity.md), one test per point; every
response here is also validated strictly against the SDK types by the autouse tap."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from extend_ai import Extend
from extend_ai.types import ParseRun

from extend_frames.emulator import Emulator, EmulatorConfig, Fidelity

from ..conformance._strict import findings
from .conftest import CLASSIFY_CONFIG, INVOICE_SCHEMA, SPLIT_CONFIG, raw_client

TEXT = "Invoice INV-7\nTotal: 12.50\n"


def _done(raw: httpx.Client, emu: Emulator, path: str) -> dict[str, Any]:
    assert emu.wait_idle()
    body: dict[str, Any] = raw.get(path).json()
    return body


def test_usage_breakdown_itemises_charges(emu: Emulator, raw: httpx.Client) -> None:
    ex = raw.post("/extractors", json={"name": "x", "config": {"schema": INVOICE_SCHEMA}}).json()
    run = raw.post("/extract_runs", json={"extractor": {"id": ex["id"]}, "file": {"text": TEXT}})
    full = _done(raw, emu, f"/extract_runs/{run.json()['id']}")
    breakdown = full["usage"]["breakdown"]
    assert [b["object"] for b in breakdown] == ["extract_run", "parse_run"]
    for entry in breakdown:
        (charge,) = entry["charges"]
        assert charge["unit"] == "page"
        assert charge["quantity"] == 1
        assert charge["credits"] == entry["credits"]  # sum(charges.credits) == credits
    assert breakdown[0]["charges"][0]["product"] == "extraction_performance"
    assert breakdown[1]["charges"][0]["product"] == "parse_performance"


def test_configs_come_back_effective(raw: httpx.Client) -> None:
    ex = raw.post("/extractors", json={"name": "x", "config": {"schema": INVOICE_SCHEMA}}).json()
    config = ex["draftVersion"]["config"]
    assert config["baseProcessor"] == "extraction_performance"
    assert config["baseVersion"]
    assert config["schema"] == INVOICE_SCHEMA
    cl = raw.post("/classifiers", json={"name": "c", "config": CLASSIFY_CONFIG}).json()
    assert cl["draftVersion"]["config"]["baseProcessor"] == "classification_standard"
    sp = raw.post("/splitters", json={"name": "s", "config": SPLIT_CONFIG}).json()
    split = sp["draftVersion"]["config"]
    assert split["baseProcessor"] == "splitting_performance"
    assert split["advancedOptions"]["strictIdentifierModeEnabled"] is True
    batch = raw.post("/parse_runs/batch", json={"inputs": [{"file": {"text": TEXT}}]}).json()
    (summary,) = raw.get("/parse_runs", params={"batchId": batch["id"]}).json()["data"]
    parse = raw.get(f"/parse_runs/{summary['id']}").json()["config"]
    assert parse["engine"] == "parse_performance"
    assert parse["engineVersion"] != "latest"
    assert parse["blockOptions"]["tables"]["targetFormat"] == "markdown"
    assert parse["advancedOptions"]["returnOcr"] == {"words": False}
    own = raw.post(
        "/parse_runs/batch",
        json={"inputs": [{"file": {"text": TEXT}}], "config": {"engine": "parse_light"}},
    ).json()
    (light,) = raw.get("/parse_runs", params={"batchId": own["id"]}).json()["data"]
    assert raw.get(f"/parse_runs/{light['id']}").json()["config"]["engine"] == "parse_light"


def test_verbatim_configs_switch() -> None:
    with (
        Emulator(EmulatorConfig(fidelity=Fidelity(effective_configs=False))) as emu,
        raw_client(emu) as raw,
    ):
        ex = raw.post("/extractors", json={"name": "x", "config": {"schema": INVOICE_SCHEMA}})
        assert ex.json()["draftVersion"]["config"] == {"schema": INVOICE_SCHEMA}


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("parse", "CORRUPT_FILE"), ("extract", "FAILED_TO_PROCESS_FILE")],
)
def test_fail_example_default_reason_is_one_the_kind_documents(
    emu: Emulator, raw: httpx.Client, kind: str, expected: str
) -> None:
    body: dict[str, Any] = {"inputs": [{"file": {"url": "https://fail.example/x.pdf"}}]}
    if kind == "extract":
        ex = raw.post("/extractors", json={"name": "x", "config": {"schema": INVOICE_SCHEMA}})
        body["extractor"] = {"id": ex.json()["id"]}
    batch = raw.post(f"/{kind}_runs/batch", json=body).json()
    assert emu.wait_idle()
    (run,) = raw.get(f"/{kind}_runs", params={"batchId": batch["id"]}).json()["data"]
    assert (run["status"], run["failureReason"]) == ("FAILED", expected)


def test_a_package_input_gets_a_message_that_names_it(raw: httpx.Client) -> None:
    ex = raw.post("/extractors", json={"name": "x", "config": {"schema": INVOICE_SCHEMA}}).json()
    resp = raw.post(
        "/extract_runs",
        json={"extractor": {"id": ex["id"]}, "package": {"files": [{"text": "a"}, {"text": "b"}]}},
    )
    assert resp.status_code == 400
    assert "package (multi-file) runs are not emulated" in resp.json()["message"]


def test_parse_output_metadata_and_ocr_lines(emu: Emulator, raw: httpx.Client) -> None:
    config = {"advancedOptions": {"returnOcr": {"lines": True}}}
    batch = raw.post(
        "/parse_runs/batch", json={"inputs": [{"file": {"text": TEXT}}], "config": config}
    ).json()
    assert emu.wait_idle()
    (summary,) = raw.get("/parse_runs", params={"batchId": batch["id"]}).json()["data"]
    output = raw.get(f"/parse_runs/{summary['id']}").json()["output"]
    assert output["metadata"] == {"originalMimeType": "text/plain", "finalMimeType": "text/plain"}
    lines = output["ocr"]["lines"]
    assert [ln["content"] for ln in lines] == ["Invoice INV-7", "Total: 12.50"]
    block_ids = {b["id"] for c in output["chunks"] for b in c["blocks"]}
    assert {ln["blockId"] for ln in lines} <= block_ids
    assert all(ln["pageNumber"] == 1 for ln in lines)


def test_pdf_parse_output_has_page_metadata(
    raw: httpx.Client, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from extend_frames.emulator.samples import generate_samples

    folder = tmp_path_factory.mktemp("pdfs")
    generate_samples(folder, count=8, seed=3)
    pdf = next(p for p in sorted(folder.rglob("*.pdf")) if "broken" not in p.name)
    up = raw.post("/files/upload", files={"file": (pdf.name, pdf.read_bytes())}).json()
    full = raw.post("/parse", json={"file": {"id": up["id"]}}).json()
    assert full["status"] == "PROCESSED", full["failureMessage"]
    meta = full["output"]["metadata"]
    assert meta["originalMimeType"] == "application/pdf"
    assert [p["number"] for p in meta["pages"]] == list(range(1, len(meta["pages"]) + 1))
    assert all(p["dpi"] == 72.0 for p in meta["pages"])
    assert all(p["rotationApplied"] == 0 for p in meta["pages"])
    assert "ocr" not in full["output"]  # lines only when returnOcr.lines is asked for


def test_synchronous_endpoints_answer_the_finished_run(emu: Emulator) -> None:
    sdk = Extend(token=emu.api_key, base_url=emu.url, httpx_client=httpx.Client(trust_env=False))
    ex = sdk.extractors.create(name="x", config={"schema": INVOICE_SCHEMA})
    cl = sdk.classifiers.create(name="c", config=CLASSIFY_CONFIG)
    sp = sdk.splitters.create(name="s", config=SPLIT_CONFIG)
    up = sdk.files.upload(file=("a.txt", TEXT.encode(), "text/plain"))
    parsed = sdk.parse(file={"id": up.id})
    assert parsed.status.value == "PROCESSED"
    assert parsed.output is not None
    extracted = sdk.extract(extractor={"id": ex.id}, file={"text": TEXT})
    assert extracted.status.value == "PROCESSED"
    assert extracted.output.value["invoice_number"] == "INV-7"  # type: ignore[union-attr]
    classified = sdk.classify(classifier={"id": cl.id}, file={"id": up.id})
    assert classified.status.value == "PROCESSED"
    assert classified.output is not None
    split = sdk.split(splitter={"id": sp.id}, file={"id": up.id})
    assert split.status.value == "PROCESSED"
    assert split.output is not None
    stats = emu.stats()["requests"]
    assert all(stats[f"POST /{k}"]["200"] == 1 for k in ("parse", "extract", "classify", "split"))


def test_legacy_batch_processor_run(emu: Emulator, raw: httpx.Client) -> None:
    sdk = Extend(token=emu.api_key, base_url=emu.url, httpx_client=httpx.Client(trust_env=False))
    ex = sdk.extractors.create(name="Invoices", config={"schema": INVOICE_SCHEMA})
    batch = sdk.extract_runs.create_batch(
        extractor={"id": ex.id}, inputs=[{"file": {"text": TEXT}}, {"file": {"text": TEXT}}]
    )
    assert emu.wait_idle()
    legacy = sdk.batch_processor_run.get(batch.id).batch_processor_run
    assert (legacy.id, legacy.processor_id, legacy.processor_name) == (batch.id, ex.id, "Invoices")
    assert (legacy.status.value, legacy.run_count) == ("PROCESSED", 2)
    parse_batch = raw.post("/parse_runs/batch", json={"inputs": [{"file": {"text": TEXT}}]})
    assert raw.get(f"/batch_processor_runs/{parse_batch.json()['id']}").status_code == 404


def test_a_parse_run_whose_file_never_arrived_has_a_null_file(
    emu: Emulator, raw: httpx.Client
) -> None:
    """Decision 1: file is null exactly when nothing was ingested (list, full run, SDK type)."""
    inputs = [{"file": {"url": "http://127.0.0.1:9/missing.pdf"}}, {"file": {"text": TEXT}}]
    batch = raw.post("/parse_runs/batch", json={"inputs": inputs}).json()
    assert emu.wait_idle()
    runs = raw.get("/parse_runs", params={"batchId": batch["id"]}).json()["data"]
    by_status = {r["status"]: r for r in runs}
    failed = raw.get(f"/parse_runs/{by_status['FAILED']['id']}").json()
    assert failed["file"] is None
    assert by_status["FAILED"]["file"] is None
    assert failed["failureReason"] == "UNABLE_TO_DOWNLOAD_FILE"
    assert by_status["PROCESSED"]["file"]["id"].startswith("file_")
    assert findings(ParseRun, failed) == []  # the one documented exception to the TS types


def test_effective_configs_fill_every_defaulted_option(raw: httpx.Client) -> None:
    """Rules, advanced options and parseConfig come back filled in; what was sent wins; options
    without a default (pageRanges) appear only when sent."""
    sent = {"schema": INVOICE_SCHEMA, "advancedOptions": {"citationMode": "word"}}
    ex = raw.post("/extractors", json={"name": "x", "config": sent}).json()
    config = ex["draftVersion"]["config"]
    assert config["extractionRules"] == ""
    assert config["advancedOptions"]["citationMode"] == "word"
    assert config["advancedOptions"]["currentDateEnabled"] is False
    assert "pageRanges" not in config["advancedOptions"]
    assert config["parseConfig"]["engine"] == "parse_performance"
    assert config["parseConfig"]["advancedOptions"]["verticalGroupingThreshold"] == 1.0
    cl = raw.post("/classifiers", json={"name": "c", "config": CLASSIFY_CONFIG}).json()
    assert cl["draftVersion"]["config"]["classificationRules"] == ""
    assert cl["draftVersion"]["config"]["advancedOptions"]["context"] == "default"
    ranges = [{"start": 1, "end": 2}]
    split_sent = {**SPLIT_CONFIG, "splitRules": "r", "advancedOptions": {"pageRanges": ranges}}
    sp = raw.post("/splitters", json={"name": "s", "config": split_sent}).json()
    split = sp["draftVersion"]["config"]
    assert split["splitRules"] == "r"
    assert split["advancedOptions"]["pageRanges"] == ranges
    assert split["advancedOptions"]["splitExcelDocumentsBySheetEnabled"] is False
    assert "parseConfig" in split


PACKET = "# INVOICE\nInvoice #: A-1\n\f# INVOICE\nPage two\n\f# BANK STATEMENT\nBalance: 9\n"


def test_split_sub_documents_are_files_that_name_their_split(
    emu: Emulator, raw: httpx.Client
) -> None:
    """Each split's fileId is a derivative file (parentFileId, metadata.parentSplit, its own
    pages numbered from 1); a run on it echoes the parent split in file.metadata."""
    config = {
        "splitClassifications": [
            {"id": "invoice", "type": "invoice", "description": "An invoice"},
            {"id": "statement", "type": "bank_statement", "description": "A bank statement"},
        ]
    }
    up = raw.post("/files/upload", files={"file": ("packet.md", PACKET.encode())}).json()
    run = raw.post("/split_runs", json={"file": {"id": up["id"]}, "config": config}).json()
    splits = _done(raw, emu, f"/split_runs/{run['id']}")["output"]["splits"]
    last = splits[-1]
    child = raw.get(f"/files/{last['fileId']}").json()
    assert child["parentFileId"] == up["id"]
    parent = child["metadata"]["parentSplit"]
    assert parent == {k: last[k] for k in ("id", "type", "identifier", "startPage", "endPage")}
    assert child["metadata"]["pageCount"] == last["endPage"] - last["startPage"] + 1
    parsed = raw.post("/parse_runs", json={"file": {"id": child["id"]}}).json()
    done = _done(raw, emu, f"/parse_runs/{parsed['id']}")
    assert done["file"]["metadata"]["parentSplit"] == parent
    assert [c["metadata"]["pageRange"]["start"] for c in done["output"]["chunks"]] == [1]
    assert "BANK STATEMENT" in done["output"]["chunks"][0]["content"]
    assert "A-1" not in done["output"]["chunks"][0]["content"]
