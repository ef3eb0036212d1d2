"""Single runs: create, get, list (every filter of docs/extend-api.md#lists), cancel, delete.

``GET /{kind}_runs/{id}`` and the list endpoints are the hot paths: they serve each run's
cached JSON bytes and join them, without re-serialising.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ._effective import processor_config
from ._errors import ApiError, internal, invalid, not_found
from ._faults import chance
from ._http import JSONBytes, read_json, reply, state_of
from ._inputs import check_file, check_metadata, check_priority, parse_config, processor_ref
from ._kinds import RUN_KINDS, TERMINAL, RunKind
from ._lists import choice, page_body, page_size, time_key
from ._records import RunRecord
from ._state import State

PARSE_STATUSES = ("PENDING", "PROCESSING", "PROCESSED", "FAILED", "CANCELLED")
RUN_STATUSES = ("PENDING", "PROCESSING", "PROCESSED", "FAILED", "CANCELLED")
PARSE_SOURCES = (
    "API",
    "STUDIO",
    "WORKFLOW_RUN",
    "ADMIN",
    "BATCH_PARSER_RUN",
    "EDIT_RUN",
    "DOCUMENT_PROCESSOR_RUN",
)
RUN_SOURCES = (
    "ADMIN",
    "BATCH_PROCESSOR_RUN",
    "PLAYGROUND",
    "WORKFLOW_CONFIGURATION",
    "WORKFLOW_RUN",
    "STUDIO",
    "API",
)


SYNC_TIMEOUT = 300.0  # the synchronous endpoints' documented 5-minute timeout
SYNC_POLL = 0.005


def output_token(state: State, run_id: str) -> str:
    key = str(state.config.seed).encode() + b":parse-output"
    return hmac.new(key, run_id.encode(), hashlib.sha256).hexdigest()[:32]


def get_run(state: State, kind: RunKind, run_id: str) -> RunRecord:
    run = state.runs_by_kind[kind.name].get(run_id)
    if run is None:
        raise not_found(kind.object.replace("_", " ").capitalize(), run_id)
    return run


def _routes_for(kind: RunKind) -> list[Route]:
    base = kind.path
    pk = kind.processor

    async def create(request: Request) -> Response:
        state = state_of(request)
        body = await read_json(request)
        if "package" in body and "file" not in body:
            raise invalid(
                "package (multi-file) runs are not emulated: send one file per run as "
                "file: {url | id | text}"
            )
        allow_text = kind.name in ("extract", "classify")
        file = check_file(body.get("file"), allow_text=allow_text, where="file")
        metadata = check_metadata(body.get("metadata"), where="metadata")
        priority = check_priority(body.get("priority"))
        proc_json = version_json = proc_id = None
        config: dict[str, Any]
        if pk is not None and body.get(pk.name) is not None:
            if body.get("config") is not None:
                raise invalid(f"{pk.name} and config are mutually exclusive")
            rec, version, config = processor_ref(state, kind, body[pk.name], where=pk.name)
            proc_json, version_json, proc_id = rec.summary(), version.summary(), rec.id
        else:
            raw = body.get("config")
            if raw is not None and not isinstance(raw, dict):
                raise invalid("config must be an object")
            effective = state.config.fidelity.effective_configs
            if kind.name == "parse":
                config = parse_config(raw, effective=effective)
            elif pk is not None and effective:
                config = processor_config(pk.name, raw or {})
            else:
                config = raw or {}

        def commit() -> tuple[Response, int]:
            with state.lock:
                run = RunRecord(
                    kind,
                    state.ids(kind.prefix),
                    seq=state.next_seq(),
                    now=state.now(),
                    file_input=file,
                    metadata=metadata,
                    config=config,
                    status="PROCESSING",
                    source="API",
                    priority=priority,
                    processor_json=proc_json,
                    version_json=version_json,
                    processor_id=proc_id,
                )
                body_bytes = run.full_bytes()
            state.add_runs([run], None)
            return JSONBytes(body_bytes), run.seq

        if state.late_commits.applies():
            state.stats.faults["late_commits"] += 1
            response, _ = await state.late_commits.commit(commit)
            return response
        response, seq = commit()
        faults = state.config.faults
        if faults.error_after_commit_rate and (
            chance(faults.seed, "run-commit", seq) < faults.error_after_commit_rate
        ):
            state.stats.faults["errors_after_commit"] += 1
            raise internal()  # the run exists and will be processed: the lost-response case
        return response

    async def sync(request: Request) -> Response:
        """``POST /parse`` etc.: create the run, answer when it is terminal (5-minute cap)."""
        state = state_of(request)
        created = await create(request)
        run = get_run(state, kind, json.loads(bytes(created.body))["id"])
        deadline = time.monotonic() + SYNC_TIMEOUT
        while run.status not in TERMINAL:
            if time.monotonic() > deadline:
                raise ApiError(504, "TIMEOUT", f"Run {run.id} did not finish within 5 minutes")
            await asyncio.sleep(SYNC_POLL)
        return _answer(state, run, request.query_params.get("responseType", "json"))

    async def get(request: Request) -> Response:
        state = state_of(request)
        run = get_run(state, kind, request.path_params["id"])
        return _answer(state, run, request.query_params.get("responseType", "json"))

    def _answer(state: State, run: RunRecord, response_type: str) -> Response:
        if kind.name == "parse":
            if response_type not in ("json", "url"):
                raise invalid("responseType must be json or url")
            if response_type == "url":
                url = None
                if run.status == "PROCESSED":
                    token = output_token(state, run.id)
                    url = (
                        f"{state.config.public_url}/_emulator/parse_outputs/{run.id}?token={token}"
                    )
                with state.lock:
                    return reply(run.full(output_url=url))
        body = run.cached_full
        if body is None:
            with state.lock:  # never cache a run the worker is half-way through updating
                body = run.full_bytes()
        return JSONBytes(body)

    async def list_(request: Request) -> Response:
        state = state_of(request)
        return JSONBytes(list_runs(state, kind, request.query_params))

    async def cancel(request: Request) -> Response:
        state = state_of(request)
        with state.lock:
            run = get_run(state, kind, request.path_params["id"])
            pending_too = state.config.fidelity.cancel_pending
            allowed = ("PENDING", "PROCESSING") if pending_too else ("PROCESSING",)
            if run.status not in allowed:
                raise ApiError(
                    400,
                    "INVALID_REQUEST",
                    f"Run {run.id} is {run.status}; only {' or '.join(allowed)} runs can be "
                    "cancelled",
                )
            state.cancel_run(run)
            return JSONBytes(run.full_bytes())

    async def delete(request: Request) -> Response:
        state = state_of(request)
        with state.lock:
            run = get_run(state, kind, request.path_params["id"])
            state.delete_run(run)
        return reply({"id": run.id})

    return [
        Route(base, create, methods=["POST"]),
        Route(f"/{kind.name}", sync, methods=["POST"]),
        Route(base, list_, methods=["GET"]),
        Route(base + "/{id}", get, methods=["GET"]),
        Route(base + "/{id}", delete, methods=["DELETE"]),
        Route(base + "/{id}/cancel", cancel, methods=["POST"]),
    ]


def list_runs(state: State, kind: RunKind, params: Any) -> bytes:
    """The list body for one page of runs of ``kind`` matching the query's filters."""
    is_parse = kind.name == "parse"
    size = page_size(params, names=("maxPageSize", "limit") if is_parse else ("maxPageSize",))
    status = params.get("status")
    if status is not None and status not in (PARSE_STATUSES if is_parse else RUN_STATUSES):
        raise invalid(f"status {status!r} is not a valid run status")
    source = params.get("source")
    if source is not None and source not in (PARSE_SOURCES if is_parse else RUN_SOURCES):
        raise invalid(f"source {source!r} is not a valid source")
    sort_by = choice(params, "sortBy", ("updatedAt", "createdAt"), "updatedAt")
    if is_parse and "sortBy" not in params:
        sort_by = "createdAt"  # parse lists have no sort parameters; newest first
    sort_dir = choice(params, "sortDir", ("asc", "desc"), "desc")
    batch_id = params.get("batchId")
    if batch_id is not None and is_parse:
        source = None  # documented: the source filter is ignored when batchId is given
    proc_key = f"{kind.processor.name}Id" if kind.processor else None
    proc_id = params.get(proc_key) if proc_key else None
    source_id = params.get("sourceId")
    needle = params.get("fileNameContains")
    filters = {
        "status": status,
        "source": source,
        "sourceId": source_id,
        "batchId": batch_id,
        "processorId": proc_id,
        "fileNameContains": needle,
        "sortBy": sort_by,
        "sortDir": sort_dir,
    }
    with state.lock:
        if batch_id is not None:
            batch = state.batches.get(batch_id)
            by_id = state.runs_by_kind[kind.name]
            pool = (
                [r for r in (by_id.get(i) for i in batch.run_ids) if r is not None]
                if batch is not None
                else []
            )
        else:
            pool = list(state.runs_by_kind[kind.name].values())
        items = [
            r
            for r in pool
            if (status is None or r.status == status)
            and (source is None or r.source == source)
            and (source_id is None or r.source_id == source_id)
            and (proc_id is None or r.processor_id == proc_id)
            and (needle is None or (r.file is not None and needle in r.file.name))
        ]
        return page_body(
            items,
            time_key(sort_by),
            RunRecord.summary_bytes,
            params,
            descending=sort_dir == "desc",
            filters=filters,
            size=size,
            null_token=state.null_token,
        )


routes = [route for kind in RUN_KINDS.values() for route in _routes_for(kind)]
