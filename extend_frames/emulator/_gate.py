"""The ASGI gate in front of every route: auth, API version, rate limits, faults, stats, errors.

A pure ASGI middleware (no per-request task or body buffering) because it sits on the hot GET
path. It is the only place that turns exceptions into responses, so every failure, including
unknown routes, wrong methods and internal errors, leaves as an Extend error body. Paths under
``/_emulator/`` are operator endpoints: no auth, no limits, no faults, not counted.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.routing import Match, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._config import API_VERSION
from ._errors import ApiError, error_body, internal
from ._faults import ErrorRates, chance
from ._ratelimit import RateLimiter, category
from ._state import State

log = logging.getLogger("extend_frames.emulator")

OPERATOR_PREFIX = "/_emulator/"


class ConnectionDroppedError(Exception):
    """Raised in-process (no socket to close) when a dropped connection is injected."""


def _headers(scope: Scope) -> tuple[bytes | None, bytes | None]:
    auth = version = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            auth = value
        elif name == b"x-extend-api-version":
            version = value
    return auth, version


class Gate:
    def __init__(self, app: ASGIApp, router: Router, state: State) -> None:
        self.app = app
        self.router = router
        self.state = state
        config = state.config
        self.keys = (
            None if config.api_keys is None else {f"Bearer {k}".encode() for k in config.api_keys}
        )
        self.version = API_VERSION.encode()
        self.limiter = RateLimiter(config.rate_limits)
        self.faults = config.faults
        self.error_rates = ErrorRates(config.faults)
        self.any_fault = bool(
            self.error_rates.any or self.faults.slow_rate or self.faults.drop_rate
        )
        self._requests = itertools.count()
        self._fault_index = itertools.count()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = f"req_{next(self._requests):021x}"
        scope["extend.request_id"] = request_id
        path: str = scope["path"]
        if path.startswith(OPERATOR_PREFIX):
            await self._call(scope, receive, send, request_id, count=False)
            return
        rejection = self._admit(scope, path)
        if rejection is not None:
            self._count(scope, rejection.status)
            await self._send_error(send, rejection, request_id)
            return
        if self.any_fault and await self._inject(scope, send, path):
            return
        await self._call(scope, receive, send, request_id, count=True)

    def _admit(self, scope: Scope, path: str) -> ApiError | None:
        auth, version = _headers(scope)
        if auth is None or not auth.startswith(b"Bearer ") or len(auth) <= 7:
            return ApiError(
                401, "UNAUTHORIZED", "Missing API key: send Authorization: Bearer <key>"
            )
        if self.keys is not None and auth not in self.keys:
            return ApiError(401, "UNAUTHORIZED", "Invalid API key")
        if version != self.version:
            got = "missing" if version is None else repr(version.decode(errors="replace"))
            return ApiError(
                400,
                "INVALID_REQUEST",
                f"x-extend-api-version is {got}; this server supports {API_VERSION}",
            )
        cat = category(scope["method"], path)
        storm = self.state.storms.active(cat)
        if storm is not None:
            self.state.stats.faults["storm_429"] += 1
        retry_after = storm.retry_after if storm is not None else self.limiter.check(cat)
        if retry_after is not None:
            self.state.stats.rate_limited[cat] += 1
            return ApiError(
                429,
                "RATE_LIMIT_EXCEEDED",
                "Too many requests. Back off and retry.",
                retryable=True,
                headers={"retry-after": str(retry_after)},
            )
        return self._refuse(scope["method"], path, cat)

    def _refuse(self, method: str, path: str, cat: str) -> ApiError | None:
        refusals = self.state.refusals
        if not refusals.any:
            return None
        refused = refusals.check(method, path, cat, self.state.stats.inputs_submitted)
        if refused is not None:
            self.state.stats.faults[f"refused_{refused.status}"] += 1
        return refused

    async def _inject(self, scope: Scope, send: Send, path: str) -> bool:
        """Apply seeded request faults; True when the request was answered (or dropped)."""
        n = next(self._fault_index)
        seed = self.faults.seed
        stats = self.state.stats
        if self.faults.drop_rate and chance(seed, "drop", n) < self.faults.drop_rate:
            stats.faults["dropped"] += 1
            self._count(scope, 0)
            await _drop(send)
            return True
        method = scope["method"]
        rate = self.error_rates.rate(method, path, category(method, path))
        if rate and chance(seed, "error", n) < rate:
            stats.faults["errors"] += 1
            self._count(scope, 500)
            await self._send_error(send, internal(), scope["extend.request_id"])
            return True
        if self.faults.slow_rate and chance(seed, "slow", n) < self.faults.slow_rate:
            stats.faults["slow"] += 1
            await asyncio.sleep(self.faults.slow_seconds)
        return False

    async def _call(
        self, scope: Scope, receive: Receive, send: Send, request_id: str, *, count: bool
    ) -> None:
        status = 0
        rid = request_id.encode()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-extend-request-id", rid)]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            err = _as_api_error(exc, scope)
            if status:  # the response already started: nothing sensible left to send
                log.exception("emulator error after the response started")
                raise
            status = err.status
            await self._send_error(send, err, request_id)
        if count:
            self._count(scope, status)

    def _count(self, scope: Scope, status: int) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or self._template(scope)
        self.state.stats.record_request(f"{scope['method']} {template}", status)

    def _template(self, scope: Scope) -> str:
        partial = None
        for route in self.router.routes:
            match, _ = route.matches(scope)
            if match == Match.FULL:
                return str(getattr(route, "path", "?"))
            if match == Match.PARTIAL and partial is None:
                partial = str(getattr(route, "path", "?"))
        return partial or "<unmatched>"

    async def _send_error(self, send: Send, err: ApiError, request_id: str) -> None:
        body = error_body(err, request_id)
        headers: list[tuple[bytes, bytes]] = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-extend-request-id", request_id.encode()),
        ]
        headers.extend((k.encode(), v.encode()) for k, v in err.headers.items())
        await send({"type": "http.response.start", "status": err.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _as_api_error(exc: Exception, scope: Scope) -> ApiError:
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, HTTPException):
        if exc.status_code == 404:
            return ApiError(404, "NOT_FOUND", f"No route for {scope['method']} {scope['path']}")
        if exc.status_code == 405:
            allow = (exc.headers or {}).get("Allow", "")
            return ApiError(
                405,
                "INVALID_REQUEST",
                f"Method {scope['method']} is not allowed on {scope['path']}; allowed: {allow}",
                headers={"allow": allow} if allow else None,
            )
        return ApiError(exc.status_code, "INVALID_REQUEST", str(exc.detail))
    log.exception("emulator internal error on %s %s", scope["method"], scope["path"])
    return internal()


async def _drop(send: Send) -> None:
    """Close the client connection without a response (uvicorn), or raise in-process."""
    cycle: Any = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise ConnectionDroppedError("injected dropped connection")
    transport.abort()
    await asyncio.sleep(0)  # let the protocol see connection_lost before the app returns
