"""Effective configs: what a run or version echoes once Extend's defaults are filled in.

The SDK says a run's ``config`` is "the configuration used ..., including any default values
that were applied". The defaults below are the ones SDK 1.20 documents (base processors:
``extraction_performance``, ``classification_standard``, ``splitting_performance``, parse engine
``parse_performance``, target ``markdown``, page chunking, ``returnOcr.words`` false, split
``strictIdentifierModeEnabled`` on for the current splitter versions). Version numbers are the
emulator's placeholders for "latest stable" (Extend does not publish a fixed number).
``Fidelity(effective_configs=False)`` echoes configs verbatim instead.
"""

from __future__ import annotations

import copy
from typing import Any

BASE_PROCESSOR = {
    "extractor": "extraction_performance",
    "classifier": "classification_standard",
    "splitter": "splitting_performance",
}
BASE_VERSION = {
    "extraction_performance": "4.6.0",
    "extraction_light": "1.2.0",
    "extraction_operator": "1.0.0",
    "classification_standard": "1.0.0",
    "classification_performance": "3.2.0",
    "classification_light": "1.1.0",
    "splitting_performance": "1.6.2",
    "splitting_light": "1.4.1",
}
PARSE_ENGINE_VERSION = {"parse_performance": "2.0.0", "parse_light": "1.0.0", "parse_auto": "1.0.0"}

DEFAULT_PARSE_CONFIG: dict[str, Any] = {
    "target": "markdown",
    "chunkingStrategy": {"type": "page"},
    "engine": "parse_performance",
    "blockOptions": {"figures": {"enabled": True}, "tables": {"targetFormat": "markdown"}},
    "advancedOptions": {"returnOcr": {"words": False}},
}


def merge(base: Any, override: Any) -> Any:
    """Deep merge of ``override`` over ``base`` (objects merge, everything else replaces)."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for key, value in override.items():
            out[key] = merge(base.get(key), value)
        return out
    return copy.deepcopy(override)


def parse_config(config: dict[str, Any]) -> dict[str, Any]:
    """The effective parse config: the given fields over the defaults, engine version pinned."""
    merged: dict[str, Any] = merge(DEFAULT_PARSE_CONFIG, config)
    if "engineVersion" not in merged or merged["engineVersion"] == "latest":
        merged["engineVersion"] = PARSE_ENGINE_VERSION.get(str(merged.get("engine")), "latest")
    return merged


def processor_config(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    """An extractor/classifier/splitter config with baseProcessor and baseVersion filled in."""
    out = copy.deepcopy(config)
    base = out.get("baseProcessor") or BASE_PROCESSOR[kind]
    out["baseProcessor"] = base
    if not out.get("baseVersion") or out["baseVersion"] == "latest":
        out["baseVersion"] = BASE_VERSION.get(base, "latest")
    if kind == "splitter":
        options = out.get("advancedOptions")
        options = dict(options) if isinstance(options, dict) else {}
        options.setdefault("strictIdentifierModeEnabled", True)
        out["advancedOptions"] = options
    return out
