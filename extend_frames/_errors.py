"""The exception tree of extend_frames.

Every error the library raises on purpose derives from :class:`ExtendError`::

    ExtendError                    transient?
    ├── InputError                 no    bad input, found before any request is sent
    │   └── SourceRefusedError     no    a file reference the read policy refuses (internal:
    │                                    jobs/_sources.py; the row's failure, never the job's)
    ├── APIError                   .retryable  the API answered with an error
    │   ├── AuthenticationError    no    401
    │   ├── PermissionDeniedError  no    403
    │   ├── NotFoundError          no    404
    │   ├── InvalidRequestError    no    400 / 422
    │   ├── UsageBlockedError      no    402
    │   ├── RateLimitedError       yes   429, after the retry policy gave up
    │   ├── ServerError            yes   5xx, after the retry policy gave up
    │   └── OutcomeUnknownError    yes   a create request may or may not have been accepted
    ├── TransportError             yes   no response (connection, timeout) after retries
    ├── BatchTimeoutError          yes   a batch did not end within Polling(timeout=...)
    ├── WebhookVerificationError   no    a webhook delivery failed verification
    ├── SourceReadError            no    reading an upload's source failed (internal:
    │                                    api/_upload.py; the row's failure, never the job's)
    ├── StoreError                 no    the output location cannot be used as asked
    └── TableError                 no    a lakehouse table (table=) cannot take this job's rows

**Transient** errors may go away if the same call is made again later, unchanged (a rerun with
``output=`` resumes without paying twice); **terminal** ones need a change first (the input,
the key, credits, the path). ``exc.transient`` says which; the CLI's exit code follows it
(``extend-frames --help``). Errors carry their context as attributes where it applies:
``path`` (the output path, or an API error's request path), ``rows`` (input row positions),
``batch_id`` and ``run_id``.

Messages say what failed, on which row/batch/run, and what to do. They never contain an API key,
a webhook secret or a presigned URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

__all__ = [
    "APIError",
    "AuthenticationError",
    "BatchTimeoutError",
    "ExtendError",
    "InputError",
    "InvalidRequestError",
    "NotFoundError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "RateLimitedError",
    "ServerError",
    "StoreError",
    "TableError",
    "TransportError",
    "UsageBlockedError",
    "WebhookVerificationError",
]


class ExtendError(Exception):
    """Root of every error raised on purpose by extend_frames.

    ``path``, ``rows``, ``batch_id`` and ``run_id`` hold the context where it applies (None
    otherwise); ``transient`` whether the same call may succeed later, unchanged.
    """

    #: The class's marking: transient (retry later) or terminal (change something first).
    TRANSIENT: ClassVar[bool] = False

    def __init__(
        self,
        *args: object,
        path: str | None = None,
        rows: Sequence[int] | None = None,
        batch_id: str | None = None,
        run_id: str | None = None,
    ) -> None:
        super().__init__(*args)
        self.path = path
        self.rows: tuple[int, ...] | None = tuple(rows) if rows is not None else None
        self.batch_id = batch_id
        self.run_id = run_id

    @property
    def transient(self) -> bool:
        """True: the same call may succeed later (rerun it); False: change something first."""
        return self.TRANSIENT


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
        **context: Any,  # path (the request path), batch_id, run_id: see ExtendError
    ) -> None:
        self.message, self.status, self.code = message, status, code
        self.request_id, self.retryable, self.method = request_id, retryable, method
        super().__init__(self._render_with(method, context.get("path")), **context)

    @property
    def transient(self) -> bool:
        """The server said the request may be retried (``retryable``), or the class is transient
        (429, 5xx, outcome unknown)."""
        return self.retryable or self.TRANSIENT

    def _render_with(self, method: str | None, path: str | None) -> str:
        where = f"{method} {path}: " if method and path else ""
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

    TRANSIENT = True


class ServerError(APIError):
    """5xx that outlasted the retry policy."""

    TRANSIENT = True


class OutcomeUnknownError(APIError):
    """A request that creates runs may or may not have been accepted.

    The request was sent, and then the connection failed, timed out or the server answered 5xx.
    Extend has no idempotency key, so the request is never retried blindly: reconcile (list the
    runs created since, match their metadata) before deciding to submit again. Transient: a
    rerun with ``output=`` reconciles and resumes.
    """

    TRANSIENT = True


class TransportError(ExtendError):
    """No HTTP response could be obtained (connection refused/reset, timeout) after retries."""

    TRANSIENT = True


class BatchTimeoutError(ExtendError, TimeoutError):
    """A batch did not end within ``Polling(timeout=...)`` (``batch_id`` says which).

    Also a :class:`TimeoutError`. Transient: the batch is still running at Extend; rerun the
    same call with ``output=`` (or ``xf.collect(output)``) to resume waiting.
    """

    TRANSIENT = True


class WebhookVerificationError(ExtendError):
    """A webhook delivery failed verification (missing headers, stale timestamp, bad signature)."""


class StoreError(ExtendError):
    """The output location cannot be used as asked (locked, belongs to another job, corrupt)."""


class TableError(ExtendError):
    """A lakehouse table (``table=``: Delta or Iceberg) cannot take the job's rows as asked: a
    field changed type, the table's library is missing, or the table refused the commit.
    ``path`` is the table's display form (never credentials)."""
