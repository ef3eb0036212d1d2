"""Telemetry seam: spans and metrics for a job, through ``opentelemetry-api`` when installed.

Every layer reports through the functions here and nothing else, so the instrumentation scope
(``extend_frames``), the names and the secret rules live in one module. Without
``opentelemetry-api`` (extra ``otel``) they are no-ops; the API is imported on the first span
or measurement, never by ``import extend_frames``. A library only talks to the API: the
application installs the SDK and its exporters (docs/guides/observability.md lists every
span, metric and attribute name: they are a public interface).

Spans are context managers that make themselves current through ``contextvars``, so asyncio
tasks started inside one (``TaskGroup``, ``gather``) are its children: one job is one trace.
Instruments are created once per name, on first use.

>>> with span("extend_frames.example", {"extend.job_id": "job_1"}) as current:
...     current.set("extend.batch_id", "bpr_1")
...     add("extend_frames.example.count", 1)
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from extend_frames._version import __version__

__all__ = [
    "ATTRIBUTES",
    "METRICS",
    "SCOPE",
    "SPANS",
    "Attributes",
    "SpanHandle",
    "add",
    "collected",
    "current",
    "in_flight",
    "move",
    "observe",
    "record",
    "span",
]

Attributes = Mapping[str, str | int | float | bool | None]
Value = str | int | float | bool

#: The instrumentation scope of every span and instrument.
SCOPE = "extend_frames"

#: Span names (besides the HTTP client spans, named ``{method} {url.template}``).
SPANS: dict[str, str] = {
    "extend_frames.job": "one call of an operation (xf.extract, collect...): the trace's root",
    "extend_frames.chunk": "one batch of the job (a batch POST, or a group of single runs)",
    "extend_frames.upload": "one local/fsspec file uploaded (POST /files/upload)",
    "extend_frames.submit": "a batch's (or a single-run group's) submission",
    "extend_frames.reconcile": "listing the runs a POST of unknown outcome may have created",
    "extend_frames.wait": "waiting for a batch to end (polls, or a webhook)",
    "extend_frames.collect": "listing and fetching a batch's runs",
    "extend_frames.publish": "publishing a collected batch to a table",
}

#: Attribute names of our own (``extend.*``); HTTP spans also carry the semantic-convention
#: attributes ``http.request.method``, ``http.response.status_code``, ``url.template``,
#: ``server.address``, ``server.port``, ``http.request.resend_count`` and ``error.type``.
ATTRIBUTES: dict[str, str] = {
    "extend.job_id": "the job id (the manifest's job_id; run metadata carries it)",
    "extend.batch_id": "the Extend batch id of a chunk (its last submission)",
    "extend.run_id": "an Extend run id",
    "extend.chunk": "the chunk's index in the job (0-based; 'batch N' in messages)",
    "extend.operation": "parse | extract | classify | split",
    "extend.route": "batch | single",
    "extend.rate_limit.category": "get | write | run: the rate-limit category of a request",
    "extend.status": "a row's status (PROCESSED, FAILED, ...)",
}

Kind = Literal["counter", "updown", "histogram", "gauge"]


@dataclass(frozen=True, slots=True)
class Metric:
    """How an instrument is created: its kind, unit and description."""

    kind: Kind
    unit: str
    description: str


#: Every instrument; a name not listed here is created as ``add``/``record``/``move`` implies,
#: with no unit (for a caller's own measurements through the seam).
METRICS: dict[str, Metric] = {
    "http.client.request.duration": Metric(
        "histogram", "s", "duration of one HTTP request attempt (semantic conventions)"
    ),
    "extend_frames.requests": Metric(
        "counter", "{request}", "HTTP request attempts by category, template and status"
    ),
    "extend_frames.rate_limited": Metric(
        "counter", "{response}", "429 answers by rate-limit category"
    ),
    "extend_frames.retry_after": Metric(
        "histogram", "s", "Retry-After holds: how long a 429 held its category"
    ),
    "extend_frames.pacer.rate": Metric(
        "gauge", "{request}/s", "the pacer's current target rate per category"
    ),
    "extend_frames.rows": Metric("counter", "{row}", "rows collected, by status and operation"),
    "extend_frames.credits": Metric("counter", "{credit}", "credits of the rows collected"),
    "extend_frames.documents.in_flight": Metric(
        "updown", "{document}", "documents submitted and waited for, not collected yet"
    ),
    "extend_frames.batch.queue.duration": Metric(
        "histogram", "s", "a batch's time PENDING at Extend, as polling saw it"
    ),
    "extend_frames.batch.processing.duration": Metric(
        "histogram", "s", "a batch's time PROCESSING at Extend, as polling saw it"
    ),
}


class SpanHandle:
    """The span a :func:`span` block is in: set attributes once they are known."""

    __slots__ = ("_span",)

    def __init__(self, otel_span: Any = None) -> None:
        self._span = otel_span

    def set(self, key: str, value: Value | None) -> None:
        """Set one attribute (None: nothing)."""
        if self._span is not None and value is not None:
            self._span.set_attribute(key, _value(value))

    def error(self, error_type: str) -> None:
        """Mark the span failed with ``error.type`` (a class name or a status code, no text)."""
        if self._span is not None:
            _fail(self._span, error_type)


_NOOP = SpanHandle()


def current() -> SpanHandle:
    """The span the caller runs in (to add an attribute learnt later, e.g. the job id)."""
    otel = _otel()
    return _NOOP if otel is None else SpanHandle(otel.current())


@contextmanager
def span(
    name: str,
    attributes: Attributes | None = None,
    *,
    kind: Literal["internal", "client"] = "internal",
) -> Iterator[SpanHandle]:
    """A span named ``name`` around the block, current inside it (and in the tasks it
    starts). An exception marks it failed with ``error.type`` (the class name: exception
    messages are never recorded, they may quote a path or a value)."""
    otel = _otel()
    if otel is None:
        yield _NOOP
        return
    with otel.tracer.start_as_current_span(
        name,
        kind=otel.client_kind if kind == "client" else otel.internal_kind,
        attributes=_clean(attributes),
        record_exception=False,
        set_status_on_exception=False,
    ) as current:
        try:
            yield SpanHandle(current)
        except BaseException as exc:
            _fail(current, type(exc).__qualname__)
            raise


def add(metric: str, value: float, attributes: Attributes | None = None) -> None:
    """Add ``value`` (>= 0) to the counter ``metric``."""
    otel = _otel()
    if otel is not None:
        otel.instrument(metric, "counter").add(value, _clean(attributes))


def move(metric: str, delta: float, attributes: Attributes | None = None) -> None:
    """Add ``delta`` (either sign) to the up-down counter ``metric``."""
    otel = _otel()
    if otel is not None:
        otel.instrument(metric, "updown").add(delta, _clean(attributes))


def record(metric: str, value: float, attributes: Attributes | None = None) -> None:
    """Record ``value`` in the histogram ``metric``."""
    otel = _otel()
    if otel is not None:
        otel.instrument(metric, "histogram").record(value, _clean(attributes))


def collected(operation: str, by_status: Mapping[str, int], credits: float) -> None:
    """A chunk was collected: its rows by status and its credits (``extend_frames.rows``,
    ``extend_frames.credits``). The engine calls it once per collected chunk."""
    for status, rows in by_status.items():
        add("extend_frames.rows", rows, {"extend.operation": operation, "extend.status": status})
    add("extend_frames.credits", credits, {"extend.operation": operation})


def in_flight(operation: str, documents: int) -> None:
    """Documents submitted and now waited for (+n), or collected or abandoned (-n)."""
    move("extend_frames.documents.in_flight", documents, {"extend.operation": operation})


Reading = Iterable[tuple[float, Attributes]]


def observe(metric: str, owner: object, read: Callable[[Any], Reading]) -> None:
    """Report ``read(owner)`` (values with attributes) under the gauge ``metric`` at each
    collection, while ``owner`` lives (held weakly: a client's pacers die with it)."""
    otel = _otel()
    if otel is not None:
        otel.watch(metric, owner, read)


# -- the OpenTelemetry side, imported on first use ---------------------------------------------


@dataclass(slots=True)
class _Otel:
    """The tracer, the meter and every instrument created so far (one per name)."""

    tracer: Any
    meter: Any
    api: Any  # opentelemetry.metrics (Observation)
    current: Callable[[], Any]  # opentelemetry.trace.get_current_span
    client_kind: Any
    internal_kind: Any
    instruments: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, list[tuple[weakref.ref[Any], Callable[[Any], Reading]]]] = field(
        default_factory=dict
    )
    lock: threading.Lock = field(default_factory=threading.Lock)

    def instrument(self, name: str, kind: Kind) -> Any:
        found = self.instruments.get(name)
        if found is not None:
            return found
        with self.lock:
            if name not in self.instruments:
                spec = METRICS.get(name) or Metric(kind, "", "")
                make = {
                    "counter": self.meter.create_counter,
                    "updown": self.meter.create_up_down_counter,
                    "histogram": self.meter.create_histogram,
                }[spec.kind]
                self.instruments[name] = make(name, unit=spec.unit, description=spec.description)
            return self.instruments[name]

    def watch(self, name: str, owner: object, read: Callable[[Any], Reading]) -> None:
        with self.lock:
            first = name not in self.sources
            # dead owners are dropped here too: without a reader nothing else would drop them
            live = [(r, f) for r, f in self.sources.get(name, ()) if r() is not None]
            self.sources[name] = [*live, (weakref.ref(owner), read)]
            if first:
                spec = METRICS.get(name) or Metric("gauge", "", "")
                self.instruments[name] = self.meter.create_observable_gauge(
                    name,
                    callbacks=[lambda _options: self._observations(name)],
                    unit=spec.unit,
                    description=spec.description,
                )

    def _observations(self, name: str) -> list[Any]:
        with self.lock:
            live = [(ref, read) for ref, read in self.sources[name] if ref() is not None]
            self.sources[name] = live
        out: list[Any] = []
        for ref, read in live:
            owner = ref()
            if owner is not None:
                out.extend(self.api.Observation(v, _clean(a)) for v, a in read(owner))
        return out


