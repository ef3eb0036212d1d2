"""Run the async engine to completion from synchronous code, even inside a running loop.

Jupyter runs an event loop in the main thread, so ``asyncio.run`` fails there. Instead of
patching the loop (``nest_asyncio``), the engine gets a private loop in a worker thread; the
caller's thread simply waits for it. Exceptions and KeyboardInterrupt propagate to the caller.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_sync(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run ``factory()`` to completion and return its result.

    Without a running loop in this thread, ``asyncio.run`` is used directly. With one (a
    notebook), the coroutine runs on a fresh loop in a worker thread.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())

    result: list[T] = []
    error: list[BaseException] = []
    ctx = contextvars.copy_context()

    def target() -> None:
        try:
            result.append(ctx.run(asyncio.run, factory()))
        except BaseException as exc:  # re-raised in the caller's thread
            error.append(exc)

    thread = threading.Thread(target=target, name="extend-frames-engine", daemon=True)
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]
