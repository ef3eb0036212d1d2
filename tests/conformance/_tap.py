"""Tap every response (and webhook delivery) an in-process emulator sends; validate strictly.

``tapping()`` wraps the emulator's outermost ASGI layer (its gate) for the duration of a test:
each Extend-path response (not the emulator-only ``/_emulator/`` routes) is matched to the SDK
type of its route (``_routes.model_for``) and checked with ``_strict.findings``. Findings are
collected, not raised inside the server, and the autouse fixture in ``tests/conftest.py`` fails
the test that caused them. So every test that talks to an ``Emulator`` is a conformance test.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from extend_ai.types import WebhookEvent

from extend_frames.emulator import _delivery, _gate

from ._routes import model_for
from ._strict import Finding, findings


@dataclass
class Tap:
    """What was checked and what was found, per route.

    ``observe`` only records the response (the emulator's event loop must not pay for the
    check); ``finish`` validates everything recorded, each distinct body once.
    """

    checked: dict[str, int] = field(default_factory=dict)
    found: list[tuple[str, Finding]] = field(default_factory=list)
    unknown_routes: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    pending: list[tuple[str, str, int, bytes]] = field(default_factory=list)
    seen: set[tuple[str, str, int, int]] = field(default_factory=set)

    def observe(self, method: str, path: str, status: int, body: bytes) -> None:
        with self.lock:
            self.pending.append((method, path, status, body))

    def observe_webhook(self, body: bytes) -> None:
        """A webhook delivery the emulator is about to send (checked as the SDK's event)."""
        self.observe("WEBHOOK", "", 200, body)

    def finish(self) -> Tap:
        """Validate every response recorded so far (idempotent); returns the tap."""
        with self.lock:
            pending, self.pending = self.pending, []
        for method, path, status, body in pending:
            self._check(method, path, status, body)
        return self

    def _check(self, method: str, path: str, status: int, body: bytes) -> None:
        model = _webhook_model(body) if method == "WEBHOOK" else model_for(method, path, status)
        if model is None:
            self.unknown_routes.add(f"{method} {path}")
            return
        name = "WebhookEvent" if method == "WEBHOOK" else getattr(model, "__name__", model)
        key = f"{method} {name}"
        self.checked[key] = self.checked.get(key, 0) + 1
        digest = (method, path, status, hash(body))
        if digest in self.seen:  # the same answer again (a poll): already judged
            return
        self.seen.add(digest)
        try:
            data: Any = json.loads(body)
        except ValueError:
            new = [Finding("$", "the body is not JSON")]
        else:
            new = findings(model, data)
        self.found.extend((f"{method} {path} -> {status}", f) for f in new)

    def distinct(self) -> dict[str, int]:
        """Findings grouped by route template and problem (array indexes folded)."""
        counts: dict[str, int] = {}
        for route, finding in self.found:
            key = re.sub(
                r"/(pr|exr|clr|splr|bpr|bpar|file|ex|cl|spl|exv|clv|splv|wh|whes)_[\w-]+",
                r"/\1_*",
                route,
            )
            key += ": " + re.sub(r"\[\d+\]", "[]", str(finding))
            counts[key] = counts.get(key, 0) + 1
        return counts

    def report(self) -> str:
        items = sorted(self.distinct().items())
        lines = [f"{key}  (x{n})" for key, n in items[:30]]
        more = len(items) - 30
        return "\n".join(lines + ([f"... and {more} more kinds"] if more > 0 else []))


_ACTIVE: list[Tap] = []


def _webhook_model(body: bytes) -> Any | None:
    """The SDK's event union; None for a signed-URL envelope (not in the union: the SDK's
    wrapper builds that one itself)."""
    try:
        payload = json.loads(body).get("payload")
    except (ValueError, AttributeError):
        return WebhookEvent
    if isinstance(payload, dict) and payload.get("object") == "signed_data_url":
        return None
    return WebhookEvent


class _Capture:
    """The ``send`` the gate sees: forwards every message, validates each finished body.

    Keeps the server's ``send.__self__`` visible, which the gate uses to drop a connection.
    """

    def __init__(self, scope: Any, send: Any) -> None:
        self.__self__ = getattr(send, "__self__", None)
        self._scope = scope
        self._send = send
        self._status = 0
        self._chunks: list[bytes] = []

    async def __call__(self, message: Any) -> None:
        if message["type"] == "http.response.start":
            self._status = message["status"]
        elif message["type"] == "http.response.body":
            self._chunks.append(message.get("body", b""))
            if not message.get("more_body") and self._status:
                body = b"".join(self._chunks)
                for tap in list(_ACTIVE):
                    tap.observe(self._scope["method"], self._scope["path"], self._status, body)
        await self._send(message)


def _wrap(original: Any) -> Any:
    async def call(self: Any, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not _ACTIVE or scope["path"].startswith("/_emulator/"):
            await original(self, scope, receive, send)
            return
        await original(self, scope, receive, _Capture(scope, send))

    return call


_ORIGINAL = _gate.Gate.__call__
_ORIGINAL_ENVELOPE = _delivery.Deliverer._envelope


def _envelope(self: Any, *args: Any, **kwargs: Any) -> bytes:
    body: bytes = _ORIGINAL_ENVELOPE(self, *args, **kwargs)
    for tap in list(_ACTIVE):
        tap.observe_webhook(body)
    return body


@contextlib.contextmanager
def tapping() -> Iterator[Tap]:
    """Validate every emulator response while the block runs; yields the Tap."""
    tap = Tap()
    if not _ACTIVE:
        _gate.Gate.__call__ = _wrap(_ORIGINAL)  # type: ignore[method-assign]
        _delivery.Deliverer._envelope = _envelope  # type: ignore[method-assign]
    _ACTIVE.append(tap)
    try:
        yield tap
    finally:
        _ACTIVE.remove(tap)
        if not _ACTIVE:
            _gate.Gate.__call__ = _ORIGINAL  # type: ignore[method-assign]
            _delivery.Deliverer._envelope = _ORIGINAL_ENVELOPE  # type: ignore[method-assign]
        tap.finish()