# Why module globals: the tracer, meter and instruments are per process by OpenTelemetry's
# design (the application sets one global provider), and creating an instrument twice under
# one name is an error the SDK warns about. _STATE is set once, under _LOCK: the API module,
# or False when opentelemetry-api is not installed (then every call is a no-op).
_STATE: _Otel | Literal[False] | None = None
_LOCK = threading.Lock()


def _otel() -> _Otel | None:
    state = _STATE
    if state is None:
        state = _load()
    return state or None


def _load() -> _Otel | Literal[False]:
    global _STATE
    with _LOCK:
        if _STATE is None:
            try:
                from opentelemetry import metrics, trace
            except ImportError:
                _STATE = False
            else:
                _STATE = _Otel(
                    tracer=trace.get_tracer(SCOPE, __version__),
                    meter=metrics.get_meter(SCOPE, __version__),
                    api=metrics,
                    current=trace.get_current_span,
                    client_kind=trace.SpanKind.CLIENT,
                    internal_kind=trace.SpanKind.INTERNAL,
                )
        return _STATE


def _reset() -> None:
    """Forget the tracer, meter and instruments (tests: a fresh import state)."""
    global _STATE
    with _LOCK:
        _STATE = None


def _fail(otel_span: Any, error_type: str) -> None:
    from opentelemetry.trace import Status, StatusCode

    otel_span.set_attribute("error.type", error_type)
    otel_span.set_status(Status(StatusCode.ERROR, error_type))


def _value(value: Value) -> Value:
    """A URL loses its query, fragment and credentials (never a presigned URL in telemetry)."""
    if isinstance(value, str) and "://" in value:
        try:
            parts = urlsplit(value)
        except ValueError:
            return "<url>"
        netloc = parts.netloc.rsplit("@", 1)[-1]
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    return value


def _clean(attributes: Attributes | None) -> dict[str, Value]:
    if not attributes:
        return {}
    return {k: _value(v) for k, v in attributes.items() if v is not None}
