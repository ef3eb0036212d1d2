"""extend_frames: a table of documents in, a table of typed results out, through Extend's API.

>>> import extend_frames as xf
>>> xf.__version__ != ""
True
"""

from __future__ import annotations

from extend_frames._errors import (
    APIError,
    AuthenticationError,
    BatchTimeoutError,
    ExtendError,
    InputError,
    InvalidRequestError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    StoreError,
    TableError,
    TransportError,
    UsageBlockedError,
    WebhookVerificationError,
)
from extend_frames._version import __version__
from extend_frames.api import BatchRun, Client, RateLimits, RetryPolicy, Timeouts
from extend_frames.frames import (
    JobSummary,
    Plan,
    aclassify,
    acollect,
    aextract,
    aparse,
    aplan,
    aread_batch,
    asplit,
    classify,
    collect,
    extract,
    parse,
    plan,
    read_batch,
    read_results,
    report,
    result_schema,
    split,
    summarize,
)
from extend_frames.jobs import Concurrency, Polling
from extend_frames.store import Cache
from extend_frames.tables import Delta, Iceberg
from extend_frames.tables import compact as compact_table
from extend_frames.webhooks import (
    WebhookEvent,
    WebhookHub,
    WebhookReceiver,
)
from extend_frames.webhooks import parse as parse_webhook
from extend_frames.webhooks import verify as verify_webhook

__all__ = [
    "APIError",
    "AuthenticationError",
    "BatchRun",
    "BatchTimeoutError",
    "Cache",
    "Client",
    "Concurrency",
    "Delta",
    "ExtendError",
    "Iceberg",
    "InputError",
    "InvalidRequestError",
    "JobSummary",
    "NotFoundError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "Plan",
    "Polling",
    "RateLimitedError",
    "RateLimits",
    "RetryPolicy",
    "ServerError",
    "StoreError",
    "TableError",
    "Timeouts",
    "TransportError",
    "UsageBlockedError",
    "WebhookEvent",
    "WebhookHub",
    "WebhookReceiver",
    "WebhookVerificationError",
    "__version__",
    "aclassify",
    "acollect",
    "aextract",
    "aparse",
    "aplan",
    "aread_batch",
    "asplit",
    "classify",
    "collect",
    "compact_table",
    "extract",
    "parse",
    "parse_webhook",
    "plan",
    "read_batch",
    "read_results",
    "report",
    "result_schema",
    "split",
    "summarize",
    "verify_webhook",
]
