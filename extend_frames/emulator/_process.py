"""Computing one run's outcome: fetch its input, read the document, build the output.

Runs off the event loop (in the worker thread). The result is an ``Outcome`` applied to the run
under the state lock when the run's (simulated) processing time is over.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

from . import _documents as docs
from ._faults import chance
from ._ingest import MarkerFailureError, fetch_url, text_marker
from ._kinds import TERMINAL
from ._records import FileRecord, RunRecord
from ._state import State

FAIL_METADATA_KEY = "emulator:fail"


@dataclass(slots=True)
class Outcome:
    status: str
    reason: str | None = None
    message: str | None = None
    file: FileRecord | None = None
    output: dict[str, Any] | None = None
    credits: float | None = None
    page_count: int | None = None
    processing_ms: int = 0


def _new_file(state: State, name: str, data: bytes, password: str | None) -> FileRecord:
    with state.lock:
        file_id, seq = state.worker_ids("file"), state.next_seq()
        rec = FileRecord(file_id, name, data, seq, state.now(), password)
        state.files[rec.id] = rec
    return rec


def _input_file(state: State, run: RunRecord) -> FileRecord:
    spec = run.file_input
    if "id" in spec:
        with state.lock:
            rec = state.files.get(spec["id"])
        if rec is None:
            raise docs.DocumentError("UNABLE_TO_DOWNLOAD_FILE", f"File {spec['id']} not found")
        return rec
    if "text" in spec:
        text: str = spec["text"]
        name = spec.get("name") or f"text_{run.id}.txt"
        rec = _new_file(state, name, text.encode(), None)
        rec.file_type = "TXT"
        reason = text_marker(text)
        if reason is not None:
            rec.page_count = 1
            raise MarkerFailureError(
                reason, f"Injected failure from a __FAIL:{reason} text marker."
            )
        return rec
    fetched = fetch_url(spec, timeout=state.config.download_timeout)
    return _new_file(state, fetched.name, fetched.data, fetched.password)


def _injected_reason(state: State, run: RunRecord) -> str | None:
    meta = run.metadata
    if isinstance(meta, dict) and isinstance(meta.get(FAIL_METADATA_KEY), str):
        return str(meta[FAIL_METADATA_KEY])
    faults = state.config.faults
    if faults.run_failure_rate and chance(faults.seed, "run", run.id) < faults.run_failure_rate:
        return faults.run_failure_reason
    return None


def read_file(state: State, file: FileRecord) -> docs.Document:
    """Read a stored file within the configured limits and record its type and page count;
    raises ``DocumentError`` when it cannot be read."""
    doc = docs.read_document(
        file.data,
        file.name,
        password=file.password,
        max_pages=state.config.max_pages,
        max_bytes=state.config.max_file_bytes,
    )
    split = file.parent_split
    if split is not None:  # a split's sub-document: its pages, numbered from 1
        first, last = int(split["startPage"]), int(split["endPage"])
        pages = [p for p in doc.pages if first <= p.number <= last]
        numbered = tuple(replace(p, number=i) for i, p in enumerate(pages, 1))
        digest = f"{doc.digest}:{first}-{last}" if doc.digest else ""
        doc = replace(doc, pages=numbered, digest=digest)
    file.file_type = doc.file_type
    file.page_count = doc.page_count
    return doc


def compute(state: State, run: RunRecord) -> Outcome:
    """Everything a run produces; document and marker failures become a FAILED outcome."""
    started = time.perf_counter()
    file: FileRecord | None = None
    try:
        file = _input_file(state, run)
        reason = _injected_reason(state, run)
        if reason is not None:
            return Outcome("FAILED", reason, f"Injected failure ({reason}).", file=file)
        doc = read_file(state, file)
        output = _output(state, run, doc, file)
        credits = docs.credits_for(run.kind.name, doc)
    except MarkerFailureError as exc:
        reason = exc.failure_reason(run.kind.name)
        return Outcome("FAILED", reason, exc.message.format(reason=reason), file=file)
    except docs.DocumentError as exc:
        keep = file if exc.reason != "UNABLE_TO_DOWNLOAD_FILE" else None
        return Outcome("FAILED", exc.reason, exc.message, file=keep)
    elapsed = int((time.perf_counter() - started) * 1000)
    return Outcome(
        "PROCESSED",
        file=file,
        output=output,
        credits=credits,
        page_count=doc.page_count,
        processing_ms=elapsed,
    )


def _output(state: State, run: RunRecord, doc: docs.Document, file: FileRecord) -> dict[str, Any]:
    kind = run.kind.name
    if kind == "parse":
        return docs.parse_output(doc, run.config)
    if kind == "extract":
        return docs.extract_output(doc, run.config, file_id=file.id)
    if kind == "classify":
        return docs.classify_output(doc, run.config)

    def make_file_id(split: dict[str, Any]) -> str:
        """The split's sub-document: a derivative file of the same bytes, restricted to the
        split's pages when read (``read_file``), whose metadata names the split."""
        child = _new_file(state, file.name, file.data, file.password)
        child.parent_file_id = file.id
        child.file_type = file.file_type
        keys = ("id", "type", "identifier", "startPage", "endPage")
        child.parent_split = {k: split[k] for k in keys}
        child.page_count = split["endPage"] - split["startPage"] + 1
        return child.id

    return docs.split_output(doc, run.config, make_file_id=make_file_id)


def apply(state: State, run: RunRecord, outcome: Outcome) -> None:
    """Write the outcome onto the run and make it terminal."""
    with state.lock:
        if run.status in TERMINAL:
            return  # cancelled, deleted or failed with its batch meanwhile
        run.file = outcome.file
        if outcome.status == "PROCESSED":
            run.output = outcome.output
            run.credits = outcome.credits
            run.page_count = outcome.page_count
            run.processing_ms = outcome.processing_ms
            if run.kind.name != "parse":
                run.parse_run_id = state.worker_ids("pr")
                run.parse_credits = float(outcome.page_count or 0)
        state.finish_run(run, outcome.status, outcome.reason, outcome.message)
