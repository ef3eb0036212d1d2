"""Telemetry of the HTTP client: one span and one count per request attempt.

Spans follow the OpenTelemetry semantic conventions for HTTP clients: named
``{method} {url.template}`` (``GET /extract_runs/{id}``), kind CLIENT, with
``http.request.method``, ``url.template``, ``server.address``/``server.port``,
``http.response.status_code``, ``http.request.resend_count`` and ``error.type``. Never a full
URL, a query string, a header or a body: the template replaces every id, so neither the API
key, a presigned URL nor a document's text can reach an attribute.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

import extend_frames._telemetry as telemetry
from extend_frames._operations import OPERATIONS, PROCESSOR_KINDS
from extend_frames.api._ratelimit import Category, Pacer

__all__ = ["Attempt", "attempt_span", "pacer_rates", "rate_limited", "route_template"]

# Path segments kept as written; every other segment is an id (``{id}``, or ``{version}`` after
# ``versions``). docs/extend-api.md lists the paths.
_STATIC = frozenset(
    {
        "files", "upload", "batch", "batch_runs", "batch_processor_runs", "cancel", "versions",
        "webhook_endpoints", "webhook_subscriptions", "parse", "extract", "classify", "split",
        *(f"{kind}s" for kind in PROCESSOR_KINDS),
        *(spec.run_path.strip("/") for spec in OPERATIONS.values()),
    }
)  # fmt: skip


def route_template(path: str) -> str:
    """The route template of a request path: ids replaced by their parameter name.

    >>> route_template("/extract_runs/exr_1a2b")
    '/extract_runs/{id}'
    >>> route_template("/extractors/ex_1/versions/2.0")
    '/extractors/{id}/versions/{version}'
    """
    out: list[str] = []
    for segment in path.split("?", 1)[0].strip("/").split("/"):
        if segment in _STATIC or not segment:
            out.append(segment)
        else:
            out.append("{version}" if out and out[-1] == "versions" else "{id}")
    return "/" + "/".join(out)


@dataclass(slots=True)
class Attempt:
    """One attempt's outcome, filled in while its span is open."""

    span: telemetry.SpanHandle
    attributes: dict[str, str | int]

    def answered(self, status: int) -> None:
        self.span.set("http.response.status_code", status)
        self.attributes["http.response.status_code"] = status
        if status >= 400:
            self.span.error(str(status))
            self.attributes["error.type"] = str(status)

    def failed(self, exc: BaseException) -> None:
        self.span.error(type(exc).__qualname__)
        self.attributes["error.type"] = type(exc).__qualname__


@contextmanager
def attempt_span(
    method: str, path: str, *, url: httpx.URL, category: Category, attempt: int
) -> Iterator[Attempt]:
    """The CLIENT span of one attempt; counts it (``extend_frames.requests``) and its duration
    (``http.client.request.duration``) when it ends."""
    template = route_template(path)
    common: dict[str, str | int] = {
        "http.request.method": method,
        "url.template": template,
        "server.address": url.host,
    }
    if url.port is not None:
        common["server.port"] = url.port
    attributes = dict(common)
    if attempt > 1:
        attributes["http.request.resend_count"] = attempt - 1
    with telemetry.span(f"{method} {template}", attributes, kind="client") as handle:
        outcome = Attempt(handle, common)
        started = time.monotonic()  # wall time: a test's virtual clock does not move here
        try:
            yield outcome
        except BaseException as exc:
            outcome.failed(exc)
            raise
        finally:
            telemetry.record(
                "http.client.request.duration", time.monotonic() - started, outcome.attributes
            )
            telemetry.add(
                "extend_frames.requests",
                1,
                {**outcome.attributes, "extend.rate_limit.category": category.value},
            )


def rate_limited(category: Category, retry_after: float | None) -> None:
    """A 429: counted per category; its Retry-After hold recorded (seconds)."""
    attributes = {"extend.rate_limit.category": category.value}
    telemetry.add("extend_frames.rate_limited", 1, attributes)
    if retry_after is not None and retry_after > 0:
        telemetry.record("extend_frames.retry_after", retry_after, attributes)


def pacer_rates(pacers: dict[Category, Pacer]) -> list[tuple[float, telemetry.Attributes]]:
    """The current rate of each category's pacer (the ``extend_frames.pacer.rate`` gauge)."""
    return [(p.rate, {"extend.rate_limit.category": c.value}) for c, p in pacers.items()]
