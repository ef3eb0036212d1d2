"""The emulator's one error type and the flat Extend error body (docs/extend-api.md#errors).

Handlers raise ``ApiError``; the gate middleware turns it (and anything unexpected) into
``{code, message, retryable, requestId}`` so no failure ever leaves as a bare 500 page.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TypeVar

_T = TypeVar("_T")


class ApiError(Exception):
    """An Extend-shaped error response: HTTP status, machine code and a human message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        retryable: bool = False,
        headers: dict[str, str] | None = None,
        doc_url: str | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retryable = retryable
        self.headers = headers or {}
        self.doc_url = doc_url


DOCS = "https://docs.extend.ai/2026-02-09"
SCHEMA_DOC_URL = f"{DOCS}/extraction/schema"


def invalid(message: str, *, doc_url: str | None = None) -> ApiError:
    return ApiError(400, "INVALID_REQUEST", message, doc_url=doc_url)


def not_found(what: str, ident: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", f"{what} {ident} not found")


def found(table: Mapping[str, _T], what: str, ident: str) -> _T:
    """``table[ident]``, or the 404 naming ``what`` when it is not there."""
    item = table.get(ident)
    if item is None:
        raise not_found(what, ident)
    return item


def internal(message: str = "An unexpected error occurred.") -> ApiError:
    return ApiError(500, "INTERNAL_ERROR", message, retryable=True)


def error_body(err: ApiError, request_id: str) -> bytes:
    """The flat body; ``docUrl`` only where Extend links a page (schema validation errors)."""
    body: dict[str, object] = {
        "code": err.code,
        "message": err.message,
        "retryable": err.retryable,
        "requestId": request_id,
    }
    if err.doc_url is not None:
        body["docUrl"] = err.doc_url
    return json.dumps(body).encode()
