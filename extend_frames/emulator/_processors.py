"""Extractors, classifiers and splitters with their versions (docs/extend-api.md#processors).

A processor has a draft (``version: "draft"``) and published versions numbered ``1.0``,
``1.1``, ``2.0`` ... Version references resolve as Extend documents them: ``latest`` (or
omitted) is the newest published version, falling back to the draft; ``draft``; a number;
or a version id.
"""

from __future__ import annotations

import copy
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ._effective import processor_config
from ._errors import SCHEMA_DOC_URL, invalid, not_found
from ._http import JSONBytes, opt_obj, opt_str, read_json, reply, state_of
from ._kinds import PROCESSOR_KINDS, ProcessorKind
from ._lists import choice, page_body, time_key
from ._records import ProcessorRecord, VersionRecord, dumps
from ._state import State

_PRIMITIVES = {"string", "number", "integer", "boolean"}


def check_schema(schema: Any, path: str = "schema") -> None:
    """The JSON-Schema rules Extend enforces with a 400 (docs/extend-api.md#extraction-schema), the
    common ones."""
    if not isinstance(schema, dict):
        raise invalid(f"{path} must be an object", doc_url=SCHEMA_DOC_URL)
    if "enum" in schema:
        if None not in schema["enum"]:
            raise invalid(f"Enums must include null; Path: {path}", doc_url=SCHEMA_DOC_URL)
        return
    types = schema.get("type")
    names = types if isinstance(types, list) else [types]
    if path == "schema" and types != "object":
        raise invalid(
            'The root schema must have "type": "object"; Path: schema', doc_url=SCHEMA_DOC_URL
        )
    if any(t in _PRIMITIVES for t in names) and "null" not in names:
        prim = next(t for t in names if t in _PRIMITIVES)
        raise invalid(
            f'Non-nullable primitive type "{prim}" is not allowed. Use ["{prim}", "null"] '
            f'instead of "{prim}".; Path: {path}',
            doc_url=SCHEMA_DOC_URL,
        )
    for key, sub in (schema.get("properties") or {}).items():
        check_schema(sub, f"{path}.properties.{key}")
    items = schema.get("items")
    if isinstance(items, dict) and items.get("type") == "object":
        check_schema(items, f"{path}.items")


def _check_config(
    state: State, kind: ProcessorKind, config: dict[str, Any] | None
) -> dict[str, Any]:
    """Validate a processor config; return what the version stores (effective by default)."""
    checked = _check_raw(kind, config)
    if state.config.fidelity.effective_configs:
        return processor_config(kind.name, checked)
    return checked


def _check_raw(kind: ProcessorKind, config: dict[str, Any] | None) -> dict[str, Any]:
    if config is None:
        return {}
    if kind.name == "extractor" and "schema" in config:
        check_schema(config["schema"])
    key = {"classifier": "classifications", "splitter": "splitClassifications"}.get(kind.name)
    if key and key in config and not isinstance(config[key], list):
        raise invalid(f"config.{key} must be an array")
    return config


def get_processor(state: State, kind: ProcessorKind, proc_id: str) -> ProcessorRecord:
    rec = state.processors.get(proc_id)
    if rec is None or rec.kind != kind.name:
        raise not_found(kind.name.capitalize(), proc_id)
    return rec


def resolve_version(rec: ProcessorRecord, ref: str | None) -> VersionRecord:
    if ref is None or ref == "latest":
        return rec.published[-1] if rec.published else rec.draft
    if ref in ("draft", rec.draft.id):
        return rec.draft
    for version in rec.published:
        if ref in (version.version, version.id):
            return version
    raise not_found(f"Version of {rec.kind}", f"{ref!r} of {rec.id}")


def _next_number(rec: ProcessorRecord, release: str) -> str:
    if not rec.published:
        return "1.0"
    major, minor = (int(x) for x in rec.published[-1].version.split("."))
    return f"{major + 1}.0" if release == "major" else f"{major}.{minor + 1}"


