"""Effective configs: what a run or version echoes once Extend's defaults are filled in.

The SDK says a run's ``config`` is "the configuration used ..., including any default values
that were applied". Every option the SDK declares that has a value when it is not sent is
filled in (docs/emulator-fidelity.md, "Effective configs"): the defaults SDK 1.20 documents
(base processors ``extraction_performance``, ``classification_standard``,
``splitting_performance``; parse engine ``parse_performance``, target ``markdown``, page
chunking, ``returnOcr.words`` false, ``verticalGroupingThreshold`` 1.0, ``citationMode`` line,
``currentDateEnabled`` false, split ``strictIdentifierModeEnabled`` on for the current
splitter versions), what the emulator does when the option is absent (citations on), and the
off state of every other opt-in. Rules default to the empty text. Options that have no value
unless sent (``pageRanges``, ``excelSheetRanges``, ``arrayStrategy``, chunking
``options``, ``reviewAgent``) appear only when sent. Version numbers are the emulator's
placeholders for "latest stable" (Extend does not publish a fixed number).
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
    "advancedOptions": {
        "pageRotationEnabled": True,
        "excelParsingMode": "basic",
        "excelSkipHiddenContent": False,
        "excelUseRawCellValues": False,
        "excelSkipCalculation": False,
        "excelIncludeCellMetadata": False,
        "excelIncludeCellFormatting": False,
        "verticalGroupingThreshold": 1.0,
        "returnOcr": {"words": False},
        "alwaysConvertToPdf": False,
        "enrichmentFormat": "xml",
        "imageConversionQuality": "high",
        "formattingDetection": [],
    },
}
# Per processor kind: the rules key and the advanced options filled in when absent.
RULES_KEY = {
    "extractor": "extractionRules",
    "classifier": "classificationRules",
    "splitter": "splitRules",
}
DEFAULT_ADVANCED_OPTIONS: dict[str, dict[str, Any]] = {
    "extractor": {
        "modelReasoningInsightsEnabled": False,
        "advancedMultimodalEnabled": False,
        "citationsEnabled": True,  # the emulator cites unless told not to
        "citationMode": "line",
        "arrayCitationStrategy": "item",
        "excelSheetSelectionStrategy": "intelligent",
        "currentDateEnabled": False,
    },
    "classifier": {
        "context": "default",
        "advancedMultimodalEnabled": False,
        "memoryEnabled": False,
    },
    "splitter": {
        "splitExcelDocumentsBySheetEnabled": False,
        "pageOverlapEnabled": False,
        "strictIdentifierModeEnabled": True,
    },
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
    """An extractor/classifier/splitter config with its defaults filled in: baseProcessor,
    baseVersion, the rules text, the advanced options and the effective parseConfig."""
    out = copy.deepcopy(config)
    base = out.get("baseProcessor") or BASE_PROCESSOR[kind]
    out["baseProcessor"] = base
    if not out.get("baseVersion") or out["baseVersion"] == "latest":
        out["baseVersion"] = BASE_VERSION.get(base, "latest")
    if not isinstance(out.get(RULES_KEY[kind]), str):
        out[RULES_KEY[kind]] = ""
    options = out.get("advancedOptions")
    out["advancedOptions"] = merge(
        DEFAULT_ADVANCED_OPTIONS[kind], options if isinstance(options, dict) else {}
    )
    parse = out.get("parseConfig")
    out["parseConfig"] = parse_config(parse if isinstance(parse, dict) else {})
    return out
