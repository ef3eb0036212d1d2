"""Validation of run inputs shared by single-run and batch creation (docs/extend-api.md#inputs)."""

from __future__ import annotations

import copy
import json
from typing import Any

from . import _effective
from ._effective import merge
from ._errors import invalid
from ._kinds import RunKind
from ._processors import get_processor, resolve_version
from ._records import ProcessorRecord, VersionRecord
from ._state import State

MAX_METADATA_BYTES = 10 * 1024


def check_file(spec: Any, *, allow_text: bool, where: str) -> dict[str, Any]:
    """Exactly one of url / id / text, with the documented optional keys."""
    if not isinstance(spec, dict):
        raise invalid(f"{where} must be an object with one of url, id or text")
    present = [k for k in ("url", "id", "text") if k in spec]
    if len(present) != 1:
        raise invalid(f"{where} must have exactly one of url, id or text; got {present or 'none'}")
    key = present[0]
    if not isinstance(spec[key], str) or not spec[key]:
        raise invalid(f"{where}.{key} must be a non-empty string")
    if key == "text" and not allow_text:
        raise invalid(f"{where}.text is not accepted on this endpoint; pass a url or a file id")
    if "name" in spec and not isinstance(spec["name"], str):
        raise invalid(f"{where}.name must be a string")
    settings = spec.get("settings")
    if settings is not None and not isinstance(settings, dict):
        raise invalid(f"{where}.settings must be an object")
    return spec


def check_metadata(meta: Any, *, where: str) -> dict[str, Any] | None:
    if meta is None:
        return None
    if not isinstance(meta, dict):
        raise invalid(f"{where} must be an object")
    if len(json.dumps(meta)) > MAX_METADATA_BYTES:
        raise invalid(f"{where} is larger than 10 KB once serialised")
    return meta


def check_priority(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100:
        raise invalid("priority must be an integer between 1 and 100")
    return value


def parse_config(raw: Any, *, effective: bool = True) -> dict[str, Any]:
    """The parse config a run echoes: effective (defaults filled in) or verbatim."""
    if raw is not None and not isinstance(raw, dict):
        raise invalid("config must be a parse config object")
    return _effective.parse_config(raw or {}) if effective else copy.deepcopy(raw or {})


def processor_ref(
    state: State, kind: RunKind, ref: Any, *, where: str
) -> tuple[ProcessorRecord, VersionRecord, dict[str, Any]]:
    """Resolve ``{id, version?, overrideConfig?}``; 404 for an unknown processor or version."""
    pk = kind.processor
    if pk is None:
        raise invalid(f"{where} is not accepted on parse runs")
    if not isinstance(ref, dict) or not isinstance(ref.get("id"), str):
        raise invalid(f"{where} must be an object with an id ({pk.prefix}_...)")
    version_ref = ref.get("version")
    if version_ref is not None and not isinstance(version_ref, str):
        raise invalid(f"{where}.version must be a string")
    override = ref.get("overrideConfig")
    if override is not None and not isinstance(override, dict):
        raise invalid(f"{where}.overrideConfig must be an object")
    with state.lock:
        rec = get_processor(state, pk, ref["id"])
        version = resolve_version(rec, version_ref)
        config = merge(version.config, override) if override else copy.deepcopy(version.config)
    if override and state.config.fidelity.effective_configs:
        config = _effective.processor_config(pk.name, config)
    return rec, version, config
