"""``Emulator``: the app served by uvicorn on a free 127.0.0.1 port in its own thread."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import secrets
import socket
import threading
from typing import Any

import uvicorn

from ._app import EmulatorApp, create_app
from ._clock import ManualClock
from ._config import EmulatorConfig, Faults, RateLimits, Speed, WebhookOptions, rate_limits_from

STARTUP_TIMEOUT = 10.0


class Emulator:
    """A real HTTP emulator for tests, demos and notebooks.

    >>> with Emulator() as emu:                         # doctest: +SKIP
    ...     client = Extend(token=emu.api_key, base_url=emu.url)

    Keyword options override the matching field of ``config``.
    """

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        speed: Speed | None = None,
        rate_limits: str | float | RateLimits | None = None,
        faults: Faults | None = None,
        webhooks: WebhookOptions | None = None,
        clock: str | None = None,
    ) -> None:
        config = config or EmulatorConfig()
        changes: dict[str, Any] = {}
        if speed is not None:
            changes["speed"] = speed
        if rate_limits is not None:
            changes["rate_limits"] = rate_limits_from(rate_limits)
        if faults is not None:
            changes["faults"] = faults
        if webhooks is not None:
            changes["webhooks"] = webhooks
        if clock is not None:
            changes["clock"] = clock
        self.api_key = api_key or (
            next(iter(config.api_keys)) if config.api_keys else "sk_emu_" + secrets.token_hex(12)
        )
        changes["api_keys"] = frozenset({*(config.api_keys or ()), self.api_key})
        self._config = dataclasses.replace(config, **changes)
        self._host = host
        self._port = port
        self._server: uvicorn.Server | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self.app: EmulatorApp | None = None
        self.url = ""

    @property
    def config(self) -> EmulatorConfig:
        return self._config

    def start(self) -> Emulator:
        # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted sockets only then;
        # without it every response waits ~40 ms on Nagle + delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._port))
        port = sock.getsockname()[1]
        self.url = f"http://{self._host}:{port}"
        self._config = dataclasses.replace(self._config, public_url=self.url)
        self.app = create_app(self._config)
        config = uvicorn.Config(
            self.app, log_level="warning", access_log=False, lifespan="on", timeout_keep_alive=30
        )
        server = self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._run, args=(server, sock), name="extend-emulator", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(STARTUP_TIMEOUT) or not server.started:
            raise RuntimeError(f"the emulator did not start on {self.url}")
        return self

    def _run(self, server: uvicorn.Server, sock: socket.socket) -> None:
        # uvicorn's loop choice (uvloop when installed, else asyncio); uvicorn < 0.36 lacks it
        get_factory = getattr(server.config, "get_loop_factory", None)
        factory = get_factory() if get_factory is not None else None
        with asyncio.Runner(loop_factory=factory) as runner:
            runner.run(self._serve(server, sock))

    async def _serve(self, server: uvicorn.Server, sock: socket.socket) -> None:
        """uvicorn's serve loop, minus its 0.1 s polling tick: stop() wakes it directly."""
        config = server.config
        if not config.loaded:
            config.load()
        server.lifespan = config.lifespan_class(config)
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        try:
            await server.startup(sockets=[sock])
        finally:
            self._ready.set()
        if server.should_exit:
            return
        await self._stop_event.wait()
        await server.shutdown(sockets=[sock])

    def stop(self) -> None:
        loop, event = self._loop, self._stop_event
        if loop is not None and event is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop may have just finished
                loop.call_soon_threadsafe(event.set)
        if self._thread is not None:
            self._thread.join(timeout=STARTUP_TIMEOUT)
        if self.app is not None:
            self.app.stop()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _app(self) -> EmulatorApp:
        if self.app is None:
            raise RuntimeError("the emulator is not running; use `with Emulator() as emu:`")
        return self.app

    def stats(self) -> dict[str, Any]:
        """The same dict as ``GET /_emulator/stats``."""
        state = self._app().emulator
        return state.stats.snapshot(state.run_counts())

    def wait_idle(self, timeout: float | None = 30.0) -> bool:
        """Block until every queued run and webhook delivery is done (True) or timeout."""
        app = self._app()
        return app.worker.wait_idle(timeout) and app.deliverer.wait_idle(timeout)

    def add_credits(self, inputs: int | None = None) -> int | None:
        """Restore credits after ``Faults(credit_inputs=...)`` ran out: allow ``inputs`` more
        inputs, or (None) lift the limit. Returns the new limit (inputs accepted in total)."""
        state = self._app().emulator
        return state.refusals.add_credits(inputs, state.stats.inputs_submitted)

    def advance(self, seconds: float) -> float:
        """Move the manual clock forward (``clock="manual"``) and wake the worker."""
        clock = self._app().emulator.clock
        if not isinstance(clock, ManualClock):
            raise RuntimeError("advance() needs Emulator(clock='manual')")
        return clock.advance(seconds)

    def deliveries(self) -> list[dict[str, Any]]:
        """The webhook delivery log: one entry per attempt."""
        return list(self._app().deliverer.log)
