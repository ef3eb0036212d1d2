"""The api layer of extend_frames: the HTTP client (see docs/ARCHITECTURE.md).

``Client`` paces requests per Extend rate-limit category, retries what is safe to retry
(:func:`decide`), and raises the typed errors of :mod:`extend_frames._errors`.
"""

from __future__ import annotations

from extend_frames.api._client import Client
from extend_frames.api._clock import Clock, MonotonicClock, VirtualClock
from extend_frames.api._config import REGIONS, RateLimits, Timeouts
from extend_frames.api._models import BatchRun
from extend_frames.api._ratelimit import Category, category_for
from extend_frames.api._retry import (
    Decision,
    Failure,
    RequestKind,
    RetryBudget,
    RetryPolicy,
    decide,
    parse_retry_after,
)
from extend_frames.api._upload import BytesSource, SourceReadError, UploadSource

__all__ = [
    "REGIONS",
    "BatchRun",
    "BytesSource",
    "Category",
    "Client",
    "Clock",
    "Decision",
    "Failure",
    "MonotonicClock",
    "RateLimits",
    "RequestKind",
    "RetryBudget",
    "RetryPolicy",
    "SourceReadError",
    "Timeouts",
    "UploadSource",
    "VirtualClock",
    "category_for",
    "decide",
    "parse_retry_after",
]
