"""Rows that may have been paid twice: found after a resubmission, cancelled, flagged.

A create-POST whose outcome stayed unknown can commit after its keys were sent again. The
submitted record of the resubmission carries ``suspect_since`` (the first unknown POST), so
the chunk's state ``watch``es those keys; before the chunk is collected, one more listing at
least ``grace`` after the last POST finds any run other than the one kept.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from extend_frames._errors import ExtendError
from extend_frames._operations import Operation
from extend_frames.api import Client
from extend_frames.jobs._clock import JobClock, parse_time
from extend_frames.jobs._reconcile import Reconciler, cancellable

__all__ = ["cancel_extra", "late_duplicates", "log_duplicates"]

logger = logging.getLogger("extend_frames.jobs")


async def late_duplicates(
    reconciler: Reconciler,
    clock: JobClock,
    keys: tuple[str, ...],
    since: str,
    last: str,
    run_ids: dict[str, str],
    known: Mapping[str, tuple[str, ...]],
) -> dict[str, list[dict[str, Any]]]:
    """Runs of ``keys`` other than the kept ones (``run_ids``) and the ones already flagged
    (``known``), created since ``since``, looked for at least the grace after ``last``."""
    kept = {k: run_ids[k] for k in keys if k in run_ids}
    first, latest = parse_time(since), parse_time(last)
    if not kept or first is None or latest is None:
        return {}
    found = await reconciler.duplicates(kept, first, resubmitted_at=clock.at_wall(latest))
    fresh = {k: [r for r in rs if str(r["id"]) not in known.get(k, ())] for k, rs in found.items()}
    return {k: runs for k, runs in fresh.items() if runs}


async def cancel_extra(
    client: Client, operation: Operation, extra: dict[str, list[dict[str, Any]]]
) -> list[str]:
    """Cancel the extra runs still running; the ids cancelled (a run that finished meanwhile
    cannot be: it stays flagged)."""
    cancelled: list[str] = []
    for run in (r for runs in extra.values() for r in runs if cancellable(r)):
        try:
            await client.cancel_run(operation, str(run["id"]))
        except ExtendError as exc:
            logger.info("could not cancel duplicate run %s: %s", run["id"], exc)
        else:
            cancelled.append(str(run["id"]))
    return cancelled


def log_duplicates(index: int, rows: int, cancelled: int) -> None:
    logger.warning(
        "chunk %d: %d row(s) may have been paid twice: a create-POST whose outcome was "
        "unknown committed after its rows were submitted again (%d duplicate run(s) "
        "cancelled); the rows are flagged possible_duplicate",
        index, rows, cancelled,
    )  # fmt: skip
