"""The exception tree of extend_frames.

Every error the library raises on purpose derives from :class:`ExtendError`::

    ExtendError
    ├── InputError                 bad input, found before any request is sent
    ├── APIError                   the API answered with an error
    │   ├── AuthenticationError    401
    │   ├── PermissionDeniedError  403
    │   ├── NotFoundError          404
    │   ├── InvalidRequestError    400 / 422
    │   ├── UsageBlockedError      402
    │   ├── RateLimitedError       429, after the retry policy gave up
    │   ├── ServerError            5xx, after the retry policy gave up
    │   └── OutcomeUnknownError    a create request may or may not have been accepted
    ├── TransportError             no response (connection, timeout) after retries
    ├── WebhookVerificationError   a webhook delivery failed verification
    └── StoreError                 the output location cannot be used as asked

Messages say what failed, on which row/batch/run, and what to do. They never contain an API key,
a webhook secret or a presigned URL.
"""

from __future__ import annotations

__all__ = [
    "APIError",
    "AuthenticationError",
    "ExtendError",
    "InputError",
    "InvalidRequestError",
    "NotFoundError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "RateLimitedError",
    "ServerError",
    "StoreError",
    "TransportError",
    "UsageBlockedError",
    "WebhookVerificationError",
]


class ExtendError(Exception):
    """Root of every error raised on purpose by extend_frames."""


class InputError(ExtendError, ValueError):
    """The input cannot be processed as given; nothing was sent."""


class APIError(ExtendError):
    """The Extend API answered with an error.

    Attributes carry the context: HTTP ``status``, Extend ``code``, ``message``, ``request_id``,
    the request ``method`` and ``path`` (never the query string, which may hold a signature),
    and ``retryable``: whether sending the same request again may succeed.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        retryable: bool = False,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.retryable = retryable
        self.method = method
        self.path = path
        super().__init__(self._render())

    def _render(self) -> str:
        where = f"{self.method} {self.path}: " if self.method and self.path else ""
        head = " ".join(str(p) for p in (self.status, self.code) if p is not None)
        rid = f" (request id {self.request_id})" if self.request_id else ""
        return f"{where}{head + ': ' if head else ''}{self.message}{rid}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r}, request_id={self.request_id!r}, "
            f"retryable={self.retryable!r})"
        )


class AuthenticationError(APIError):
    """401: the API key is missing, malformed or revoked. Check EXTEND_API_KEY."""


class PermissionDeniedError(APIError):
    """403: the key may not act on this resource (wrong workspace?)."""


class NotFoundError(APIError):
    """404: no such resource in this workspace."""


class InvalidRequestError(APIError):
    """400/422: the request was rejected as invalid; fix it before retrying."""


class UsageBlockedError(APIError):
    """402: the organisation is out of credits."""


class RateLimitedError(APIError):
    """429 that outlasted the retry policy."""


class ServerError(APIError):
    """5xx that outlasted the retry policy."""


class OutcomeUnknownError(APIError):
    """A request that creates runs may or may not have been accepted.

    The request was sent, and then the connection failed, timed out or the server answered 5xx.
    Extend has no idempotency key, so the request is never retried blindly: reconcile (list the
    runs created since, match their metadata) before deciding to submit again.
    """


class TransportError(ExtendError):
    """No HTTP response could be obtained (connection refused/reset, timeout) after retries."""


class WebhookVerificationError(ExtendError):
    """A webhook delivery failed verification (missing headers, stale timestamp, bad signature)."""


class StoreError(ExtendError):
    """The output location cannot be used as asked (locked, belongs to another job, corrupt)."""
