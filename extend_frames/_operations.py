"""The four Extend operations, each described once: every layer reads its facts from here.

One frozen :class:`OperationSpec` per operation (``parse``, ``extract``, ``classify``,
``split``) holds what the client, the engine, the frames layer and the CLI need to know about
it: the processor kind and id prefixes, the run and list endpoints, the batch id prefix, the
webhook events and the per-batch input cap. The Extend facts behind these values are written
up in ``docs/extend-api.md``. Lowest layer: standard library only. (The emulator keeps its own
copies on purpose: it imports nothing from the client side.)

>>> OPERATIONS["extract"].kind, OPERATIONS["extract"].run_path
('extractor', '/extract_runs')
>>> operations_for_batch_id("bpar_123")
('parse',)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, TypeAlias

__all__ = [
    "MAX_BATCH_INPUTS",
    "MAX_PAGE_SIZE",
    "OPERATIONS",
    "PROCESSOR_KINDS",
    "Operation",
    "OperationSpec",
    "ProcessorKind",
    "operations_for_batch_id",
    "processor_prefix_owner",
]

Operation: TypeAlias = Literal["parse", "extract", "classify", "split"]
ProcessorKind: TypeAlias = Literal["extractor", "classifier", "splitter"]

#: Extend accepts at most this many inputs in one batch request (docs/extend-api.md#batches).
MAX_BATCH_INPUTS = 1000
#: The largest page a list endpoint returns (docs/extend-api.md#lists).
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class OperationSpec:
    """Everything the library relies on about one operation (docs/extend-api.md)."""

    name: Operation
    #: The processor kind (``GET /{kind}s/{id}/versions/...``); None: parse runs no processor.
    kind: ProcessorKind | None
    #: Processor id prefixes accepted for this operation (the first is the canonical one).
    processor_prefixes: tuple[str, ...]
    #: Prefixes of processor *version* ids, recognised to give a better error message.
    version_prefixes: tuple[str, ...]
    #: Prefix of the run ids this operation creates (``exr_...``).
    run_prefix: str
    #: The ``object`` field of its run JSON (``"extract_run"``).
    run_object: str
    #: The run collection: ``GET {run_path}/{id}``, ``GET {run_path}`` (list),
    #: ``POST {run_path}/batch``.
    run_path: str
    #: Query parameters the list endpoint accepts (besides paging).
    list_filters: frozenset[str]
    #: The list filter naming the processor (``extractorId``); None for parse.
    processor_filter: str | None
    #: Whether the list endpoint accepts ``sortBy``/``sortDir`` (parse lists do not).
    sortable: bool
    #: Prefix of the ids of the batches this operation's batch endpoint returns.
    batch_prefix: str
    #: Webhook events that end a batch (processed, failed).
    batch_events: tuple[str, str]
    #: Webhook events of a single run (processed, failed).
    run_events: tuple[str, str]
    #: The key of the processor reference in a batch POST body (``"extractor": {...}``).
    processor_field: str | None
    #: At most this many inputs per batch request.
    max_inputs: int = MAX_BATCH_INPUTS

    @property
    def kind_label(self) -> str:
        """``"an extractor"``: for messages."""
        if self.kind is None:
            return "no processor"
        return f"{'an' if self.kind[0] in 'aeiou' else 'a'} {self.kind}"


_PROCESSOR_LIST_FILTERS = frozenset(
    {"status", "batchId", "sourceId", "source", "fileNameContains", "sortBy", "sortDir"}
)
_BATCH_PROCESSOR_EVENTS = ("batch_processor_run.processed", "batch_processor_run.failed")


def _processor_op(
    name: Operation,
    kind: ProcessorKind,
    prefixes: tuple[str, ...],
    version_prefixes: tuple[str, ...],
    run_prefix: str,
) -> OperationSpec:
    short = name  # extract -> /extract_runs, extract_run.processed
    return OperationSpec(
        name=name,
        kind=kind,
        processor_prefixes=prefixes,
        version_prefixes=version_prefixes,
        run_prefix=run_prefix,
        run_object=f"{short}_run",
        run_path=f"/{short}_runs",
        list_filters=_PROCESSOR_LIST_FILTERS | {f"{kind}Id"},
        processor_filter=f"{kind}Id",
        sortable=True,
        batch_prefix="bpr_",
        batch_events=_BATCH_PROCESSOR_EVENTS,
        run_events=(f"{short}_run.processed", f"{short}_run.failed"),
        processor_field=kind,
    )


#: The operations in their canonical order; ``OPERATIONS[op]`` is the spec, ``op in
#: OPERATIONS`` checks a name, ``", ".join(OPERATIONS)`` lists them.
OPERATIONS: Mapping[str, OperationSpec] = MappingProxyType(
    {
        "parse": OperationSpec(
            name="parse",
            kind=None,
            processor_prefixes=(),
            version_prefixes=(),
            run_prefix="pr_",
            run_object="parse_run",
            run_path="/parse_runs",
            list_filters=frozenset({"status", "batchId", "source", "sourceId", "fileNameContains"}),
            processor_filter=None,
            sortable=False,
            batch_prefix="bpar_",
            batch_events=("batch_parse_run.processed", "batch_parse_run.failed"),
            run_events=("parse_run.processed", "parse_run.failed"),
            processor_field=None,
        ),
        # The agent guide spells splitter ids sp_, the SDK and docs spl_: accept both.
        # Version ids: two spellings seen for extractors and classifiers; accept both.
        "extract": _processor_op("extract", "extractor", ("ex_",), ("exv_", "extv_"), "exr_"),
        "classify": _processor_op("classify", "classifier", ("cl_",), ("clv_", "clsv_"), "clr_"),
        "split": _processor_op("split", "splitter", ("spl_", "sp_"), ("splv_",), "splr_"),
    }
)

#: The processor kinds, in operation order.
PROCESSOR_KINDS: tuple[ProcessorKind, ...] = tuple(
    s.kind for s in OPERATIONS.values() if s.kind is not None
)


def operations_for_batch_id(batch_id: str) -> tuple[Operation, ...]:
    """The operations whose batches carry this id's prefix (``()`` for an unknown prefix).

    ``bpar_`` is parse only; ``bpr_`` is shared by extract, classify and split.
    """
    return tuple(s.name for s in OPERATIONS.values() if batch_id.startswith(s.batch_prefix))


def processor_prefix_owner(ident: str) -> tuple[OperationSpec, bool] | None:
    """Which operation an id's prefix belongs to, and whether it is a *version* id.

    >>> spec, is_version = processor_prefix_owner("clv_abc")
    >>> spec.name, is_version
    ('classify', True)
    """
    for spec in OPERATIONS.values():
        # Longest prefixes first, so "spl_" is not mistaken for "sp_" and "splv_" for "spl_".
        candidates = [(p, False) for p in spec.processor_prefixes]
        candidates += [(p, True) for p in spec.version_prefixes]
        for prefix, is_version in sorted(candidates, key=lambda c: -len(c[0])):
            if ident.startswith(prefix):
                return spec, is_version
    return None
