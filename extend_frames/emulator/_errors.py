"""The emulator's one error type and the flat Extend error body (SPEC §2.1).

Handlers raise ``ApiError``; the gate middleware turns it (and anything unexpected) into
``{code, message, retryable, requestId}`` so no failure ever leaves as a bare 500 page.
"""

from __future__ import annotations

import json


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
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retryable = retryable
        self.headers = headers or {}


def invalid(message: str) -> ApiError:
    return ApiError(400, "INVALID_REQUEST", message)


def not_found(what: str, ident: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", f"{what} {ident} not found")


def internal(message: str = "An unexpected error occurred.") -> ApiError:
    return ApiError(500, "INTERNAL_ERROR", message, retryable=True)


def error_body(err: ApiError, request_id: str) -> bytes:
    return json.dumps(
        {
            "code": err.code,
            "message": err.message,
            "retryable": err.retryable,
            "requestId": request_id,
        }
    ).encode()
