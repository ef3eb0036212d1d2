"""In-memory records and their wire JSON (docs/extend-api.md#batches, #run-outputs, #files,
#processors).

Runs cache their serialised full and summary bodies; any mutation goes through ``touch()``,
which drops the cache, so the hot GET and list paths only join pre-built bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ._clock import rfc3339
from ._kinds import RunKind

JSON = dict[str, Any]


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


# The base product each run kind bills when its config names none (SDK 1.20 defaults).
DEFAULT_PRODUCT = {
    "parse": "parse_performance",
    "extract": "extraction_performance",
    "classify": "classification_standard",
    "split": "splitting_performance",
}


def _product(kind: str, config: JSON | None) -> str:
    key = "engine" if kind == "parse" else "baseProcessor"
    value = (config or {}).get(key)
    return value if isinstance(value, str) else DEFAULT_PRODUCT[kind]


def _entry(obj: str, id: str, credits: float, product: str, pages: float) -> JSON:
    """One usage.breakdown line with its ``charges`` (one per-page base charge)."""
    charge = {"product": product, "unit": "page", "quantity": pages, "credits": credits}
    return {"object": obj, "id": id, "credits": credits, "charges": [charge]}


@dataclass(slots=True, eq=False)
class FileRecord:
    """An uploaded or ingested file; ``data`` stays in memory for later runs."""

    id: str
    name: str
    data: bytes = field(repr=False)
    seq: int
    created_at: float
    password: str | None = field(default=None, repr=False)
    file_type: str | None = None
    page_count: int | None = None
    parent_file_id: str | None = None
    parent_split: JSON | None = None
    updated_at: float = field(init=False)

    def __post_init__(self) -> None:
        self.updated_at = self.created_at

    def summary(self) -> JSON:
        meta: JSON = {}
        if self.page_count is not None:
            meta["pageCount"] = self.page_count
        if self.parent_split is not None:
            meta["parentSplit"] = self.parent_split
        return {
            "object": "file",
            "id": self.id,
            "name": self.name,
            "type": self.file_type,
            "parentFileId": self.parent_file_id,
            "metadata": meta,
            "createdAt": rfc3339(self.created_at),
            "updatedAt": rfc3339(self.updated_at),
        }

    def full(self, presigned_url: str | None) -> JSON:
        """The file as GET /files/{id} returns it: the summary, the URL and the contents."""
        return {**self.summary(), "presignedUrl": presigned_url, "contents": None}


class VersionRecord:
    """One processor version: the draft (``version == "draft"``) or a published number."""

    __slots__ = ("config", "created_at", "description", "id", "kind", "processor_id", "version")

    def __init__(
        self,
        kind: str,
        id: str,
        processor_id: str,
        version: str,
        config: JSON,
        description: str | None,
        now: float,
    ) -> None:
        self.kind = kind
        self.id = id
        self.processor_id = processor_id
        self.version = version
        self.config = config
        self.description = description
        self.created_at = now

    def summary(self) -> JSON:
        return {
            "object": f"{self.kind}_version",
            "id": self.id,
            "description": self.description,
            "version": self.version,
            f"{self.kind}Id": self.processor_id,
            "createdAt": rfc3339(self.created_at),
            "createdBy": None,
        }

    def full(self) -> JSON:
        body = self.summary()
        body["config"] = self.config
        return body


class ProcessorRecord:
    """An extractor, classifier or splitter with its draft and published versions."""

    __slots__ = ("created_at", "draft", "id", "kind", "name", "published", "seq", "updated_at")

    def __init__(self, kind: str, id: str, name: str, draft: VersionRecord, seq: int, now: float):
        self.kind = kind
        self.id = id
        self.name = name
        self.draft = draft
        self.published: list[VersionRecord] = []  # oldest first
        self.seq = seq
        self.created_at = now
        self.updated_at = now

    def summary(self) -> JSON:
        return {
            "object": self.kind,
            "id": self.id,
            "name": self.name,
            "createdAt": rfc3339(self.created_at),
            "updatedAt": rfc3339(self.updated_at),
        }

    def full(self) -> JSON:
        body = self.summary()
        body["draftVersion"] = self.draft.full()
        return body


class BatchRecord:
    """A batch: its runs (creation order) and the counters its status is derived from."""

    __slots__ = (
        "created_at",
        "done",
        "fail_after",
        "id",
        "kind",
        "processor_id",
        "run_ids",
        "started",
        "status",
    )

    def __init__(self, id: str, kind: RunKind, processor_id: str | None, now: float) -> None:
        self.id = id
        self.kind = kind
        self.processor_id = processor_id
        self.run_ids: list[str] = []
        self.status = "PENDING"
        self.started = False
        self.done = 0
        self.fail_after: int | None = None
        self.created_at = now

    def to_json(self) -> JSON:
        return {
            "object": "batch_run",
            "id": self.id,
            "status": self.status,
            "runCount": len(self.run_ids),
            "createdAt": rfc3339(self.created_at),
        }


class RunRecord:
    """One run of any kind. Mutate fields, then call ``touch(now)``."""

    __slots__ = (
        "_full",
        "_summary",
        "batch_id",
        "config",
        "created_at",
        "credits",
        "failure_message",
        "failure_reason",
        "file",
        "file_input",
        "id",
        "kind",
        "metadata",
        "output",
        "page_count",
        "parse_credits",
        "parse_run_id",
        "priority",
        "processing_ms",
        "processor_id",
        "processor_json",
        "seq",
        "source",
        "source_id",
        "status",
        "updated_at",
        "version_json",
    )

    def __init__(
        self,
        kind: RunKind,
        id: str,
        *,
        seq: int,
        now: float,
        file_input: JSON,
        metadata: JSON | None,
        config: JSON,
        status: str,
        source: str,
        source_id: str | None = None,
        batch_id: str | None = None,
        priority: int | None = None,
        processor_json: JSON | None = None,
        version_json: JSON | None = None,
        processor_id: str | None = None,
    ) -> None:
        self.kind = kind
        self.id = id
        self.seq = seq
        self.file_input = file_input
        self.metadata = metadata
        self.config = config
        self.status = status
        self.source = source
        self.source_id = source_id
        self.batch_id = batch_id
        self.priority = priority
        self.processor_json = processor_json
        self.version_json = version_json
        self.processor_id = processor_id
        self.file: FileRecord | None = None
        self.failure_reason: str | None = None
        self.failure_message: str | None = None
        self.output: JSON | None = None
        self.credits: float | None = None
        self.parse_credits: float | None = None
        self.parse_run_id: str | None = None
        self.page_count: int | None = None
        self.processing_ms: int | None = None
        self.created_at = now
        self.updated_at = now
        self._full: bytes | None = None
        self._summary: bytes | None = None

    @property
    def file_name(self) -> str | None:
        return self.file.name if self.file is not None else None

    def touch(self, now: float) -> None:
        self.updated_at = now
        self._full = None
        self._summary = None

    # -- wire JSON ---------------------------------------------------------------------------

    @property
    def cached_full(self) -> bytes | None:
        """The serialised full run if still valid (safe to read without the state lock)."""
        return self._full

    def full_bytes(self) -> bytes:
        """Serialise (and cache) the full run; call under the state lock on a cache miss."""
        body = self._full
        if body is None:
            body = self._full = dumps(self.full())
        return body

    def summary_bytes(self) -> bytes:
        body = self._summary
        if body is None:
            body = self._summary = dumps(self.summary())
        return body

    def _usage(self, breakdown: bool) -> JSON | None:
        if self.status != "PROCESSED" or self.credits is None:
            return None
        total = self.credits + (self.parse_credits or 0.0)
        usage: JSON = {"credits": self.credits, "totalCredits": total}
        if breakdown:
            pages = float(self.page_count or 0)
            own = _product(self.kind.name, self.config)
            items: list[JSON] = [_entry(self.kind.object, self.id, self.credits, own, pages)]
            if self.kind.name != "parse" and self.parse_run_id is not None:
                parse = _product("parse", (self.config or {}).get("parseConfig"))
                credits = self.parse_credits or 0.0
                items.append(_entry("parse_run", self.parse_run_id, credits, parse, pages))
            usage["breakdown"] = items
        return usage

    def _metrics(self) -> JSON | None:
        if self.status != "PROCESSED":
            return None
        return {"processingTimeMs": self.processing_ms or 0, "pageCount": self.page_count or 0}

    def _parse_head(self) -> JSON:
        """The keys a parse run's summary and full body open with."""
        return {
            "object": "parse_run",
            "id": self.id,
            "batchId": self.batch_id,
            "file": self.file.summary() if self.file is not None else None,
            "status": self.status,
            "failureReason": self.failure_reason,
            "failureMessage": self.failure_message,
            "metadata": self.metadata,
        }

    def summary(self) -> JSON:
        if self.kind.name == "parse":
            return {
                **self._parse_head(),
                "metrics": self._metrics(),
                "usage": self._usage(False),
                "createdAt": rfc3339(self.created_at),
                "updatedAt": rfc3339(self.updated_at),
            }
        file = self.file.summary() if self.file is not None else None
        pname = self.kind.processor.name if self.kind.processor else "processor"
        body: JSON = {
            "object": self.kind.object,
            "id": self.id,
            pname: self.processor_json,
            f"{pname}Version": self.version_json,
            "status": self.status,
            "failureReason": self.failure_reason,
            "failureMessage": self.failure_message,
            "metadata": self.metadata,
            "reviewed": False,
            "edited": False,
            "file": file,
        }
        if self.kind.name == "extract":
            body["files"] = None
        body["parseRunId"] = self.parse_run_id
        body["dashboardUrl"] = f"https://dashboard.extend.ai/runs/{self.id}"
        body["usage"] = self._usage(False)
        body["createdAt"] = rfc3339(self.created_at)
        body["updatedAt"] = rfc3339(self.updated_at)
        return body

    def full(self, output_url: str | None = None) -> JSON:
        """The full run; for parse with ``output_url`` the output is replaced by the URL."""
        if self.kind.name == "parse":
            return {
                **self._parse_head(),
                "output": None if output_url else self.output,
                "outputUrl": output_url,
                "metrics": self._metrics(),
                "config": self.config,
                "usage": self._usage(True),
            }
        body = self.summary()
        pk_keys = list(body)
        out: JSON = {}
        for key in pk_keys:
            out[key] = body[key]
            if key == "status":
                out["output"] = self.output
                out["initialOutput"] = None
                out["reviewedOutput"] = None
            elif key == "edited":
                if self.kind.name == "extract":
                    out["edits"] = None
                out["config"] = self.config
        out["usage"] = self._usage(True)
        return out

    def status_payload(self) -> JSON:
        """The minimal ParseRunStatus webhook payload (docs/extend-api.md#webhook-events)."""
        return {
            "object": "parse_run_status",
            "id": self.id,
            "status": self.status,
            "failureReason": self.failure_reason,
            "failureMessage": self.failure_message,
            "metadata": self.metadata,
        }
