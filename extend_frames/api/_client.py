"""The Extend HTTP client: one configuration, one ``httpx.AsyncClient`` per event loop.

Every request goes through :meth:`Client._request`, which paces it (per-category
:class:`~extend_frames.api._ratelimit.Pacer`), sends it, and on failure executes the pure
rule :func:`~extend_frames.api._retry.decide`. Waiting goes through the policy's clock.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

import httpx

import extend_frames._telemetry as telemetry
from extend_frames._errors import (
    APIError,
    AuthenticationError,
    InputError,
    OutcomeUnknownError,
    TransportError,
)
from extend_frames._operations import (
    MAX_PAGE_SIZE,
    OPERATIONS,
    PROCESSOR_KINDS,
    Operation,
    OperationSpec,
    ProcessorKind,
)
from extend_frames._version import __version__
from extend_frames.api._config import (
    RateLimits,
    Timeouts,
    resolve_base_url,
    resolve_rate_limits,
)
from extend_frames.api._failures import make_api_error, parse_error_body, redact
from extend_frames.api._instrument import attempt_span, pacer_rates, rate_limited
from extend_frames.api._models import BatchRun, parse_timestamp
from extend_frames.api._ratelimit import Category, Pacer, category_for
from extend_frames.api._retry import (
    Decision,
    Failure,
    RequestKind,
    RetryPolicy,
    decide,
    parse_retry_after,
)
from extend_frames.api._upload import BytesSource, UploadSource, multipart

__all__ = ["Client"]

logger = logging.getLogger("extend_frames.api")

_NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)


@dataclass(slots=True)
class _Call:
    """One logical request across its attempts."""

    method: str
    path: str
    kind: RequestKind
    deadline: float
    category: Category
    attempt: int = 0
    ambiguous_before: bool = False  # an earlier attempt may have been applied


def _spec(operation: str) -> OperationSpec:
    spec = OPERATIONS.get(operation)
    if spec is None:
        raise InputError(f"unknown operation {operation!r}; use one of {', '.join(OPERATIONS)}")
    return spec


def _check_kind(kind: str) -> None:
    if kind not in PROCESSOR_KINDS:
        raise InputError(f"unknown processor kind {kind!r}; use one of {PROCESSOR_KINDS}")


def _seg(value: str) -> str:
    """A path segment (ids are opaque: escape everything)."""
    if not isinstance(value, str) or not value:
        raise InputError(f"expected a non-empty id string, got {value!r}")
    return quote(value, safe="")


class Client:
    """Extend API client: configuration plus one connection pool per event loop.

    ``api_key`` defaults to ``EXTEND_API_KEY``; ``base_url`` to ``EXTEND_BASE_URL``, else
    ``region`` (``"us"``, ``"us2"``, ``"eu1"``), else ``https://api.extend.ai``. Every request
    carries ``x-extend-api-version`` and, if set, ``x-extend-workspace-id``. ``rate_limits``
    is a plan preset or :class:`RateLimits` (default PAYG, adapting to 429s); ``retry`` a
    :class:`RetryPolicy`; ``timeout`` :class:`Timeouts`; ``transport`` an httpx async
    transport used on every loop (``httpx.MockTransport`` in tests). With the default
    transport, connections are capped at what the rates need (``max_connections``), not at
    the number of concurrent tasks.

    ``aclose()`` releases the connections of the running loop, ``close()`` those of every
    loop; a closed client stays usable (the next request opens a new pool).

    >>> client = Client(api_key="sk_example", base_url="http://127.0.0.1:8765")
    >>> "sk_example" in repr(client)
    False
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        region: str | None = None,
        api_version: str = "2026-02-09",
        workspace_id: str | None = None,
        rate_limits: RateLimits | str | None = None,
        retry: RetryPolicy | None = None,
        timeout: Timeouts | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._api_key = api_key if api_key is not None else os.environ.get("EXTEND_API_KEY")
        self.base_url = resolve_base_url(base_url, region)
        self.api_version = api_version
        self.workspace_id = workspace_id
        self.rate_limits = resolve_rate_limits(rate_limits)
        self.retry = retry if retry is not None else RetryPolicy()
        self.timeout = timeout if timeout is not None else Timeouts()
        self._transport = transport
        clock = self.retry.clock
        limits = self.rate_limits
        self._pacers = {
            Category.GET: Pacer(limits.get, clock=clock, adaptive=limits.adaptive),
            Category.WRITE: Pacer(limits.write, clock=clock, adaptive=limits.adaptive),
            Category.RUN: Pacer(limits.run, clock=clock, adaptive=limits.adaptive),
        }
        # Connections needed to sustain the rates at ~2 s per request, not one per row.
        total = limits.get + limits.write + limits.run
        self.max_connections = max(8, min(256, math.ceil(total * 2)))
        self._lock = threading.Lock()
        # A plain dict (not weak: some loop implementations refuse weak references); pools of
        # closed loops are dropped whenever a new loop opens one.
        self._pools: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self._url = httpx.URL(self.base_url)  # server.address / server.port of HTTP spans
        telemetry.observe("extend_frames.pacer.rate", self, lambda c: pacer_rates(c._pacers))

    def __repr__(self) -> str:
        key = "'***'" if self._api_key else "None"
        return (
            f"Client(base_url={self.base_url!r}, api_key={key}, api_version={self.api_version!r}, "
            f"workspace_id={self.workspace_id!r}, rate_limits={self.rate_limits!r})"
        )

    # -- connection pools ----------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self._api_key}",
            "x-extend-api-version": self.api_version,
            "User-Agent": f"extend-frames/{__version__}",
            "Accept": "application/json",
        }
        if self.workspace_id:
            headers["x-extend-workspace-id"] = self.workspace_id
        return headers

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        with self._lock:
            pool = self._pools.get(loop)
            if pool is None:
                for other in [lp for lp in self._pools if lp.is_closed()]:
                    logger.debug("dropping the connection pool of a closed event loop")
                    del self._pools[other]
                t = self.timeout
                pool = httpx.AsyncClient(
                    base_url=self.base_url,
                    headers=self._headers(),
                    timeout=httpx.Timeout(
                        connect=t.connect, read=t.read, write=t.write, pool=t.pool
                    ),
                    limits=httpx.Limits(
                        max_connections=self.max_connections,
                        max_keepalive_connections=self.max_connections,
                    ),
                    transport=self._transport,
                    follow_redirects=False,
                )
                self._pools[loop] = pool
            return pool

    async def aclose(self) -> None:
        """Close the connections opened on the running event loop."""
        loop = asyncio.get_running_loop()
        with self._lock:
            pool = self._pools.pop(loop, None)
        if pool is not None:
            await pool.aclose()

    def close(self) -> None:
        """Close the connections of every event loop this client was used on."""
        with self._lock:
            pools = list(self._pools.items())
            self._pools.clear()
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        for loop, pool in pools:
            if loop.is_closed():
                continue  # nothing can run on it any more; its sockets went with it
            try:
                if loop is current:
                    task = loop.create_task(pool.aclose())
                    self._closing.add(task)
                    task.add_done_callback(self._closing.discard)
                elif loop.is_running():
                    asyncio.run_coroutine_threadsafe(pool.aclose(), loop).result(timeout=10)
                else:
                    loop.run_until_complete(pool.aclose())
            except Exception as exc:  # best effort: closing must not mask the caller's error
                logger.debug("closing a connection pool failed: %s", type(exc).__name__)

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the request loop --------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        kind: RequestKind,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        stream: tuple[dict[str, str], Callable[[], AsyncIterator[bytes]]] | None = None,
        timeout: httpx.Timeout | None = None,  # noqa: ASYNC109 - httpx per-request timeouts
    ) -> httpx.Response:
        """Send one logical request: pace, send, and retry as :func:`decide` says."""
        if not self._api_key:
            raise AuthenticationError(
                "no API key: pass Client(api_key=...) or set the EXTEND_API_KEY environment "
                "variable",
                method=method,
                path=path,
            )
        http = self._http()
        category = category_for(method, path)
        pacer = self._pacers[category]
        clock = self.retry.clock
        call = _Call(method, path, kind, clock.now() + self.retry.deadline, category)
        self.retry.budget.record_attempt(clock.now())
        while True:
            call.attempt += 1
            await pacer.acquire()
            sent_at = clock.now()
            error: httpx.RequestError | None = None
            with attempt_span(
                method, path, url=self._url, category=category, attempt=call.attempt
            ) as attempt:
                try:
                    response = await http.request(
                        method,
                        path,
                        params=params,
                        json=json_body,
                        # a fresh streamed body per attempt (a retry re-reads the file)
                        content=stream[1]() if stream is not None else None,
                        headers=stream[0] if stream is not None else None,
                        timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
                    )
                except httpx.RequestError as exc:  # transport errors, undecodable bodies
                    attempt.failed(exc)
                    error = exc
                else:
                    attempt.answered(response.status_code)
            if error is not None:
                wait: float | None = self._after_transport_error(call, error)
            else:
                logger.debug(
                    "%s %s -> %d (attempt %d, %.3f s)",
                    method, path, response.status_code, call.attempt, clock.now() - sent_at,
                )  # fmt: skip
                wait = self._after_response(call, response, pacer)
                if wait is None:
                    return response
            if wait:
                await clock.sleep(wait)

    def _secrets(self) -> tuple[str, ...]:
        return (self._api_key,) if self._api_key else ()

    def _after_transport_error(self, call: _Call, exc: httpx.RequestError) -> float:
        """The wait before the next attempt after ``exc``, or the error to raise."""
        method, path, attempt = call.method, call.path, call.attempt
        failure = Failure.NOT_SENT if isinstance(exc, _NOT_SENT_ERRORS) else Failure.AMBIGUOUS
        what = f"{type(exc).__name__}: {redact(str(exc), self._secrets())}".rstrip(": ")
        logger.debug("%s %s -> %s (attempt %d)", method, path, type(exc).__name__, attempt)
        if isinstance(exc, httpx.UnsupportedProtocol):
            raise TransportError(
                f"{method} {path}: {what}; check base_url / EXTEND_BASE_URL", path=path
            ) from None
        if decide(call.kind, failure=failure) is Decision.UNKNOWN:
            raise OutcomeUnknownError(
                f"no answer after the request was sent ({what}); it may or may not have "
                "been accepted: list the runs created since (Client.list_runs_since) "
                "before submitting again",
                method=method,
                path=path,
                retryable=False,
            ) from None
        call.ambiguous_before = call.ambiguous_before or failure is Failure.AMBIGUOUS
        wait = self.retry.backoff(attempt)
        if not self._may_retry(
            f"{method} {path}", attempt, wait, call.deadline, rate_limited=False
        ):
            raise TransportError(
                f"{method} {path}: no response after {attempt} attempt(s) ({what}); "
                "check the network and base_url, or retry later",
                path=path,
            ) from None
        logger.info(
            "retrying %s %s after %s (attempt %d/%d), waiting %.2f s",
            method, path, type(exc).__name__, attempt, self.retry.attempts, wait,
        )  # fmt: skip
        return wait

    def _after_response(self, call: _Call, response: httpx.Response, pacer: Pacer) -> float | None:
        """None: ``response`` is the answer; else the wait before the next attempt (or raise)."""
        method, path, attempt, status = call.method, call.path, call.attempt, response.status_code
        if status == 429:
            retry_after = self._retry_after(response)
            pacer.on_rate_limited(retry_after)
            rate_limited(call.category, retry_after)
        else:
            pacer.on_success()
            retry_after = self._retry_after(response) if status >= 500 else None
        if 200 <= status < 300:
            return None
        if status == 404 and call.kind is RequestKind.DELETE and call.ambiguous_before:
            return None  # an earlier attempt was probably applied before its answer got lost
        body = parse_error_body(response.content)
        context: dict[str, Any] = {
            "method": method,
            "path": path,
            "header_request_id": response.headers.get("x-extend-request-id"),
            "secrets": self._secrets(),
        }
        decision = decide(call.kind, status=status, retryable=body.retryable)
        if decision is Decision.UNKNOWN:
            # Resending blindly could create a duplicate: not retryable.
            raise make_api_error(
                status, body, cls=OutcomeUnknownError, retryable=False, **context
            ) from None
        if decision is Decision.RETRY:
            if status == 429 and retry_after is not None:
                wait = 0.0  # the pacer holds every request of the category until then
            else:
                wait = max(retry_after or 0.0, self.retry.backoff(attempt))
            limited = status == 429
            if self._may_retry(
                f"{method} {path}", attempt, wait, call.deadline, rate_limited=limited
            ):
                logger.info(
                    "retrying %s %s after %d (attempt %d/%d), waiting %.2f s",
                    method, path, status, attempt, self.retry.attempts, wait,
                )  # fmt: skip
                return wait
        raise make_api_error(status, body, attempts=attempt, **context) from None

    def _retry_after(self, response: httpx.Response) -> float | None:
        cap = self.retry.max_retry_after
        ms = response.headers.get("retry-after-ms")
        if ms is not None:
            parsed = parse_retry_after(ms, cap=cap * 1000.0)
            if parsed is not None:
                return parsed / 1000.0
        return parse_retry_after(response.headers.get("retry-after"), cap=cap)

    def _may_retry(
        self, where: str, attempt: int, wait: float, deadline: float, *, rate_limited: bool
    ) -> bool:
        """Whether one more try fits the attempt cap, the deadline and the retry budget."""
        policy = self.retry
        now = policy.clock.now()
        if attempt >= policy.attempts:
            reason = f"{attempt} attempts made"
        elif now + wait > deadline:
            reason = f"the {policy.deadline:.0f} s deadline would pass"
        elif not rate_limited and not policy.budget.try_spend(now):
            reason = "the retry budget is exhausted (is the server unhealthy?)"
        else:
            return True
        logger.warning("giving up on %s: %s", where, reason)
        return False

    async def _request_json(self, method: str, path: str, **request: Any) -> dict[str, Any]:
        """:meth:`_request` (same keywords), answered by a JSON object."""
        result: dict[str, Any] = self._json(await self._request(method, path, **request))
        return result

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        try:
            return json.loads(response.content)
        except ValueError:
            raise APIError(
                f"{response.request.method} {response.request.url.path}: the answer is not JSON; "
                "check base_url points at an Extend-compatible server",
                status=response.status_code,
                method=response.request.method,
                path=response.request.url.path,
            ) from None

    # -- endpoints -------------------------------------------------------------------------

    async def upload_file(
        self, data: bytes | UploadSource, *, name: str, password: str | None = None
    ) -> dict[str, Any]:
        """``POST /files/upload`` (multipart); returns the File JSON (use its ``id``).

        ``data`` is the bytes, or an :class:`~extend_frames.api.UploadSource` streamed in
        blocks (never held whole; each retry reads it again from the start). A failure to read
        the source raises :class:`SourceReadError`. A duplicate upload is harmless (an unused
        file), so ambiguous failures are retried.
        """
        t = self.timeout
        source = BytesSource(data) if isinstance(data, bytes | bytearray) else data
        return await self._request_json(
            "POST",
            "/files/upload",
            kind=RequestKind.REPEATABLE,
            stream=multipart(source, name=name, password=password),
            timeout=httpx.Timeout(connect=t.connect, read=t.upload, write=t.upload, pool=t.pool),
        )

    async def get_processor(
        self, kind: ProcessorKind, id: str, version: str | None = None
    ) -> dict[str, Any]:
        """A processor version with its ``config``: ``version`` None means ``"latest"``.

        ``"latest"`` is the newest published version, else the draft: what a batch without a
        version uses (docs/extend-api.md#processor-versions).
        """
        _check_kind(kind)
        path = f"/{kind}s/{_seg(id)}/versions/{_seg(version or 'latest')}"
        return await self._request_json("GET", path, kind=RequestKind.READ)

    async def create_processor(
        self, kind: ProcessorKind, *, name: str, config: dict[str, Any]
    ) -> dict[str, Any]:
        """``POST /extractors`` (or ``/classifiers``, ``/splitters``): a new processor whose
        draft holds ``config``; returns the processor JSON (use its ``id``).

        Counts as WRITE. Never retried after it may have been accepted (a second POST would
        make a second processor): an ambiguous failure raises :class:`OutcomeUnknownError`.
        """
        _check_kind(kind)
        if not isinstance(name, str) or not name:
            raise InputError("create_processor needs a non-empty name=")
        return await self._request_json(
            "POST",
            f"/{kind}s",
            kind=RequestKind.CREATE,
            json_body={"name": name, "config": config},
        )

    async def publish_processor_version(
        self,
        kind: ProcessorKind,
        id: str,
        *,
        release_type: Literal["major", "minor"] = "major",
        description: str | None = None,
    ) -> dict[str, Any]:
        """``POST /{kind}s/{id}/versions``: publish the draft as a numbered version
        (``"1.0"``, then ``"2.0"`` or ``"1.1"``); returns the version JSON.

        Not retried after it may have been accepted (it would publish twice).
        """
        _check_kind(kind)
        if release_type not in ("major", "minor"):
            raise InputError(f"release_type must be 'major' or 'minor', got {release_type!r}")
        body: dict[str, Any] = {"releaseType": release_type}
        if description is not None:
            body["description"] = description
        return await self._request_json(
            "POST", f"/{kind}s/{_seg(id)}/versions", kind=RequestKind.CREATE, json_body=body
        )

    async def create_batch(
        self,
        operation: Operation,
        *,
        inputs: list[dict[str, Any]],
        processor: dict[str, Any] | None = None,
        config: dict[str, Any] | None = None,
        priority: int | None = None,
    ) -> BatchRun:
        """``POST /{operation}_runs/batch``: 1-1000 inputs ``{"file": ..., "metadata": ...}``.

        Parse takes ``config``; extract/classify/split take ``processor`` (``{"id", "version"?,
        "overrideConfig"?}``). Never retried after it may have been accepted: a 5xx or a lost
        answer raises :class:`OutcomeUnknownError` (reconcile with :meth:`list_runs_since`).
        """
        spec = _spec(operation)
        if not isinstance(inputs, list) or not 1 <= len(inputs) <= spec.max_inputs:
            count = len(inputs) if isinstance(inputs, list) else type(inputs).__name__
            raise InputError(f"a batch takes 1 to {spec.max_inputs} inputs, got {count}")
        body: dict[str, Any] = {"inputs": inputs}
        body.update(_run_settings(operation, processor, config, what="batches", required=True))
        if priority is not None:
            body["priority"] = priority
        response = await self._request(
            "POST", f"{spec.run_path}/batch", kind=RequestKind.CREATE, json_body=body
        )
        return BatchRun.from_json(self._json(response))

    async def create_run(
        self,
        operation: Operation,
        *,
        file: dict[str, Any],
        processor: dict[str, Any] | None = None,
        config: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        priority: int | None = None,
    ) -> dict[str, Any]:
        """``POST /{operation}_runs``: one document, answered at once with the run (PROCESSING).

        ``file`` is ``{"url"}``, ``{"id"}`` or (extract/classify only) ``{"text"}``. Parse
        takes ``config``; extract/classify/split take ``processor`` (``{"id", "version"?,
        "overrideConfig"?}``) or an inline ``config``, not both. Parse runs take no
        ``priority``. Single runs skip the batch queue (Extend schedules them ahead of
        batches). Like a batch POST it has no idempotency key: an ambiguous failure raises
        :class:`OutcomeUnknownError` (reconcile with :meth:`list_runs_since` on ``metadata``).
        """
        spec = _spec(operation)
        if not isinstance(file, dict) or len({"url", "id", "text"} & file.keys()) != 1:
            raise InputError("file must be an object with exactly one of url, id or text")
        if "text" in file and operation in ("parse", "split"):
            raise InputError(
                f"single {operation} runs take a url or a file id, not text: upload the text "
                "first (Client.upload_file) or send it through a batch"
            )
        if spec.kind is None and priority is not None:
            raise InputError("single parse runs take no priority (batches and processor runs do)")
        body: dict[str, Any] = {"file": file}
        body.update(_run_settings(operation, processor, config, what="runs", required=False))
        if metadata is not None:
            body["metadata"] = metadata
        if priority is not None:
            body["priority"] = priority
        response = await self._request(
            "POST", spec.run_path, kind=RequestKind.CREATE, json_body=body
        )
        result = self._json(response)
        if not isinstance(result, dict) or not result.get("id"):
            raise APIError(
                f"POST {spec.run_path}: the answer is not a run object; check base_url "
                "points at an Extend-compatible server",
                method="POST",
                path=spec.run_path,
            )
        return result

    async def get_batch(self, batch_id: str) -> BatchRun:
        """``GET /batch_runs/{id}`` for any batch kind."""
        response = await self._request(
            "GET", f"/batch_runs/{_seg(batch_id)}", kind=RequestKind.READ
        )
        return BatchRun.from_json(self._json(response))

    async def iter_runs(
        self,
        operation: Operation,
        *,
        batch_id: str | None = None,
        processor_id: str | None = None,
        status: str | None = None,
        sort_by: str = "createdAt",
        sort_dir: str = "asc",
        page_size: int = MAX_PAGE_SIZE,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every run summary matching the filters, following ``nextPageToken`` page by page.

        The other query parameters stay identical across pages (tokens are bound to them).
        Parse lists take no sorting or processor filter and read ``limit`` rather than
        ``maxPageSize`` on some servers, so both are sent (docs/extend-api.md#lists).
        """
        spec = _spec(operation)
        if isinstance(page_size, bool) or not isinstance(page_size, int):
            raise InputError(
                f"page_size must be an int from 1 to {MAX_PAGE_SIZE}, got {page_size!r}"
            )
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise InputError(f"page_size must be from 1 to {MAX_PAGE_SIZE}, got {page_size}")
        params: dict[str, Any] = {"maxPageSize": page_size}
        if batch_id is not None:
            params["batchId"] = batch_id
        if status is not None:
            params["status"] = status
        if spec.processor_filter is None:
            if processor_id is not None:
                raise InputError(f"{operation} runs have no processor: drop processor_id=")
        elif processor_id is not None:
            params[spec.processor_filter] = processor_id
        if spec.sortable:
            params["sortBy"] = sort_by
            params["sortDir"] = sort_dir
        else:
            params["limit"] = page_size  # some servers read limit here, not maxPageSize
        path = spec.run_path
        token: str | None = None
        while True:
            page_params = dict(params)
            if token is not None:
                page_params["nextPageToken"] = token
            response = await self._request("GET", path, kind=RequestKind.READ, params=page_params)
            page = self._json(response)
            items = page.get("data") if isinstance(page, dict) else None
            if not isinstance(items, list):
                raise APIError(
                    f"GET {path}: the list answer has no 'data' array; check base_url points "
                    "at an Extend-compatible server",
                    method="GET",
                    path=path,
                )
            for item in items:
                yield item
            next_token = page.get("nextPageToken")
            if not next_token:
                return
            if next_token == token:
                raise APIError(
                    f"GET {path}: the server repeated the same page token; stopping to avoid a "
                    "loop",
                    method="GET",
                    path=path,
                )
            token = str(next_token)

    async def list_runs_since(
        self,
        operation: Operation,
        processor_id: str | None,
        created_after: datetime,
    ) -> AsyncIterator[dict[str, Any]]:
        """Run summaries created at or after ``created_after``, newest first.

        For reconciling a batch whose outcome is unknown: match the yielded runs' ``metadata``
        against what was sent. Processor runs are listed by ``createdAt`` descending and the
        listing stops at the first older run. Parse lists cannot be sorted (their order is
        newest-updated or newest-created first); since ``updatedAt >= createdAt``, the listing
        stops at the first run *updated* before the time, which is exact in both orders. Pass a
        time a minute before the submission to absorb clock skew.
        """
        spec = _spec(operation)
        if created_after.tzinfo is None:
            raise InputError("created_after must be timezone-aware (e.g. datetime.now(UTC))")
        if not spec.sortable:
            runs = self.iter_runs(operation)
        else:
            if not processor_id:
                raise InputError(f"{operation} runs are listed per processor: pass processor_id")
            runs = self.iter_runs(
                operation, processor_id=processor_id, sort_by="createdAt", sort_dir="desc"
            )
        async for run in runs:
            created = _timestamp(run.get("createdAt"))
            stop_on = created if spec.sortable else _timestamp(run.get("updatedAt"))
            if stop_on is not None and stop_on < created_after:
                return
            if created is None or created >= created_after:
                yield run

    async def get_run(self, operation: Operation, run_id: str) -> dict[str, Any]:
        """The full run JSON (``GET /{operation}_runs/{id}``), parsed."""
        response = await self._get_run(operation, run_id)
        result = self._json(response)
        if not isinstance(result, dict):
            path = f"{OPERATIONS[operation].run_path}/{run_id}"
            raise APIError(
                f"GET {path}: expected a run object, got "
                f"{type(result).__name__}; check base_url points at an Extend-compatible server",
                method="GET",
                path=path,
            )
        return result

    async def get_run_bytes(self, operation: Operation, run_id: str) -> bytes:
        """The full run JSON as the raw body bytes, for bulk decoding (parse output inline)."""
        return (await self._get_run(operation, run_id)).content

    async def _get_run(self, operation: Operation, run_id: str) -> httpx.Response:
        spec = _spec(operation)
        # Parse runs can answer with a presigned outputUrl instead: ask for the output inline.
        params = {"responseType": "json"} if spec.kind is None else None
        return await self._request(
            "GET", f"{spec.run_path}/{_seg(run_id)}", kind=RequestKind.READ, params=params
        )

    async def cancel_run(self, operation: Operation, run_id: str) -> dict[str, Any]:
        """``POST /{operation}_runs/{id}/cancel``: stop a run that is not terminal yet; returns
        the run. Extend cancels only unfinished runs (a terminal one answers 4xx:
        :class:`APIError`). A repeated cancel is harmless, so ambiguous failures are retried.
        """
        spec = _spec(operation)
        return await self._request_json(
            "POST",
            f"{spec.run_path}/{_seg(run_id)}/cancel",
            kind=RequestKind.REPEATABLE,
            json_body={},
        )

    async def create_webhook_endpoint(
        self,
        url: str,
        *,
        name: str,
        events: Iterable[str],
        api_version: str | None = None,
    ) -> dict[str, Any]:
        """``POST /webhook_endpoints``; the answer holds the ``signingSecret`` (only time shown).

        Not retried after it may have been accepted (a lost endpoint would deliver events
        signed with a secret nobody knows): raises :class:`OutcomeUnknownError` instead.
        """
        body = {
            "url": url,
            "name": name,
            "enabledEvents": list(events),
            "apiVersion": api_version or self.api_version,
        }
        return await self._request_json(
            "POST", "/webhook_endpoints", kind=RequestKind.CREATE, json_body=body
        )

    async def delete_webhook_endpoint(self, id: str) -> None:
        """``DELETE /webhook_endpoints/{id}``; a 404 after a lost answer counts as deleted."""
        await self._request("DELETE", f"/webhook_endpoints/{_seg(id)}", kind=RequestKind.DELETE)


def _run_settings(
    operation: Operation,
    processor: dict[str, Any] | None,
    config: dict[str, Any] | None,
    *,
    what: str,
    required: bool,
) -> dict[str, Any]:
    """The processor reference or config part of a create body (batch: processor required)."""
    spec = OPERATIONS[operation]
    if spec.processor_field is None:
        if processor is not None:
            raise InputError(f"parse {what} take config=, not processor=")
        return {"config": config} if config is not None else {}
    if processor is not None and (not isinstance(processor, dict) or not processor.get("id")):
        raise InputError(f"processor= must be {{'id': ...}} (the {spec.kind} to run)")
    if required and processor is None:
        raise InputError(
            f"{operation} {what} need processor={{'id': ...}} (the {spec.kind} to run)"
        )
    if config is not None and (required or processor is not None):
        raise InputError(
            f"{operation} {what} do not accept config= with a processor; put overrides in "
            "processor={'id': ..., 'overrideConfig': {...}}"
        )
    if processor is not None:
        return {spec.processor_field: processor}
    return {"config": config} if config is not None else {}


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        return None
