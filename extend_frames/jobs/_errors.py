"""The error a job's caller sees when concurrent chunks fail, and the out-of-credits stop."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from extend_frames._errors import OutcomeUnknownError, UsageBlockedError

__all__ = ["ambiguous_thrice", "first_error", "log_interrupted", "stopped"]

logger = logging.getLogger("extend_frames.jobs")


def log_interrupted(operation: str, stats: Any, *, resumable: bool) -> None:
    """An interrupt or a cancel stopped the job: say what was sent and how to go on."""
    resume = (
        "rerun the same call to resume (nothing submitted is sent again)"
        if resumable
        else "without output= the work done is lost; pass output= to make jobs resumable"
    )
    logger.warning(
        "extend %s: interrupted after %d batch(es) and %d single run(s) submitted and %d "
        "run(s) fetched; %s",
        operation, stats.batches_submitted, stats.runs_submitted, stats.runs_fetched, resume,
    )  # fmt: skip


def stopped(exc: BaseException, finished: int, ledger: object) -> BaseException:
    """Out of credits stops the whole job: say what to do, and that a rerun resumes."""
    if not isinstance(exc, UsageBlockedError):
        return exc
    then = (
        "then rerun the same call with the same output=: collected chunks are kept and no "
        "row is submitted twice"
        if ledger is not None
        else "then rerun (pass output= to make a rerun resume instead of starting over)"
    )
    out = UsageBlockedError(
        f"{exc.message}. The job stopped ({finished} chunk(s) finished in this call): "
        f"add credits to the Extend organisation, {then}",
        status=exc.status,
        code=exc.code,
        request_id=exc.request_id,
        retryable=False,
        method=exc.method,
        path=exc.path,
    )
    out.__cause__ = exc
    return out


def first_error(group: BaseExceptionGroup) -> BaseException:
    """The error a caller should see from a group of concurrent failures: the first real one
    (not a cancellation caused by it), with how many others there were in a note."""
    leaves: list[BaseException] = []

    def walk(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                walk(inner)
        else:
            leaves.append(exc)

    walk(group)
    real = [e for e in leaves if not isinstance(e, asyncio.CancelledError)] or leaves
    first = real[0]
    if len(real) > 1:
        first.add_note(f"({len(real) - 1} other concurrent error(s) of this job were dropped)")
    return first


def ambiguous_thrice(index: int) -> OutcomeUnknownError:
    """A chunk's create-POSTs failed ambiguously three times in this call: stop, resume later."""
    return OutcomeUnknownError(
        f"batch {index} of the job: its submission failed ambiguously 3 times; no duplicate "
        "was submitted. Rerun the same call with output= to reconcile and resume."
    )
