"""WebhookReceiver: verify Extend deliveries over HTTP and publish them to a WebhookHub.

The receiver is three things over one handler: ``handle_delivery(body, headers)`` for apps that
mount it in their own framework, a plain ASGI app (the receiver object itself), and, with the
``webhooks`` extra, its own uvicorn server on a thread (``start()``/``stop()``, ``.url``).
It answers fast: 200 once an event is verified and published (or recognised as a duplicate),
401 when verification fails, 400 for a signed but malformed body, 503 while it has no secret yet
and 502 when a signed-URL payload cannot be fetched (Extend retries non-2xx deliveries).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
from collections.abc import Awaitable, Callable, Collection, Mapping, MutableMapping
from typing import Any, Self

import httpx

from extend_frames._errors import InputError, TransportError, WebhookVerificationError
from extend_frames.webhooks._events import decode, fetch_signed_payload
from extend_frames.webhooks._hub import WebhookHub
from extend_frames.webhooks._signature import verify

__all__ = ["WebhookReceiver"]

logger = logging.getLogger("extend_frames.webhooks")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_INSTALL_HINT = (
    "WebhookReceiver.start() needs uvicorn: pip install 'extend-frames[webhooks]' "
    "(or mount the receiver, a plain ASGI app, in your own server)"
)
_START_TIMEOUT = 10.0


def _reply(code: int, /, **fields: str) -> tuple[int, bytes]:
    return code, json.dumps(fields).encode()


class WebhookReceiver:
    """Receives Extend webhook deliveries, verifies them and publishes them to a hub.

    Own server (needs the ``webhooks`` extra)::

        with WebhookReceiver(hub=hub) as receiver:          # listening on receiver.url
            endpoint = await client.create_webhook_endpoint(receiver.url, ...)
            receiver.set_secret(endpoint["signingSecret"])  # known only after creation

    Mounted in your app (Starlette/FastAPI; Flask: ``handle_delivery_sync``)::

        receiver = WebhookReceiver("wss_...")
        @app.post("/extend/webhooks")
        async def extend_webhook(request: Request) -> Response:
            status, body = await receiver.handle_delivery(await request.body(), request.headers)
            return Response(body, status_code=status, media_type="application/json")

    ``secret`` may be one secret or several (rotation). The default host, 127.0.0.1, suits the
    local emulator; the real Extend needs a reachable address: listen on ``host="0.0.0.0"``
    or behind a tunnel/proxy, and pass that address as ``public_url`` (``.url`` returns it);
    ``transport`` fetches signed-URL payloads (default: a fresh one per fetch, proxies from the
    environment); it runs on the server thread's loop, so pass a MockTransport or one used by
    nothing else: pooled connections belong to the loop that opened them.
    """

    def __init__(
        self,
        secret: str | Collection[str] | None = None,
        *,
        hub: WebhookHub | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        public_url: str | None = None,
        tolerance_past: int = 300,
        tolerance_future: int = 60,
        transport: httpx.AsyncBaseTransport | None = None,
        fetch_timeout: float = 10.0,
        max_body_bytes: int = 32 * 2**20,
    ) -> None:
        self.hub = hub if hub is not None else WebhookHub()
        self.host = host
        self._port = port
        self._public_url = public_url
        self._tolerance_past = tolerance_past
        self._tolerance_future = tolerance_future
        self._transport = transport
        self._fetch_timeout = fetch_timeout
        self._max_body_bytes = max_body_bytes
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()
        if secret is not None:
            self.set_secret(secret)
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    def __repr__(self) -> str:
        state = f"url={self.local_url!r}" if self._socket is not None else "not started"
        return f"WebhookReceiver({state}, secrets={len(self._secrets)})"

    # -- secrets --------------------------------------------------------------------------

    def set_secret(self, secret: str | Collection[str]) -> None:
        """Replace the signing secret(s) (any of several may sign, for rotation)."""
        secrets = (secret,) if isinstance(secret, str) else tuple(secret)
        if not secrets or not all(isinstance(s, str) and s for s in secrets):
            raise InputError(
                "WebhookReceiver: a signing secret must be a non-empty string (the "
                "signingSecret, wss_..., returned by POST /webhook_endpoints)"
            )
        with self._lock:
            self._secrets = secrets

    def add_secret(self, secret: str) -> None:
        """Accept one more secret (start of a rotation)."""
        with self._lock:
            current = self._secrets
        self.set_secret((*current, secret))

    def remove_secret(self, secret: str) -> None:
        """Stop accepting a secret (end of a rotation); unknown secrets are ignored."""
        with self._lock:
            self._secrets = tuple(s for s in self._secrets if s != secret)

    # -- the handler ----------------------------------------------------------------------

    async def handle_delivery(self, body: bytes, headers: Mapping[str, str]) -> tuple[int, bytes]:
        """Verify, dedupe, resolve and publish one delivery; return (HTTP status, JSON body).

        Framework-agnostic: pass the raw body bytes and the request headers, e.g. Starlette::

            async def extend_webhook(request: Request) -> Response:
                body = await request.body()
                status, reply = await receiver.handle_delivery(body, request.headers)
                return Response(reply, status_code=status, media_type="application/json")
        """
        secrets = self._secrets
        if not secrets:
            logger.warning("webhook delivery refused: no signing secret configured yet")
            return _reply(503, error="receiver not ready")
        try:
            verify(
                body,
                headers,
                secrets,
                tolerance_past=self._tolerance_past,
                tolerance_future=self._tolerance_future,
            )
        except WebhookVerificationError as exc:
            self.hub.record_rejected()
            logger.warning("webhook delivery rejected: %s", exc)
            return _reply(401, error="verification failed")
        try:
            event = decode(body, headers)
        except WebhookVerificationError as exc:
            self.hub.record_rejected()
            logger.warning("webhook delivery rejected: %s", exc)
            return _reply(400, error="malformed event")
        if self.hub.seen(event.event_id):
            self.hub.publish(event)  # counted as a duplicate, nothing else happens
            return _reply(200, status="duplicate")
        if event.is_signed_url:
            try:
                payload = await fetch_signed_payload(
                    event, transport=self._transport, timeout=self._fetch_timeout
                )
            except (WebhookVerificationError, TransportError) as exc:
                logger.warning("webhook payload not fetched: %s", exc)
                return _reply(502, error="payload fetch failed")
            event = event.with_payload(payload)
        fresh = self.hub.publish(event)
        return _reply(200, status="ok" if fresh else "duplicate")

    def handle_delivery_sync(self, body: bytes, headers: Mapping[str, str]) -> tuple[int, bytes]:
        """:meth:`handle_delivery` for sync frameworks (Flask, Django): runs it on a fresh loop.

        @app.post("/extend/webhooks")
        def extend_webhook():
            status, body = receiver.handle_delivery_sync(request.get_data(), request.headers)
            return body, status, {"Content-Type": "application/json"}
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass  # no loop here: run one below, outside the except (no chained traceback)
        else:
            raise InputError(
                "handle_delivery_sync() was called inside a running event loop: "
                "use `await receiver.handle_delivery(...)` there"
            )
        return asyncio.run(self.handle_delivery(body, headers))

    # -- ASGI -----------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Plain ASGI: POST (any path) is a delivery, GET a health check."""
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        method = scope["method"]
        if method in ("GET", "HEAD"):
            await _respond(send, *_reply(200, status="ok"))
            return
        if method != "POST":
            await _respond(send, *_reply(405, error="method not allowed"), allow="GET, POST")
            return
        body = await _read_body(receive, self._max_body_bytes)
        if body is None:
            self.hub.record_rejected()
            await _respond(send, *_reply(413, error="body too large"))
            return
        headers: dict[str, str] = {}
        for key, value in scope["headers"]:
            headers.setdefault(key.decode("latin-1").lower(), value.decode("latin-1"))
        await _respond(send, *await self.handle_delivery(body, headers))

    # -- own server -----------------------------------------------------------------------

    @property
    def local_url(self) -> str:
        """``http://host:port/`` where the started server listens."""
        if self._socket is None:
            raise InputError("WebhookReceiver is not started: call start() or use `with`")
        port = self._socket.getsockname()[1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{port}/"

    @property
    def url(self) -> str:
        """The URL to register with Extend: ``public_url`` if given, else :attr:`local_url`."""
        return self._public_url if self._public_url is not None else self.local_url

    @property
    def running(self) -> bool:
        """Whether the receiver's own server thread is serving."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Self:
        """Serve on ``host:port`` in a daemon thread; returns once it accepts connections."""
        if self._thread is not None:
            return self
        try:
            import uvicorn
        except ImportError as exc:
            raise ModuleNotFoundError(_INSTALL_HINT) from exc
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted connections only
        # then; without it every keep-alive response waits ~40 ms on Nagle + delayed ACK.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self._port))
        except OSError as exc:
            sock.close()
            raise InputError(
                f"WebhookReceiver cannot listen on {self.host}:{self._port} ({exc.strerror}); "
                "pick another port, or port=0 for a free one"
            ) from None
        ready = threading.Event()
        config = uvicorn.Config(
            self,
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        server = _make_server(config, ready)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="extend-webhooks", daemon=True
        )
        self._socket, self._server, self._thread = sock, server, thread
        thread.start()
        waited = 0.0
        while not ready.wait(0.05):  # bounded: the socket is bound, start-up is quick
            waited += 0.05
            if not thread.is_alive() or waited > _START_TIMEOUT:
                self.stop()
                raise TransportError("WebhookReceiver's server did not start; see the log")
        return self

    def stop(self) -> None:
        """Stop the server thread (idempotent)."""
        server, thread, sock = self._server, self._thread, self._socket
        self._server = self._thread = self._socket = None
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout=_START_TIMEOUT)
        if sock is not None:
            sock.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _make_server(config: Any, ready: threading.Event) -> Any:
    """A uvicorn server that sets ``ready`` once it accepts connections."""
    import uvicorn

    class ReadyServer(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            ready.set()

    return ReadyServer(config)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _respond(send: Send, status: int, body: bytes, *, allow: str | None = None) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if allow is not None:
        headers.append((b"allow", allow.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
