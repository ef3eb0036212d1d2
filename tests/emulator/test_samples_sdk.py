"""End to end through the emulator with the official SDK: the shipped processor configs are
accepted, and batch runs over sample files return what the ground truth says."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from extend_ai import Extend

from extend_frames.emulator import Emulator
from extend_frames.emulator.samples import (
    CLASSIFIER_CONFIG,
    INVOICE_EXTRACTOR_CONFIG,
    SPLITTER_CONFIG,
    generate_samples,
)


def test_sample_configs_and_files_through_the_emulator(
    emu: Emulator, sdk: Extend, tmp_path: Path
) -> None:
    samples = generate_samples(tmp_path, count=16, seed=21)
    truth = {r["path"]: r for r in pq.read_table(samples.ground_truth_path).to_pylist()}
    extractor = sdk.extractors.create(name="invoices", config=INVOICE_EXTRACTOR_CONFIG)
    classifier = sdk.classifiers.create(name="types", config=CLASSIFIER_CONFIG)
    splitter = sdk.splitters.create(name="packets", config=SPLITTER_CONFIG)

    uploads = {}
    for doc in samples.documents:
        if doc.doc_type in ("invoice", "packet") and not doc.truth.get("expected_failure"):
            data = (samples.directory / doc.path).read_bytes()
            uploads[doc.path] = sdk.files.upload(file=(doc.path, data, "application/octet-stream"))
    invoices = [p for p in uploads if truth[p]["doc_type"] == "invoice"]
    packets = [p for p in uploads if truth[p]["doc_type"] == "packet"]
    assert invoices
    assert packets

    ex_batch = sdk.extract_runs.create_batch(
        extractor={"id": extractor.id},
        inputs=[{"file": {"id": uploads[p].id}, "metadata": {"path": p}} for p in invoices],
    )
    cl_batch = sdk.classify_runs.create_batch(
        classifier={"id": classifier.id},
        inputs=[{"file": {"id": uploads[p].id}, "metadata": {"path": p}} for p in invoices],
    )
    sp_batch = sdk.split_runs.create_batch(
        splitter={"id": splitter.id},
        inputs=[{"file": {"id": uploads[p].id}, "metadata": {"path": p}} for p in packets],
    )
    assert emu.wait_idle()

    extract_runs = sdk.extract_runs.list(batch_id=ex_batch.id, max_page_size=100).data
    assert len(extract_runs) == len(invoices)
    for summary in extract_runs:
        run = sdk.extract_runs.retrieve(summary.id)
        row = truth[run.metadata["path"]]
        assert run.status == "PROCESSED"
        value = run.output.value  # type: ignore[union-attr]
        assert value["invoice_number"] == row["invoice_number"]
        assert value["invoice_date"] == row["invoice_date"].isoformat()
        assert value["total"] == {
            "amount": row["total_amount"],
            "iso_4217_currency_code": row["currency"],
        }
    classify_runs = sdk.classify_runs.list(batch_id=cl_batch.id, max_page_size=100).data
    assert len(classify_runs) == len(invoices)
    for summary in classify_runs:
        run = sdk.classify_runs.retrieve(summary.id)
        assert run.output is not None
        assert run.output.type == "invoice"
    split_runs = sdk.split_runs.list(batch_id=sp_batch.id, max_page_size=100).data
    assert len(split_runs) == len(packets)
    for summary in split_runs:
        run = sdk.split_runs.retrieve(summary.id)
        want = [(s["start_page"], s["end_page"]) for s in truth[run.metadata["path"]]["splits"]]
        got = [(s.start_page, s.end_page) for s in run.output.splits]  # type: ignore[union-attr]
        assert got == want
