"""Run the async engine to completion from synchronous code, even inside a running loop.

Jupyter runs an event loop in the main thread, so ``asyncio.run`` fails there. Instead of
patching the loop (``nest_asyncio``), the engine gets a private loop in a worker thread; the
caller's thread waits for it in short, interruptible steps.

Interrupts stop the job, they do not wait for it. Without a running loop, ``asyncio.run``
turns Ctrl-C into a cancellation of the engine. With one, the caller's thread is the one that
gets the signal: while it waits, SIGINT raises ``KeyboardInterrupt`` there (even under
``asyncio.run``, whose own handler would only cancel a task that is blocked in this very
call), and a cancellation of the caller's task is noticed between steps. Either way the
engine's task is cancelled on its own loop (it stops submitting, its ``finally`` blocks close
the client and release the output's lock; the ledger already holds every intent and batch id),
the worker thread is given a few seconds to finish that, and the interrupt is re-raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import logging
import signal
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

logger = logging.getLogger("extend_frames.jobs")

#: How long an interrupted job may take to cancel, close its client and release its lock.
STOP_GRACE = 10.0
_STEP = 0.05  # the caller's wait granularity: how soon a signal or a cancel is acted on


def run_sync(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run ``factory()`` to completion and return its result.

    Without a running loop in this thread, ``asyncio.run`` is used directly. With one (a
    notebook, or a script under ``asyncio.run``), the coroutine runs on a fresh loop in a worker
    thread; an interrupt or a cancellation of the caller cancels it (see the module docstring).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        running = False
    else:
        running = True
    # Outside the except block: an error of the job must not read "During handling of the
    # above exception (no running event loop), another exception occurred".
    return _Worker(factory).run() if running else asyncio.run(factory())


def blocking(afn: Callable[P, Coroutine[Any, Any, T]], doc: str) -> Callable[P, T]:
    """The sync twin of ``afn`` (named without its ``a``): same signature (for type checkers,
    ``inspect`` and IDEs), runs it to completion with :func:`run_sync`."""

    def fn(*args: P.args, **kwargs: P.kwargs) -> T:
        return run_sync(lambda: afn(*args, **kwargs))

    fn.__name__ = fn.__qualname__ = afn.__name__.removeprefix("a")
    fn.__doc__ = doc
    fn.__annotations__ = dict(afn.__annotations__)
    fn.__signature__ = inspect.signature(afn)  # type: ignore[attr-defined]
    fn.__wrapped__ = afn  # type: ignore[attr-defined]  # get_type_hints: afn's module names
    return fn


@dataclass
class _Worker(Generic[T]):
    """The private loop in its thread, and what the caller needs to cancel it."""

    factory: Callable[[], Coroutine[Any, Any, T]]
    result: list[T] = field(default_factory=list)
    error: list[BaseException] = field(default_factory=list)
    started: threading.Event = field(default_factory=threading.Event)
    # Waited on instead of Thread.join: a join that a KeyboardInterrupt breaks marks the thread
    # as stopped although it still runs (CPython 3.11), so a second join would not wait.
    finished: threading.Event = field(default_factory=threading.Event)
    loop: asyncio.AbstractEventLoop | None = None
    task: asyncio.Task[Any] | None = None

    def run(self) -> T:
        ctx = contextvars.copy_context()
        thread = threading.Thread(
            target=lambda: ctx.run(self._target), name="extend-frames-engine", daemon=True
        )
        caller = asyncio.current_task()
        cancels = caller.cancelling() if caller is not None else 0
        thread.start()
        try:
            with _sigint_raises():
                while not self.finished.wait(_STEP):
                    if caller is not None and caller.cancelling() > cancels:
                        raise asyncio.CancelledError
        except BaseException:  # KeyboardInterrupt or CancelledError: stop the engine, re-raise
            self._stop()
            raise
        thread.join()
        if self.error:
            raise self.error[0]
        return self.result[0]

    def _target(self) -> None:
        try:
            self.result.append(asyncio.run(self._main()))
        except BaseException as exc:  # re-raised in the caller's thread
            self.error.append(exc)
        finally:
            self.started.set()
            self.finished.set()

    async def _main(self) -> T:
        self.loop = asyncio.get_running_loop()
        self.task = asyncio.current_task()
        self.started.set()
        return await self.factory()

    def _stop(self) -> None:
        """Cancel the engine on its loop and give it ``STOP_GRACE`` seconds to clean up."""
        self.started.wait(STOP_GRACE)
        loop, task = self.loop, self.task
        if loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(task.cancel)
        try:
            stopped = self.finished.wait(STOP_GRACE)
        except KeyboardInterrupt:  # a second Ctrl-C: stop waiting for the cleanup
            return
        if not stopped:
            logger.warning(
                "extend_frames: the interrupted job did not stop within %.0f s; it is left to "
                "finish its cleanup in the background",
                STOP_GRACE,
            )


@contextlib.contextmanager
def _sigint_raises() -> Iterator[None]:
    """While waiting in the main thread, SIGINT raises KeyboardInterrupt here.

    A handler the caller installed to ignore SIGINT, or the OS default, is left alone; only a
    Python handler (such as ``asyncio.run``'s, which would cancel a task that cannot run while
    this call blocks it) is swapped for the default one, and restored afterwards.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if not callable(previous) or previous is signal.default_int_handler:
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
