"""Attach to a batch created elsewhere (dashboard, another service, the SDK): find its kind,
wait for it, list its runs, fetch them.

Extend tells a batch's type by its id prefix: ``bpar_`` is a parse batch, ``bpr_`` a processor
batch (extract, classify or split). A processor batch's runs are found by listing each
processor run kind filtered by ``batchId`` until one answers with a run.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from typing import Any

from extend_frames._errors import ExtendError, InputError
from extend_frames._operations import MAX_PAGE_SIZE, OPERATIONS, Operation, operations_for_batch_id
from extend_frames.api import Client
from extend_frames.jobs._spec import Concurrency

logger = logging.getLogger("extend_frames.jobs")

PAGE_SIZE = MAX_PAGE_SIZE  # runs per list page
_PREFIXES = "|".join(sorted({re.escape(s.batch_prefix) for s in OPERATIONS.values()}))
_BATCH_ID = re.compile(rf"^(?:{_PREFIXES})[A-Za-z0-9_-]{{1,200}}$")


def check_batch_id(batch_id: object) -> str:
    """The batch id, or InputError (before any request) when it has no batch shape."""
    if not isinstance(batch_id, str) or not _BATCH_ID.match(batch_id):
        raise InputError(
            f"{batch_id!r} is not a batch id: Extend batch ids start with 'bpar_' (parse) or "
            "'bpr_' (extract, classify, split), e.g. 'bpr_Xj8mK2pL9nR4vT7q'"
        )
    return batch_id


async def find_operation(client: Client, batch_id: str) -> Operation:
    """The operation whose runs a batch holds: parse by prefix, else the first processor run
    kind whose list filtered by ``batchId`` is not empty (one request per kind tried)."""
    candidates = operations_for_batch_id(check_batch_id(batch_id))
    if len(candidates) == 1:
        return candidates[0]
    for operation in candidates:
        async for _run in client.iter_runs(operation, batch_id=batch_id, page_size=1):
            logger.info(
                "batch %s: a bpr_ batch; its runs are listed under /%s_runs, so it is an %s batch",
                batch_id,
                operation,
                operation,
            )
            return operation
        logger.debug("batch %s: no runs under /%s_runs", batch_id, operation)
    raise ExtendError(
        f"batch {batch_id} exists but no extract, classify or split run lists it (batchId); "
        "nothing to collect"
    )


async def list_batch_runs(client: Client, operation: Operation, batch_id: str) -> list[Any]:
    """Every run summary of a batch (all pages), once each, sorted by run id."""
    runs: dict[str, Any] = {}
    async for run in client.iter_runs(operation, batch_id=batch_id, page_size=PAGE_SIZE):
        runs[str(run["id"])] = run  # a run listed twice (pages shifting) counts once
    return [runs[k] for k in sorted(runs)]


def processor_of(operation: Operation, run: dict[str, Any]) -> tuple[str | None, str | None]:
    """(processor id, version) a run says it used; (None, None) for parse runs."""
    proc_field = OPERATIONS[operation].kind  # a run names its processor under its kind
    if proc_field is None:
        return None, None
    version_field = f"{proc_field}Version"
    proc = _object(run.get(proc_field))
    version = _object(run.get(version_field))
    proc_id = proc.get("id") or version.get(f"{proc_field}Id")
    number = version.get("version")
    return (str(proc_id) if proc_id else None), (str(number) if number else None)


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


async def fetch_run_bodies(
    client: Client,
    operation: Operation,
    runs: Sequence[dict[str, Any]],
    *,
    concurrency: Concurrency | None = None,
) -> list[bytes]:
    """One body per run, in order: the full run for PROCESSED runs (the output needs a GET),
    the list summary for the rest. GETs in flight follow the client's GET rate."""
    import json

    get_rate = getattr(getattr(client, "rate_limits", None), "get", 10.0)
    slots = asyncio.Semaphore((concurrency or Concurrency()).fetch_slots(get_rate))
    bodies: list[bytes] = [b""] * len(runs)

    async def fetch(i: int, run_id: str) -> None:
        async with slots:
            bodies[i] = await client.get_run_bytes(operation, run_id)

    async with asyncio.TaskGroup() as group:
        for i, run in enumerate(runs):
            if run.get("status") == "PROCESSED":
                group.create_task(fetch(i, str(run["id"])))
            else:
                bodies[i] = json.dumps(run).encode()
    return bodies
