"""``create_app(config)``: the Starlette application over one in-memory state.

The app owns its background threads (processing worker, webhook deliverer) through the ASGI
lifespan, and also starts them on first use when served without lifespan (httpx's
ASGITransport), so in-process tests need no extra set-up. ``app.state.emulator`` is the state.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from . import _batches, _files, _operator, _processors, _runs, _webhooks
from ._clock import Clock, ManualClock
from ._config import EmulatorConfig
from ._delivery import Deliverer
from ._gate import Gate
from ._state import State
from ._worker import Worker


class EmulatorApp(Starlette):
    """Starlette with the gate as the whole middleware stack and self-starting workers."""

    emulator: State
    worker: Worker
    deliverer: Deliverer

    def __init__(self, config: EmulatorConfig) -> None:
        clock: Clock = ManualClock() if config.clock == "manual" else Clock()
        self.emulator = State(config, clock)
        self.worker = Worker(self.emulator, config.speed, clock)
        self.deliverer = Deliverer(self.emulator, config.webhooks)
        self._started = False
        self._start_lock = threading.Lock()
        routes: list[BaseRoute] = [
            *_operator.routes,
            *_batches.routes,
            *_runs.routes,
            *_files.routes,
            *_processors.routes,
            *_webhooks.routes,
        ]
        super().__init__(routes=routes, lifespan=self._lifespan)
        self.state.emulator = self.emulator
        self.state.deliverer = self.deliverer

    def build_middleware_stack(self) -> ASGIApp:
        return Gate(self.router, self.router, self.emulator)

    def start(self) -> None:
        """Start the worker and delivery threads (idempotent)."""
        with self._start_lock:
            if not self._started:
                self._started = True
                self.worker.start()
                self.deliverer.start()

    def stop(self) -> None:
        with self._start_lock:
            if self._started:
                self.worker.stop()
                self.deliverer.stop()
            self.emulator.deferred.cancel()

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self.start()
        try:
            yield
        finally:
            self.stop()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._started and scope["type"] == "http":
            self.start()
        await super().__call__(scope, receive, send)


def create_app(config: EmulatorConfig | None = None) -> EmulatorApp:
    """The emulator as an ASGI app, e.g. for ``httpx.ASGITransport(app=create_app())``."""
    return EmulatorApp(config or EmulatorConfig())
