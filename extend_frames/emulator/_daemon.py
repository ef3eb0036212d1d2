"""The background-thread lifecycle shared by the emulator's worker and webhook deliverer."""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

_T = TypeVar("_T")


class Daemon(Generic[_T]):
    """A daemon thread that takes the next item under ``_cond`` and handles it outside it,
    until ``stop``; ``_cond`` guards ``_stopped`` and whatever the subclass queues."""

    def __init__(self, name: str) -> None:
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def _next(self) -> _T | None:
        """Under ``_cond``: the next item to handle, waiting for one; None once stopped."""
        raise NotImplementedError

    def _handle(self, item: _T) -> None:
        raise NotImplementedError

    def _loop(self) -> None:
        while True:
            with self._cond:
                item = self._next()
            if item is None:
                return
            self._handle(item)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
