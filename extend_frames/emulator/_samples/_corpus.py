"""generate_samples: a seeded corpus of documents, broken inputs and a ground-truth table."""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import _content
from ._render import Element, to_pdf, to_text

GENERATOR_VERSION = "1"
_KINDS = [
    ("invoice", 44),
    ("receipt", 14),
    ("bank_statement", 12),
    ("contract", 12),
    ("packet", 14),
    ("other", 4),
]
_PACKET_PARTS = ["invoice", "receipt", "bank_statement", "contract"]
BROKEN_PASSWORD = "open-sesame"  # noqa: S105  # recorded in the ground truth, as the brief asks


@dataclass(frozen=True, slots=True)
class SampleDocument:
    """One generated file and its ground truth (``truth`` keys as in the Parquet table)."""

    path: str  # relative to the sample directory
    doc_type: str
    truth: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SampleSet:
    """Where a generated corpus lives: the files, ``ground_truth.parquet`` and ``manifest.json``."""

    directory: Path
    ground_truth_path: Path
    manifest_path: Path
    documents: tuple[SampleDocument, ...]

    def paths(self, doc_type: str | None = None) -> list[Path]:
        """Absolute paths of the documents (optionally of one ``doc_type``)."""
        return [self.directory / d.path for d in self.documents if doc_type in (None, d.doc_type)]


def _schedule(rng: random.Random, count: int) -> list[str]:
    """Document kinds in the _KINDS proportions (exact up to rounding), in shuffled order."""
    total = sum(w for _, w in _KINDS)
    kinds = [k for k, w in _KINDS for _ in range(round(count * w / total))]
    kinds = (kinds + ["invoice"] * count)[:count]
    rng.shuffle(kinds)
    return kinds


def _build(kind: str, rng: random.Random) -> tuple[list[list[Element]], dict[str, Any]]:
    if kind == "invoice":
        return _content.invoice(rng)
    if kind == "receipt":
        return _content.receipt(rng)
    if kind == "bank_statement":
        return _content.bank_statement(rng)
    if kind == "other":
        return _content.memo(rng)
    return _content.contract(rng)


def _packet(rng: random.Random) -> tuple[list[list[Element]], dict[str, Any]]:
    pages: list[list[Element]] = []
    parts = []
    for _ in range(rng.randint(2, 4)):
        kind = rng.choice(_PACKET_PARTS)
        if kind == "invoice":
            doc_pages, truth = _content.invoice(rng, pages=rng.choice([1, 1, 2]))
        else:
            doc_pages, truth = _build(kind, rng)
        start = len(pages) + 1
        pages.extend(doc_pages)
        parts.append(
            {
                "start_page": start,
                "end_page": len(pages),
                "doc_type": kind,
                "invoice_number": truth.get("invoice_number"),
            }
        )
    return pages, {"doc_type": "packet", "splits": parts}


def generate_samples(directory: str | Path, *, count: int = 200, seed: int = 0) -> SampleSet:
    """Write ``count`` sample documents plus four broken inputs into ``directory``.

    The same ``seed`` gives byte-identical files. Also writes ``ground_truth.parquet`` (one row
    per file: path, doc_type, file_type, page_count, password, expected_failure, the invoice
    fields, and for packets the true splits) and ``manifest.json`` (sha256 of every file).

    >>> samples = generate_samples("/tmp/corpus", count=20, seed=7)  # doctest: +SKIP
    >>> samples.paths("invoice")[0].suffix  # doctest: +SKIP
    '.pdf'
    """
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}; ask for one document or more.")
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    docs: list[SampleDocument] = []
    files: dict[str, bytes] = {}
    for index, kind in enumerate(_schedule(rng, count)):
        pages, truth = _packet(rng) if kind == "packet" else _build(kind, rng)
        fmt = "pdf"
        if kind in ("invoice", "receipt") and rng.random() < 0.15:
            fmt = rng.choice(["txt", "md", "html"])
        name = f"{index:04d}_{kind}.{fmt}"
        if fmt == "pdf":
            data = to_pdf(pages, font=rng.choice(["Helvetica", "Helvetica", "Times", "Courier"]))
        else:
            data = to_text(pages, fmt)
        files[name] = data
        file_type = {"pdf": "PDF", "html": "HTML"}.get(fmt, "TXT")
        truth = {**truth, "file_type": file_type, "page_count": len(pages)}
        docs.append(SampleDocument(name, kind, truth))
    docs.extend(_broken(rng, files))
    for name, data in files.items():
        (root / name).write_bytes(data)
    truth_path = root / "ground_truth.parquet"
    _write_truth(truth_path, docs)
    manifest = {
        "generator": "extend_frames.emulator.samples",
        "version": GENERATOR_VERSION,
        "seed": seed,
        "count": count,
        "ground_truth": truth_path.name,
        "files": [
            {
                "path": d.path,
                "doc_type": d.doc_type,
                "sha256": hashlib.sha256(files[d.path]).hexdigest(),
                "bytes": len(files[d.path]),
            }
            for d in docs
        ],
    }
    manifest_path = root / "manifest.json"
    manifest_path.write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return SampleSet(root, truth_path, manifest_path, tuple(docs))


