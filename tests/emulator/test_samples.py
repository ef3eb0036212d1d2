"""The sample corpus: determinism, ground truth, broken inputs, and the accuracy the emulator
reaches on it (extract >= 95% per invoice field, classify >= 95%, split >= 90% of packets)."""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from extend_frames.cli import main
from extend_frames.emulator._documents import (
    DocumentError,
    classify_output,
    extract_output,
    read_document,
    split_output,
)
from extend_frames.emulator.samples import (
    CLASSIFIER_CONFIG,
    INVOICE_EXTRACTOR_CONFIG,
    SPLITTER_CONFIG,
    SampleSet,
    generate_samples,
)

CORPUS_SIZE = 220


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> SampleSet:
    return generate_samples(tmp_path_factory.mktemp("corpus"), count=CORPUS_SIZE, seed=11)


@pytest.fixture(scope="module")
def truth(corpus: SampleSet) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = pq.read_table(corpus.ground_truth_path).to_pylist()
    return rows


def test_ground_truth_and_manifest_describe_every_file(
    corpus: SampleSet, truth: list[dict[str, Any]]
) -> None:
    table = pq.read_table(corpus.ground_truth_path)
    assert str(table.schema.field("invoice_date").type) == "date32[day]"
    assert str(table.schema.field("total_amount").type) == "double"
    assert len(truth) == CORPUS_SIZE + 4  # + corrupt, empty, encrypted, unsupported
    manifest = json.loads(corpus.manifest_path.read_text())
    assert manifest["seed"] == 11
    assert [f["path"] for f in manifest["files"]] == [r["path"] for r in truth]
    for entry in manifest["files"]:
        data = (corpus.directory / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    kinds = {r["doc_type"] for r in truth}
    assert {"invoice", "receipt", "bank_statement", "contract", "packet", "other"} <= kinds
    assert {r["file_type"] for r in truth if r["doc_type"] == "invoice"} >= {"PDF", "TXT", "HTML"}
    invoices = [r for r in truth if r["doc_type"] == "invoice" and not r["expected_failure"]]
    assert {r["page_count"] for r in invoices} == {1, 2, 3, 4}
    assert len({r["currency"] for r in invoices}) >= 5
    assert all(r["invoice_number"] and r["line_items"] for r in invoices)
    packets = [r for r in truth if r["doc_type"] == "packet"]
    for packet in packets:
        splits = packet["splits"]
        assert splits[0]["start_page"] == 1
        assert splits[-1]["end_page"] == packet["page_count"]
        assert all(a["end_page"] + 1 == b["start_page"] for a, b in itertools.pairwise(splits))


def test_broken_inputs_fail_with_the_recorded_reasons(
    corpus: SampleSet, truth: list[dict[str, Any]]
) -> None:
    broken = [r for r in truth if r["expected_failure"]]
    assert sorted(r["expected_failure"] for r in broken) == [
        "CORRUPT_FILE",
        "CORRUPT_FILE",
        "FILE_TYPE_NOT_SUPPORTED",
        "PASSWORD_PROTECTED_FILE",
    ]
    for row in broken:
        data = (corpus.directory / row["path"]).read_bytes()
        with pytest.raises(DocumentError) as info:
            read_document(data, row["path"])
        assert info.value.reason == row["expected_failure"], row["path"]
        if row["password"]:
            doc = read_document(data, row["path"], password=row["password"])
            value = extract_output(doc, INVOICE_EXTRACTOR_CONFIG, file_id=None)["value"]
            assert value["invoice_number"] == row["invoice_number"]


def _invoice_checks(value: dict[str, Any], row: dict[str, Any]) -> dict[str, bool]:
    return {
        "invoice_number": value["invoice_number"] == row["invoice_number"],
        "invoice_date": value["invoice_date"] == row["invoice_date"].isoformat(),
        "due_date": value["due_date"] == row["due_date"].isoformat(),
        "total_amount": value["total"]["amount"] == row["total_amount"],
        "currency": value["total"]["iso_4217_currency_code"] == row["currency"],
        "vendor": value["vendor"]["name"] == row["vendor_name"],
        "line_items": [
            (i["description"], i["quantity"], i["unit_price"], i["amount"])
            for i in value["line_items"]
        ]
        == [
            (i["description"], i["quantity"], i["unit_price"], i["amount"])
            for i in row["line_items"]
        ],
        "payment_status": value["payment_status"] == row["payment_status"],
        # the letterhead address, split into parts; all null when the invoice prints none
        "vendor_address": value["vendor"]["address"]
        == (row["vendor_address"] or dict.fromkeys(("street", "city", "postal_code", "country"))),
    }


@pytest.mark.slow
def test_accuracy_on_the_corpus(corpus: SampleSet, truth: list[dict[str, Any]]) -> None:
    started = time.perf_counter()
    hits: dict[str, int] = {}
    invoices = classified = packets = split_right = 0
    misses: list[str] = []
    for row in truth:
        if row["expected_failure"]:
            continue
        doc = read_document((corpus.directory / row["path"]).read_bytes(), row["path"])
        if row["doc_type"] == "packet":
            packets += 1
            out = split_output(doc, SPLITTER_CONFIG, make_file_id=lambda _: "file_x")
            got = [(s["startPage"], s["endPage"], s["type"]) for s in out["splits"]]
            want = [(s["start_page"], s["end_page"], s["doc_type"]) for s in row["splits"]]
            split_right += got == want
            if got != want:
                misses.append(f"{row['path']}: split {got} != {want}")
            continue
        kind = classify_output(doc, CLASSIFIER_CONFIG)["type"]
        classified += kind == row["doc_type"]
        if kind != row["doc_type"]:
            misses.append(f"{row['path']}: classified {kind}")
        if row["doc_type"] == "invoice":
            invoices += 1
            value = extract_output(doc, INVOICE_EXTRACTOR_CONFIG, file_id=None)["value"]
            for name, ok in _invoice_checks(value, row).items():
                hits[name] = hits.get(name, 0) + ok
                if not ok:
                    misses.append(f"{row['path']}: {name}")
    elapsed = time.perf_counter() - started
    singles = sum(1 for r in truth if not r["expected_failure"] and r["doc_type"] != "packet")
    rates = {name: n / invoices for name, n in hits.items()}
    print(f"\n{len(truth) - 4} documents processed in {elapsed:.1f}s; invoice field rates {rates}")
    print(f"classify {classified}/{singles}, split {split_right}/{packets}; misses: {misses[:20]}")
    assert invoices >= 80
    assert packets >= 20
    for name in (
        "invoice_number",
        "invoice_date",
        "due_date",
        "total_amount",
        "currency",
        "vendor",
    ):
        assert rates[name] >= 0.95, (name, misses)
    assert rates["line_items"] >= 0.9, misses
    assert rates["payment_status"] >= 0.9, misses
    assert rates["vendor_address"] >= 0.9, misses
    assert classified / singles >= 0.95, misses
    assert split_right / packets >= 0.90, misses


def test_same_seed_same_bytes_and_outputs(tmp_path: Path) -> None:
    a = generate_samples(tmp_path / "a", count=12, seed=5)
    b = generate_samples(tmp_path / "b", count=12, seed=5)
    c = generate_samples(tmp_path / "c", count=12, seed=6)
    names = sorted(p.name for p in a.directory.iterdir())
    assert names == sorted(p.name for p in b.directory.iterdir())
    for name in names:
        assert (a.directory / name).read_bytes() == (b.directory / name).read_bytes(), name
    assert a.manifest_path.read_bytes() != c.manifest_path.read_bytes()
    path = a.paths("invoice")[0]
    first = read_document(path.read_bytes(), path.name)
    second = read_document((b.directory / path.name).read_bytes(), path.name)
    assert extract_output(first, INVOICE_EXTRACTOR_CONFIG, file_id="f") == extract_output(
        second, INVOICE_EXTRACTOR_CONFIG, file_id="f"
    )


def test_generate_samples_rejects_a_zero_count(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        generate_samples(tmp_path, count=0, seed=1)


def test_cli_writes_a_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["samples", str(tmp_path / "out"), "--count", "3", "--seed", "2"]) == 0
    assert (tmp_path / "out" / "ground_truth.parquet").exists()
    assert "wrote 7 files" in capsys.readouterr().out
    assert main(["samples", str(tmp_path / "bad"), "--count", "0"]) == 2


_DIGEST = """
import hashlib, json, sys
from pathlib import Path
from extend_frames.emulator._documents import (
    classify_output, extract_output, parse_output, read_document, split_output)
from extend_frames.emulator.samples import (
    CLASSIFIER_CONFIG, INVOICE_EXTRACTOR_CONFIG, SPLITTER_CONFIG, generate_samples)
s = generate_samples(sys.argv[1], count=10, seed=4)
h = hashlib.sha256(s.manifest_path.read_bytes())
for d in s.documents:
    if d.truth.get("expected_failure"):
        continue
    doc = read_document((s.directory / d.path).read_bytes(), d.path)
    out = [parse_output(doc, {}), extract_output(doc, INVOICE_EXTRACTOR_CONFIG, file_id="f"),
           classify_output(doc, CLASSIFIER_CONFIG),
           split_output(doc, SPLITTER_CONFIG, make_file_id=lambda _: "file_x")]
    h.update(json.dumps(out, sort_keys=True).encode())
print(h.hexdigest())
"""


def test_files_and_outputs_do_not_depend_on_the_process(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run(
            [sys.executable, "-c", _DIGEST, str(tmp_path / hash_seed)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        digests.add(out.stdout.strip())
    assert len(digests) == 1
