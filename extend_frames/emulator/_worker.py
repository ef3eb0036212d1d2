"""The processing queue: one worker thread, single runs ahead of batch runs.

Batch runs wait ``batch_queue_delay`` seconds (Extend's delayed queue), then queue behind every
ready single run (lower priority class), ordered by the batch ``priority`` (lower first) and
submission order. Starts are paced by ``files_per_minute``; a started run stays PROCESSING for
``run_latency`` seconds counted from its *scheduled* start (when it became ready and its start
slot came), not from the moment the worker thread got round to it: under a manual clock the
outcome of ``advance`` then never depends on thread scheduling, and under the system clock a
busy machine does not stretch every run. In instant mode none of that applies and nothing ever
sleeps. Waiting is on a condition with a clock deadline, so a manual clock's ``advance`` wakes
the worker.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import time

from ._clock import Clock
from ._config import Speed
from ._daemon import Daemon
from ._process import Outcome, apply, compute
from ._records import BatchRecord, RunRecord
from ._state import State

DEFAULT_PRIORITY = 50

log = logging.getLogger("extend_frames.emulator")


# (start or finish, its scheduled clock time, the run, the outcome a finish applies)
_Action = tuple[str, float, RunRecord, Outcome | None]


class Worker(Daemon[_Action]):
    def __init__(self, state: State, speed: Speed, clock: Clock) -> None:
        super().__init__("extend-emulator-worker")
        self._state = state
        self._speed = speed
        self._clock = clock
        self._tie = itertools.count()
        self._delayed: list[tuple[float, int, int, int, RunRecord]] = []
        self._ready: list[tuple[int, int, int, float, RunRecord]] = []
        self._finishing: list[tuple[float, int, RunRecord, Outcome]] = []
        self._next_start = 0.0
        self._interval = 60.0 / speed.files_per_minute if speed.files_per_minute else 0.0
        self._idle = True
        clock.on_advance(self.wake)
        state.schedule = self.submit

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def submit(self, runs: list[RunRecord], batch: BatchRecord | None) -> None:
        now = self._clock.now()
        with self._cond:
            for run in runs:
                prio = run.priority if run.priority is not None else DEFAULT_PRIORITY
                if batch is None:
                    heapq.heappush(self._ready, (0, prio, next(self._tie), now, run))
                elif self._speed.batch_queue_delay:
                    ready_at = now + self._speed.batch_queue_delay
                    heapq.heappush(self._delayed, (ready_at, 1, prio, next(self._tie), run))
                else:
                    heapq.heappush(self._ready, (1, prio, next(self._tie), now, run))
            self._idle = False
            self._cond.notify_all()

    def idle(self) -> bool:
        """True when nothing is queued, started or running (for tests and ``wait_idle``)."""
        with self._cond:
            return self._idle

    def wait_idle(self, timeout: float | None = None) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._idle, timeout)

    def _next(self) -> _Action | None:
        """Under the condition: pick the next start/finish (with its scheduled clock time),
        or wait. None means stop."""
        while not self._stopped:
            now = self._clock.now()
            while self._delayed and self._delayed[0][0] <= now:
                ready_at, klass, prio, tie, run = heapq.heappop(self._delayed)
                heapq.heappush(self._ready, (klass, prio, tie, ready_at, run))
            if self._finishing and self._finishing[0][0] <= now:
                finish_at, _, run, outcome = heapq.heappop(self._finishing)
                return ("finish", finish_at, run, outcome)
            if self._ready and now >= self._next_start:
                _, _, _, ready_at, run = heapq.heappop(self._ready)
                start_at = max(self._next_start, ready_at)
                if self._interval:
                    # starts follow t_k = max(ready_k, t_(k-1) + interval): a clock jump catches
                    # up on the backlog, while an idle spell never banks a burst
                    self._next_start = start_at + self._interval
                return ("start", start_at, run, None)
            if not (self._ready or self._delayed or self._finishing):
                self._idle = True
                self._cond.notify_all()
            deadlines = [self._delayed[0][0]] if self._delayed else []
            if self._finishing:
                deadlines.append(self._finishing[0][0])
            if self._ready:
                deadlines.append(self._next_start)
            self._clock.wait(self._cond, min(deadlines) if deadlines else None)
        return None

    def _handle(self, action: _Action) -> None:
        what, start_at, run, outcome = action
        if what == "finish" and outcome is not None:
            apply(self._state, run, outcome)
            return
        if not self._state.start_run(run):
            return
        try:
            result = compute(self._state, run)
        except Exception as exc:  # a bug in document handling must not kill the worker
            log.exception("emulator: processing %s failed unexpectedly", run.id)
            result = Outcome("FAILED", "INTERNAL_ERROR", f"Internal error: {type(exc).__name__}")
        if not self._speed.run_latency:
            apply(self._state, run, result)
            time.sleep(0)  # yield the GIL between runs so request handling keeps its share
            return
        with self._cond:
            finish_at = start_at + self._speed.run_latency
            heapq.heappush(self._finishing, (finish_at, next(self._tie), run, result))