def _broken(rng: random.Random, files: dict[str, bytes]) -> list[SampleDocument]:
    """A corrupt PDF, an empty file, an encrypted PDF and an unsupported type."""
    pages, truth = _content.invoice(rng, pages=1)
    good = to_pdf(pages)
    # Keep the header, destroy the body and the cross-reference table.
    noise = bytes(rng.randrange(256) for _ in range(2048))
    files["broken_corrupt.pdf"] = good[:9] + noise
    files["broken_empty.pdf"] = b""
    files["broken_encrypted.pdf"] = to_pdf(pages, password=BROKEN_PASSWORD)
    files["broken_unsupported.zip"] = b"PK\x03\x04" + bytes(rng.randrange(256) for _ in range(256))
    base = {"page_count": None}
    return [
        SampleDocument(
            "broken_corrupt.pdf",
            "broken",
            {**base, "file_type": "PDF", "expected_failure": "CORRUPT_FILE"},
        ),
        SampleDocument(
            "broken_empty.pdf",
            "broken",
            {**base, "file_type": "PDF", "expected_failure": "CORRUPT_FILE"},
        ),
        SampleDocument(
            "broken_encrypted.pdf",
            "invoice",
            {
                **truth,
                "file_type": "PDF",
                "page_count": 1,
                "password": BROKEN_PASSWORD,
                "expected_failure": "PASSWORD_PROTECTED_FILE",
            },
        ),
        SampleDocument(
            "broken_unsupported.zip",
            "broken",
            {**base, "file_type": None, "expected_failure": "FILE_TYPE_NOT_SUPPORTED"},
        ),
    ]


def _write_truth(path: Path, docs: list[SampleDocument]) -> None:
    import pyarrow as pa  # a core dependency of extend_frames, present wherever the emulator is
    import pyarrow.parquet as pq

    item = pa.struct(
        [
            ("description", pa.string()),
            ("quantity", pa.float64()),
            ("unit_price", pa.float64()),
            ("amount", pa.float64()),
        ]
    )
    split = pa.struct(
        [
            ("start_page", pa.int32()),
            ("end_page", pa.int32()),
            ("doc_type", pa.string()),
            ("invoice_number", pa.string()),
        ]
    )
    address = pa.struct([(k, pa.string()) for k in ("street", "city", "postal_code", "country")])
    schema = pa.schema(
        [
            ("path", pa.string()),
            ("doc_type", pa.string()),
            ("file_type", pa.string()),
            ("page_count", pa.int32()),
            ("password", pa.string()),
            ("expected_failure", pa.string()),
            ("invoice_number", pa.string()),
            ("invoice_date", pa.date32()),
            ("due_date", pa.date32()),
            ("total_amount", pa.float64()),
            ("currency", pa.string()),
            ("vendor_name", pa.string()),
            ("vendor_address", address),
            ("payment_status", pa.string()),
            ("line_items", pa.list_(item)),
            ("splits", pa.list_(split)),
        ]
    )
    rows = [
        {"path": d.path, **{k: d.truth.get(k) for k in schema.names if k != "path"}} for d in docs
    ]
    for row, doc in zip(rows, docs, strict=True):
        row["doc_type"] = doc.doc_type
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
