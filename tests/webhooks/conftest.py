"""Fixtures for the webhooks tests: a tiny local HTTP server standing in for an object store."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


class PayloadServer(ThreadingHTTPServer):
    """A tiny local stand-in for the object store behind signed URLs."""

    routes: dict[str, tuple[int, bytes]]
    hits: list[str]


class PayloadHandler(BaseHTTPRequestHandler):
    server: PayloadServer

    def do_GET(self) -> None:
        self.server.hits.append(self.path)
        status, body = self.server.routes.get(self.path, (404, b"NoSuchKey"))
        self.send_response(status)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def payload_server() -> Iterator[PayloadServer]:
    server = PayloadServer(("127.0.0.1", 0), PayloadHandler)
    server.routes, server.hits = {}, []
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()
