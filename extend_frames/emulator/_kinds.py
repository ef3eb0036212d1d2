"""The four run kinds and three processor kinds, as data (prefixes, object names, JSON keys)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ProcessorKind:
    name: str  # extractor | classifier | splitter
    prefix: str  # ex | cl | spl
    version_prefix: str  # exv | clv | splv
    plural: str  # extractors | ...
    clone_key: str  # cloneExtractorId | ...

    @property
    def version_object(self) -> str:
        return f"{self.name}_version"

    @property
    def id_key(self) -> str:
        return f"{self.name}Id"


@dataclass(frozen=True, slots=True)
class RunKind:
    name: str  # parse | extract | classify | split
    object: str  # parse_run | extract_run | ...
    prefix: str  # pr | exr | clr | splr
    batch_prefix: str  # bpar | bpr
    batch_source: str  # BATCH_PARSER_RUN | BATCH_PROCESSOR_RUN
    processor: ProcessorKind | None

    @property
    def path(self) -> str:
        return f"/{self.name}_runs"


EXTRACTOR = ProcessorKind("extractor", "ex", "exv", "extractors", "cloneExtractorId")
CLASSIFIER = ProcessorKind("classifier", "cl", "clv", "classifiers", "cloneClassifierId")
SPLITTER = ProcessorKind("splitter", "spl", "splv", "splitters", "cloneSplitterId")
PROCESSOR_KINDS = {k.name: k for k in (EXTRACTOR, CLASSIFIER, SPLITTER)}

PARSE = RunKind("parse", "parse_run", "pr", "bpar", "BATCH_PARSER_RUN", None)
EXTRACT = RunKind("extract", "extract_run", "exr", "bpr", "BATCH_PROCESSOR_RUN", EXTRACTOR)
CLASSIFY = RunKind("classify", "classify_run", "clr", "bpr", "BATCH_PROCESSOR_RUN", CLASSIFIER)
SPLIT = RunKind("split", "split_run", "splr", "bpr", "BATCH_PROCESSOR_RUN", SPLITTER)
RUN_KINDS = {k.name: k for k in (PARSE, EXTRACT, CLASSIFY, SPLIT)}

TERMINAL = frozenset({"PROCESSED", "FAILED", "CANCELLED"})
