"""The jobs layer: the batch engine (plan -> submit -> wait -> collect), ledger and resume."""

from extend_frames._errors import BatchTimeoutError
from extend_frames._operations import OPERATIONS, Operation
from extend_frames.jobs._attach import (
    check_batch_id,
    fetch_run_bodies,
    find_operation,
    list_batch_runs,
    processor_of,
)
from extend_frames.jobs._clock import JobClock
from extend_frames.jobs._collect import Stats as EngineStats
from extend_frames.jobs._engine import Engine
from extend_frames.jobs._plan import plan_chunks
from extend_frames.jobs._progress import NoProgress, Progress
from extend_frames.jobs._protocols import (
    Finisher,
    Ledger,
    Merger,
    Publisher,
    ResultSink,
    Retried,
)
from extend_frames.jobs._reconcile import Reconcile, Reconciler
from extend_frames.jobs._route import ROUTES, Route, choose_route, single_threshold
from extend_frames.jobs._runner import blocking, run_sync
from extend_frames.jobs._spec import (
    BATCH_FAILED,
    FILE_NOT_READABLE,
    INVALID_INPUT,
    RUN_NOT_FOUND,
    Chunk,
    Concurrency,
    JobSpec,
    Polling,
    Unit,
)
from extend_frames.jobs._steps import Situation, Step, next_step
from extend_frames.jobs._wait import PollingWaiter, Waiter, WebhookWaiter

__all__ = [
    "BATCH_FAILED",
    "FILE_NOT_READABLE",
    "INVALID_INPUT",
    "OPERATIONS",
    "ROUTES",
    "RUN_NOT_FOUND",
    "BatchTimeoutError",
    "Chunk",
    "Concurrency",
    "Engine",
    "EngineStats",
    "Finisher",
    "JobClock",
    "JobSpec",
    "Ledger",
    "Merger",
    "NoProgress",
    "Operation",
    "Polling",
    "PollingWaiter",
    "Progress",
    "Publisher",
    "Reconcile",
    "Reconciler",
    "ResultSink",
    "Retried",
    "Route",
    "Situation",
    "Step",
    "Unit",
    "Waiter",
    "WebhookWaiter",
    "blocking",
    "check_batch_id",
    "choose_route",
    "fetch_run_bodies",
    "find_operation",
    "list_batch_runs",
    "next_step",
    "plan_chunks",
    "processor_of",
    "run_sync",
    "single_threshold",
]