def _routes_for(kind: ProcessorKind) -> list[Route]:
    base = f"/{kind.plural}"

    async def create(request: Request) -> Response:
        state = state_of(request)
        body = await read_json(request)
        name = opt_str(body, "name")
        if not name:
            raise invalid("name is required")
        config = opt_obj(body, "config")
        clone_id = opt_str(body, kind.clone_key)
        if sum(x is not None for x in (config, clone_id, body.get("generate"))) > 1:
            raise invalid(f"config, {kind.clone_key} and generate are mutually exclusive")
        if body.get("generate") is not None:
            raise invalid("generate (AI schema generation) is not supported by the emulator")
        with state.lock:
            if clone_id is not None:
                config = copy.deepcopy(get_processor(state, kind, clone_id).draft.config)
            config = _check_config(state, kind, config)
            now = state.now()
            proc_id = state.ids(kind.prefix)
            draft = VersionRecord(
                kind.name, state.ids(kind.version_prefix), proc_id, "draft", config, None, now
            )
            rec = ProcessorRecord(kind.name, proc_id, name, draft, state.next_seq(), now)
            state.processors[proc_id] = rec
            return reply(rec.full())

    async def get(request: Request) -> Response:
        state = state_of(request)
        return reply(get_processor(state, kind, request.path_params["id"]).full())

    async def update(request: Request) -> Response:
        state = state_of(request)
        body = await read_json(request)
        name = opt_str(body, "name")
        config = opt_obj(body, "config")
        with state.lock:
            rec = get_processor(state, kind, request.path_params["id"])
            if name is not None:
                rec.name = name
            if config is not None:
                rec.draft.config = _check_config(state, kind, config)
            rec.updated_at = state.now()
            return reply(rec.full())

    async def list_(request: Request) -> Response:
        state = state_of(request)
        params = request.query_params
        sort_by = choice(params, "sortBy", ("updatedAt", "createdAt"), "updatedAt")
        with state.lock:
            items = [p for p in state.processors.values() if p.kind == kind.name]
        body = page_body(
            items,
            time_key(sort_by),
            lambda p: dumps(p.summary()),
            params,
            filters={"sortBy": sort_by},
            null_token=state.null_token,
        )
        return JSONBytes(body)

    async def publish(request: Request) -> Response:
        state = state_of(request)
        body = await read_json(request)
        release = body.get("releaseType")
        if release not in ("major", "minor"):
            raise invalid('releaseType is required: "major" or "minor"')
        description = opt_str(body, "description")
        config = opt_obj(body, "config")
        with state.lock:
            rec = get_processor(state, kind, request.path_params["id"])
            if config is not None:
                rec.draft.config = _check_config(state, kind, config)
            now = state.now()
            version = VersionRecord(
                kind.name,
                state.ids(kind.version_prefix),
                rec.id,
                _next_number(rec, release),
                copy.deepcopy(rec.draft.config),
                description,
                now,
            )
            rec.published.append(version)
            rec.updated_at = now
            return reply(version.full())

    async def get_version(request: Request) -> Response:
        state = state_of(request)
        rec = get_processor(state, kind, request.path_params["id"])
        return reply(resolve_version(rec, request.path_params["version"]).full())

    async def list_versions(request: Request) -> Response:
        state = state_of(request)
        params = request.query_params
        sort_dir = choice(params, "sortDir", ("asc", "desc"), "desc")
        with state.lock:
            rec = get_processor(state, kind, request.path_params["id"])
            published = list(rec.published)
            draft = rec.draft
        ordered = [draft, *(reversed(published) if sort_dir == "desc" else published)]
        index = {v.id: i for i, v in enumerate(ordered)}
        body = page_body(
            ordered,
            lambda v: (float(index[v.id]), 0),
            lambda v: dumps(v.summary()),
            params,
            descending=False,
            filters={"sortDir": sort_dir, "processor": rec.id},
            null_token=state.null_token,
        )
        return JSONBytes(body)

    return [
        Route(base, create, methods=["POST"]),
        Route(base, list_, methods=["GET"]),
        Route(base + "/{id}", get, methods=["GET"]),
        Route(base + "/{id}", update, methods=["POST"]),
        Route(base + "/{id}/versions", publish, methods=["POST"]),
        Route(base + "/{id}/versions", list_versions, methods=["GET"]),
        Route(base + "/{id}/versions/{version}", get_version, methods=["GET"]),
    ]


routes = [route for kind in PROCESSOR_KINDS.values() for route in _routes_for(kind)]
