"""``ExtendJobTrigger``: waits in Airflow's triggerer until a job's batches and runs end.

It holds no secret and no storage option (its arguments are stored in Airflow's database):
the batch and run ids the operator read from the job's ledger, the operation, the connection
id, and the poll interval (reached by doubling from 1 s). It polls with the async client,
oldest first, stopping a round at the first one still running (a job's batches end roughly in
submission order, so one round costs about one request), and fires one event when all have
ended. The operator then
collects the results in a worker (``xf.collect``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from extend_frames._errors import ExtendError
from extend_frames._operations import Operation
from extend_frames.airflow._hook import ExtendHook
from extend_frames.api import Client

__all__ = ["RUNNING", "ExtendJobTrigger", "pending_ids"]

#: The run statuses that may still change (docs/extend-api.md#run-statuses).
RUNNING = frozenset({"PENDING", "PROCESSING", "CANCELLING"})


class ExtendJobTrigger(BaseTrigger):  # type: ignore[misc]  # Airflow's classes are untyped
    """Fires ``{"status": "done", "waited": n}`` when every batch and run has ended, or
    ``{"status": "error", "message": ...}`` when the API refuses (the key never appears)."""

    def __init__(
        self,
        *,
        operation: Operation,
        batch_ids: Sequence[str] = (),
        run_ids: Sequence[str] = (),
        extend_conn_id: str = ExtendHook.default_conn_name,
        poll_interval: float = 30.0,
    ) -> None:
        super().__init__()
        self.operation: Operation = operation
        self.batch_ids = list(batch_ids)
        self.run_ids = list(run_ids)
        self.extend_conn_id = extend_conn_id
        self.poll_interval = float(poll_interval)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "extend_frames.airflow.ExtendJobTrigger",
            {
                "operation": self.operation,
                "batch_ids": self.batch_ids,
                "run_ids": self.run_ids,
                "extend_conn_id": self.extend_conn_id,
                "poll_interval": self.poll_interval,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        waiting = [("batch", i) for i in self.batch_ids] + [("run", i) for i in self.run_ids]
        total, rounds = len(waiting), 0
        try:
            async with await ExtendHook(self.extend_conn_id).aget_conn() as client:
                while waiting:
                    waiting = await self._poll(client, waiting)
                    if waiting:
                        self.log.info("Extend: %d of %d batches/runs running", len(waiting), total)
                        # 1, 2, 4... seconds up to poll_interval: a short job ends soon after
                        await asyncio.sleep(min(self.poll_interval, 2.0**rounds))
                        rounds += 1
        except ExtendError as exc:  # our messages never hold the key or a presigned URL
            yield TriggerEvent({"status": "error", "message": f"{type(exc).__name__}: {exc}"})
            return
        yield TriggerEvent({"status": "done", "waited": total})

    async def _poll(self, client: Client, waiting: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """``waiting`` without its leading ended ids (one GET per id until one still runs)."""
        for index, (kind, ident) in enumerate(waiting):
            if kind == "batch":
                ended = (await client.get_batch(ident)).is_terminal
            else:
                ended = (await client.get_run(self.operation, ident)).get("status") not in RUNNING
            if not ended:
                return waiting[index:]
        return []


def pending_ids(
    batch_ids: Sequence[str | None], run_ids: Sequence[str | None]
) -> tuple[list[str], list[str]]:
    """The distinct batch ids, and the run ids of rows without a batch (single runs), in order
    of first appearance: what a trigger waits on for a job's PENDING rows."""
    batches = list(dict.fromkeys(b for b in batch_ids if b))
    runs = list(dict.fromkeys(r for b, r in zip(batch_ids, run_ids, strict=True) if r and not b))
    return batches, runs
