"""Extraction accuracy by field: the generated sample corpus and real invoices side by side.

Both corpora go through the emulator's own document pipeline in this process
(``read_document`` then ``extract_output`` with the samples' invoice extractor config), and
each field is scored against the corpus' ground truth: invoice number (letters and digits
only, case-insensitive), invoice and due date (ISO dates), total amount (to the cent),
currency (ISO code) and vendor name (the same words, legal forms aside). A field counts only
on documents whose ground truth has it. Real documents come from ``benchmarks.real_corpus``
(packages fetched by name from the registry); the held-out part is reported on its own.
Timing: extract milliseconds per page, cold (layout caches cleared), and parse for reference.
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import real_corpus

FIELDS = real_corpus.FIELDS
_LEGAL_FORMS = frozenset(
    re.findall(
        r"\w+", "inc ltd llc plc gmbh ag sa sas sarl bv bvba nv spa srl sl kg co corp limited"
    )
)


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[^\W_]+", text.lower()) if w not in _LEGAL_FORMS}


def predicted(value: dict[str, Any]) -> dict[str, Any]:
    """The scored fields out of an extract value made with the samples' invoice config."""
    total = value.get("total") or {}
    vendor = value.get("vendor") or {}
    return {
        "invoice_number": value.get("invoice_number"),
        "invoice_date": value.get("invoice_date"),
        "due_date": value.get("due_date"),
        "total_amount": total.get("amount"),
        "currency": total.get("iso_4217_currency_code"),
        "vendor_name": vendor.get("name"),
    }


def field_right(name: str, got: Any, want: Any) -> bool:
    if got is None:
        return False
    if name == "invoice_number":
        return re.sub(r"[\W_]", "", str(got)).upper() == re.sub(r"[\W_]", "", str(want)).upper()
    if name == "total_amount":
        return isinstance(got, int | float) and abs(float(got) - float(want)) < 0.005
    if name == "vendor_name":
        a, b = _words(str(got)), _words(str(want))
        return bool(a and b) and (a <= b or b <= a)
    return str(got) == str(want)


def score(docs: list[tuple[str, bytes, dict[str, Any]]]) -> dict[str, Any]:
    """Accuracy by field over ``(name, bytes, truth)`` documents, with timings and misses."""
    from extend_frames.emulator._documents import parse_output, read_document
    from extend_frames.emulator._documents._extract import extract_output  # not memoised
    from extend_frames.emulator._documents._layout import clear_cache
    from extend_frames.emulator.samples import INVOICE_EXTRACTOR_CONFIG

    right = dict.fromkeys(FIELDS, 0)
    counted = dict.fromkeys(FIELDS, 0)
    misses: list[str] = []
    pages = 0
    extract_s = parse_s = 0.0
    for name, data, truth in docs:
        doc = read_document(data, name)
        pages += doc.page_count
        clear_cache()
        t0 = time.perf_counter()
        parse_output(doc, {})
        parse_s += time.perf_counter() - t0
        clear_cache()
        t0 = time.perf_counter()
        value = extract_output(doc, INVOICE_EXTRACTOR_CONFIG, file_id=None)["value"]
        extract_s += time.perf_counter() - t0
        got = predicted(value)
        for field in FIELDS:
            if truth.get(field) is None:
                continue
            counted[field] += 1
            ok = field_right(field, got[field], truth[field])
            right[field] += ok
            if not ok:
                misses.append(f"{name}: {field} {got[field]!r} != {truth[field]!r}")
    by_field = {f: (round(right[f] / counted[f], 3) if counted[f] else None) for f in FIELDS}
    core = [f for f in ("invoice_number", "invoice_date", "total_amount") if counted[f]]
    return {
        "documents": len(docs),
        "pages": pages,
        "accuracy": by_field,
        "counted": counted,
        "core_mean": round(sum(right[f] / counted[f] for f in core) / len(core), 3)
        if core
        else None,
        "overall": round(sum(right.values()) / max(1, sum(counted.values())), 3),
        "extract_ms_per_page": round(1000 * extract_s / max(1, pages), 2),
        "parse_ms_per_page": round(1000 * parse_s / max(1, pages), 2),
        "misses": misses,
    }


def generated(count: int, seed: int = 11) -> list[tuple[str, bytes, dict[str, Any]]]:
    """The invoices of a generated sample corpus, as scoring inputs."""
    import pyarrow.parquet as pq

    from extend_frames.emulator.samples import generate_samples

    folder = Path(tempfile.mkdtemp(prefix="bench-samples-"))
    samples = generate_samples(folder, count=count, seed=seed)
    out = []
    for row in pq.read_table(samples.ground_truth_path).to_pylist():
        if row["doc_type"] != "invoice" or row["expected_failure"]:
            continue
        truth = {
            "invoice_number": row["invoice_number"],
            "invoice_date": None if row["invoice_date"] is None else str(row["invoice_date"]),
            "due_date": None if row["due_date"] is None else str(row["due_date"]),
            "total_amount": row["total_amount"],
            "currency": row["currency"],
            "vendor_name": row["vendor_name"],
        }
        out.append((row["path"], (samples.directory / row["path"]).read_bytes(), truth))
    return out


def real(*, fetch: bool) -> tuple[list[real_corpus.RealDocument], str | None]:
    try:
        return real_corpus.load(fetch=fetch), None
    except real_corpus.CorpusUnavailableError as exc:
        return [], str(exc)


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    """A score without its list of misses (held-out documents stay unread in the results)."""
    return {k: v for k, v in result.items() if k != "misses"} | {"missed": len(result["misses"])}


def run(generated_count: int, *, fetch: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"generated": _summary(score(generated(generated_count)))}
    docs, reason = real(fetch=fetch)
    if reason is not None:
        out["real"] = {"unavailable": reason}
        return out

    def inputs(part: list[real_corpus.RealDocument]) -> list[tuple[str, bytes, dict[str, Any]]]:
        return [(d.path.name, d.path.read_bytes(), d.truth) for d in part]

    out["real"] = _summary(score(inputs(docs)))
    out["real_tuning"] = _summary(score(inputs([d for d in docs if not d.held_out])))
    out["real_held_out"] = _summary(score(inputs([d for d in docs if d.held_out])))
    out["real_corpus"] = {
        "sources": sorted({f"{d.source} ({d.license.split(';')[0]})" for d in docs}),
        "languages": sorted({d.language for d in docs}),
        "countries": sorted({d.country for d in docs}),
    }
    return out
