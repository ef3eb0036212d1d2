"""Batch endpoints: ``POST /{kind}_runs/batch`` and ``GET /batch_runs/{id}``
(docs/extend-api.md#batches).

Validation is synchronous and atomic: a refused batch creates nothing. On success the batch
and its runs exist (runs listable as PENDING) before the response is sent.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ._clock import rfc3339
from ._errors import ApiError, found, internal, invalid, not_found
from ._faults import chance
from ._http import read_json, reply, state_of
from ._inputs import check_file, check_metadata, check_priority, parse_config, processor_ref
from ._kinds import RUN_KINDS, RunKind
from ._records import BatchRecord, RunRecord
from ._state import State

MAX_INPUTS = 1000


def _check_inputs(kind: RunKind, inputs: Any, *, strip: bool) -> list[tuple[dict[str, Any], Any]]:
    """Validate the inputs; unknown keys on an input are dropped (``strip``, as the server's
    schemas do for the top level) or refused with 400 (``Fidelity(unknown_input_keys=...)``)."""
    if not isinstance(inputs, list):
        raise invalid("inputs is required: an array of 1 to 1000 {file, metadata?} objects")
    if not 1 <= len(inputs) <= MAX_INPUTS:
        raise invalid(
            f"inputs must contain between 1 and {MAX_INPUTS} items; received {len(inputs)}"
        )
    checked = []
    for i, item in enumerate(inputs):
        if not isinstance(item, dict):
            raise invalid(f"inputs[{i}] must be an object {{file, metadata?}}")
        extra = set(item) - {"file", "metadata"}
        if extra and not strip:
            raise invalid(
                f"inputs[{i}] has unsupported keys {sorted(extra)}; an input is only "
                "{file, metadata} (config and priority belong to the batch)"
            )
        file = check_file(
            item.get("file"), allow_text=kind.name != "split", where=f"inputs[{i}].file"
        )
        meta = check_metadata(item.get("metadata"), where=f"inputs[{i}].metadata")
        checked.append((file, meta))
    return checked


def _route_for(kind: RunKind) -> Route:
    pk = kind.processor

    async def create_batch(request: Request) -> Response:
        state = state_of(request)
        body = await read_json(request)
        priority = check_priority(body.get("priority"))
        proc_json = version_json = proc_id = None
        if pk is None:
            config = parse_config(
                body.get("config"), effective=state.config.fidelity.effective_configs
            )
        else:
            if body.get("config") is not None:
                raise invalid(
                    f"config is not accepted on /{kind.name}_runs/batch; reference a saved "
                    f"{pk.name} with {pk.name}: {{id, version?, overrideConfig?}}"
                )
            if body.get(pk.name) is None:
                raise invalid(f"{pk.name} is required: {{id: '{pk.prefix}_...', version?}}")
        strip = state.config.fidelity.unknown_input_keys == "strip"
        inputs = _check_inputs(kind, body.get("inputs"), strip=strip)
        if pk is not None:
            rec, version, config = processor_ref(state, kind, body[pk.name], where=pk.name)
            proc_json, version_json, proc_id = rec.summary(), version.summary(), rec.id
        faults = state.config.faults

        def commit() -> tuple[Response, int]:
            with state.lock:
                now = state.now()
                index = state.next_batch_index()
                batch = BatchRecord(state.ids(kind.batch_prefix), kind, proc_id, now)
                runs = [
                    RunRecord(
                        kind,
                        state.ids(kind.prefix),
                        seq=state.next_seq(),
                        now=now,
                        file_input=file,
                        metadata=meta,
                        config=config,
                        status="PENDING",
                        source=kind.batch_source,
                        source_id=batch.id,
                        batch_id=batch.id,
                        priority=priority,
                        processor_json=proc_json,
                        version_json=version_json,
                        processor_id=proc_id,
                    )
                    for file, meta in inputs
                ]
                fail = faults.batch_failure_rate and (
                    chance(faults.seed, "batch", index) < faults.batch_failure_rate
                )
                if fail:
                    batch.fail_after = int(chance(faults.seed, "batch-point", index) * len(runs))
                created = batch.to_json()
                created["runCount"] = len(runs)  # the response shows the batch as committed
                payload = reply(created)
                state.add_runs(runs, batch)
                if fail and batch.fail_after == 0:
                    state.fail_batch(batch)
            return payload, index

        if state.late_commits.applies():
            state.stats.faults["late_commits"] += 1
            payload, _ = await state.late_commits.commit(commit)
            return payload
        payload, index = commit()
        if faults.error_after_commit_rate and (
            chance(faults.seed, "commit", index) < faults.error_after_commit_rate
        ):
            state.stats.faults["errors_after_commit"] += 1
            raise internal()
        return payload

    return Route(f"{kind.path}/batch", create_batch, methods=["POST"])


async def get_batch(request: Request) -> Response:
    state = state_of(request)
    batch = found(state.batches, "Batch run", request.path_params["id"])
    return reply(batch.to_json())


async def get_legacy_batch(request: Request) -> Response:
    """Legacy ``GET /batch_processor_runs/{id}`` for an extract/classify/split batch.

    The SDK keeps this endpoint (``client.batch_processor_run.get``) for batch processor runs;
    the emulator serves its ``bpr_`` batches through it. Its source enum has no API value, so
    ``source`` is ``STUDIO`` with the processor as ``sourceId`` (the emulator's choice), and a
    CANCELLED batch reads FAILED (the legacy status enum has no CANCELLED).
    """
    state = state_of(request)
    batch_id = request.path_params["id"]
    with state.lock:
        batch = state.batches.get(batch_id)
        if batch is None or batch.kind.processor is None:
            raise not_found("Batch processor run", batch_id)
        runs = [state.runs[i] for i in batch.run_ids if i in state.runs]
        first = runs[0] if runs else None
        pages = sum(r.page_count or 0 for r in runs if r.status == "PROCESSED")
        body: dict[str, Any] = {
            "object": "batch_processor_run",
            "id": batch.id,
            "processorId": batch.processor_id,
            "processorVersionId": (first.version_json or {}).get("id") if first else None,
            "processorName": (first.processor_json or {}).get("name") if first else None,
            "metrics": {"numFiles": float(len(batch.run_ids)), "numPages": float(pages)},
            "status": "FAILED" if batch.status == "CANCELLED" else batch.status,
            "source": "STUDIO",
            "sourceId": batch.processor_id,
            "runCount": len(batch.run_ids),
            # Evaluation options (fields fuzzy-matched or excluded): API batches set none.
            "options": {"fuzzyMatchFields": [], "excludeFields": []},
            "createdAt": rfc3339(batch.created_at),
            "updatedAt": rfc3339(max([batch.created_at, *(r.updated_at for r in runs)])),
        }
    return reply({"success": True, "batchProcessorRun": body})


def cancel_batch(state: State, batch_id: str) -> BatchRecord:
    """Emulator-only batch cancel: unfinished runs and the batch become CANCELLED."""
    with state.lock:
        batch = found(state.batches, "Batch run", batch_id)
        if batch.status in ("PROCESSED", "FAILED", "CANCELLED"):
            raise ApiError(400, "INVALID_REQUEST", f"Batch {batch_id} is already {batch.status}")
        state.cancel_batch(batch)
        return batch


routes = [
    *(_route_for(kind) for kind in RUN_KINDS.values()),
    Route("/batch_runs/{id}", get_batch, methods=["GET"]),
    Route("/batch_processor_runs/{id}", get_legacy_batch, methods=["GET"]),
]
