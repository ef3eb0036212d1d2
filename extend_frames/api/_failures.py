"""Turning failed HTTP exchanges into the typed errors of ``extend_frames._errors``.

Error bodies are read flat first (``{"code", "message", "retryable", "requestId"}``), then in
an ``{"error": {...}}`` wrapper, then as raw text (docs/extend-api.md#errors). Every text that
reaches an
exception goes through :func:`redact` so an API key or a presigned URL cannot leak.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import extend_frames._errors as errors
from extend_frames._errors import APIError

__all__ = ["ErrorBody", "error_class", "make_api_error", "parse_error_body", "redact"]

_MAX_TEXT = 500
# A URL with a query string: presigned URLs carry their signature there.
_URL_QUERY = re.compile(r"(https?://[^\s?#\"'<>]+)\?[^\s\"'<>]*")
_BEARER = re.compile(r"(?i)bearer\s+\S+")

_HINTS: dict[type[APIError], str] = {
    errors.AuthenticationError: "check the API key (api_key= or EXTEND_API_KEY)",
    errors.PermissionDeniedError: "check that the key may use this resource (workspace_id=?)",
    errors.UsageBlockedError: (
        "the organisation is out of credits (USAGE_BLOCKED): add credits in the Extend "
        "dashboard, then retry"
    ),
    errors.RateLimitedError: "lower the request rate (rate_limits=) or retry later",
    errors.ServerError: "Extend failed; retry later and quote the request id if it persists",
    errors.OutcomeUnknownError: (
        "the request may or may not have been accepted: list the runs created since "
        "(Client.list_runs_since) and match their metadata before submitting again"
    ),
}


@dataclass(frozen=True, slots=True)
class ErrorBody:
    """The useful parts of an error response body (all optional)."""

    code: str | None = None
    message: str | None = None
    retryable: bool | None = None
    request_id: str | None = None


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` without the given secrets, bearer tokens or URL query strings."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = _BEARER.sub("Bearer ***", text)
    return _URL_QUERY.sub(r"\1?***", text)


def _fields(obj: dict[str, Any]) -> ErrorBody:
    code = obj.get("code")
    message = obj.get("message")
    retryable = obj.get("retryable")
    request_id = obj.get("requestId")
    return ErrorBody(
        code=code if isinstance(code, str) else None,
        message=message if isinstance(message, str) else None,
        retryable=retryable if isinstance(retryable, bool) else None,
        request_id=request_id if isinstance(request_id, str) else None,
    )


def parse_error_body(content: bytes) -> ErrorBody:
    """Flat body, else ``{"error": {...}}`` / ``{"error": "text"}``, else the raw text.

    >>> parse_error_body(b'{"error": {"code": "NOT_FOUND", "message": "gone"}}').code
    'NOT_FOUND'
    """
    text = content.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text) if text else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        flat = _fields(data)
        if flat.code is not None or flat.message is not None:
            return flat
        inner = data.get("error")
        if isinstance(inner, dict):
            wrapped = _fields(inner)
            if wrapped.request_id is None and flat.request_id is not None:
                return ErrorBody(wrapped.code, wrapped.message, wrapped.retryable, flat.request_id)
            return wrapped
        if isinstance(inner, str):
            return ErrorBody(message=inner, request_id=flat.request_id)
    if not text:
        return ErrorBody()
    return ErrorBody(message=text[:_MAX_TEXT] + ("…" if len(text) > _MAX_TEXT else ""))


def error_class(status: int) -> type[APIError]:
    """The exception class for an HTTP status."""
    if status == 401:
        return errors.AuthenticationError
    if status == 403:
        return errors.PermissionDeniedError
    if status == 404:
        return errors.NotFoundError
    if status in (400, 422):
        return errors.InvalidRequestError
    if status == 402:
        return errors.UsageBlockedError
    if status == 429:
        return errors.RateLimitedError
    if status >= 500:
        return errors.ServerError
    return APIError


def make_api_error(
    status: int,
    body: ErrorBody,
    *,
    method: str,
    path: str,
    header_request_id: str | None,
    secrets: tuple[str, ...],
    attempts: int = 1,
    cls: type[APIError] | None = None,
    retryable: bool | None = None,
) -> APIError:
    """The typed error for a final error response; the message ends with a hint."""
    if cls is None:  # USAGE_BLOCKED is out of credits whatever status carries it
        cls = errors.UsageBlockedError if body.code == "USAGE_BLOCKED" else error_class(status)
    message = redact(body.message or f"HTTP {status} with no error message", secrets)
    hint = _HINTS.get(cls)
    if attempts > 1:
        message += f" (after {attempts} attempts)"
    if hint:
        message += f"; {hint}"
    if retryable is None:
        default = status in (408, 429) or status >= 500
        retryable = body.retryable if body.retryable is not None else default
    return cls(
        message,
        status=status,
        code=redact(body.code, secrets) if body.code else None,
        request_id=body.request_id or header_request_id,
        retryable=retryable,
        method=method,
        path=redact(path, secrets),
    )
