"""Document reading and processing for the emulator (pure functions, JSON dicts in and out).

PLACEHOLDER: shaped like the real outputs; the document-processing work replaces the bodies
while keeping these signatures (see docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class DocumentError(Exception):
    """A document cannot be processed; ``reason`` is Extend's ``failureReason``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class Page:
    number: int
    text: str
    width: float = 612.0
    height: float = 792.0


@dataclass(frozen=True, slots=True)
class Document:
    name: str
    file_type: str  # Extend FileType: PDF, TXT, CSV, HTML, ...
    pages: tuple[Page, ...]

    @property
    def page_count(self) -> int:
        return len(self.pages)


def read_document(
    data: bytes,
    name: str,
    *,
    password: str | None = None,
    max_pages: int = 500,
    max_bytes: int = 100 * 2**20,
) -> Document:
    if len(data) > max_bytes:
        raise DocumentError("FILE_SIZE_TOO_LARGE", f"{name} is larger than {max_bytes} bytes")
    if not data:
        raise DocumentError("CORRUPT_FILE", f"{name} is empty")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    ftype = "PDF" if data.startswith(b"%PDF") else "TXT"
    return Document(name=name, file_type=ftype, pages=(Page(1, text),))


def _block_id(text: str) -> str:
    return "block_" + hashlib.sha256(text.encode()).hexdigest()[:20]


def parse_output(doc: Document, config: dict[str, Any]) -> dict[str, Any]:
    chunks = []
    for page in doc.pages:
        chunks.append(
            {
                "object": "chunk",
                "type": "page",
                "content": page.text,
                "metadata": {"pageRange": {"start": page.number, "end": page.number}},
                "blocks": [
                    {
                        "object": "block",
                        "id": _block_id(page.text),
                        "type": "text",
                        "content": page.text,
                        "details": {"type": "text_details"},
                        "metadata": {
                            "page": {
                                "number": page.number,
                                "width": page.width,
                                "height": page.height,
                            }
                        },
                        "polygon": [],
                        "boundingBox": {"left": 0, "top": 0, "right": page.width, "bottom": 10},
                    }
                ],
            }
        )
    return {"chunks": chunks}


def _null_value(schema: dict[str, Any]) -> Any:
    if schema.get("type") == "object":
        return {k: _null_value(v) for k, v in schema.get("properties", {}).items()}
    if schema.get("type") == "array":
        return []
    return None


def extract_output(
    doc: Document, config: dict[str, Any], *, file_id: str | None
) -> dict[str, Any]:
    schema = config.get("schema") or {"type": "object", "properties": {}}
    value = _null_value(schema)
    metadata = {k: {"logprobsConfidence": None, "citations": []} for k in value}
    return {"value": value, "metadata": metadata}


def classify_output(doc: Document, config: dict[str, Any]) -> dict[str, Any]:
    first = (config.get("classifications") or [{"id": "other", "type": "other"}])[0]
    return {
        "id": first["id"],
        "type": first["type"],
        "confidence": 0.9,
        "insights": [{"type": "reasoning", "content": "placeholder"}],
    }


def split_output(
    doc: Document, config: dict[str, Any], *, make_file_id: Callable[[], str]
) -> dict[str, Any]:
    first = (config.get("splitClassifications") or [{"id": "other", "type": "other"}])[0]
    return {
        "splits": [
            {
                "id": "split_1",
                "classificationId": first["id"],
                "type": first["type"],
                "startPage": 1,
                "endPage": doc.page_count,
                "identifier": "",
                "observation": "",
                "fileId": make_file_id(),
            }
        ]
    }


def credits_for(kind: str, doc: Document) -> float:
    per_page = {"parse": 1.0, "extract": 2.0, "classify": 0.5, "split": 0.5}.get(kind, 1.0)
    return per_page * doc.page_count
