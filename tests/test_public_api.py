"""The public surface is what extend_frames/__init__.py exports; this pins it, so adding or
removing a name is a deliberate change (with a changelog line), never an accident."""

from __future__ import annotations

import inspect

import extend_frames as xf

PUBLIC = [
    "APIError",
    "AuthenticationError",
    "BatchRun",
    "Client",
    "Concurrency",
    "ExtendError",
    "InputError",
    "InvalidRequestError",
    "JobSummary",
    "NotFoundError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "Polling",
    "RateLimitedError",
    "RateLimits",
    "RetryPolicy",
    "ServerError",
    "StoreError",
    "Timeouts",
    "TransportError",
    "UsageBlockedError",
    "WebhookEvent",
    "WebhookHub",
    "WebhookReceiver",
    "WebhookVerificationError",
    "__version__",
    "aclassify",
    "acollect",
    "aextract",
    "aparse",
    "aread_batch",
    "asplit",
    "classify",
    "collect",
    "extract",
    "parse",
    "parse_webhook",
    "read_batch",
    "read_results",
    "result_schema",
    "split",
    "summarize",
    "verify_webhook",
]


def test_all_is_pinned_and_sorted() -> None:
    assert xf.__all__ == PUBLIC
    assert sorted(xf.__all__, key=str.casefold) == sorted(PUBLIC, key=str.casefold)
    for name in PUBLIC:
        assert hasattr(xf, name), name


def test_every_error_derives_from_one_root() -> None:
    errors = [getattr(xf, n) for n in PUBLIC if n.endswith("Error")]
    assert all(issubclass(e, xf.ExtendError) for e in errors)


def test_operations_take_the_frame_first_and_everything_else_by_keyword() -> None:
    for name in ("parse", "extract", "classify", "split", "aparse", "aextract"):
        params = list(inspect.signature(getattr(xf, name)).parameters.values())
        assert params[0].name == "df"
        assert params[0].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params[1:]), name
    for name in ("extract", "classify", "split"):
        assert "processor" in inspect.signature(getattr(xf, name)).parameters
    assert inspect.iscoroutinefunction(xf.aextract)
    assert not inspect.iscoroutinefunction(xf.extract)


def test_all_operations_share_one_set_of_options() -> None:
    """The eight operation functions spell their options out (for readable, typed
    signatures); this keeps them from drifting apart when an option is added."""
    from extend_frames.frames._public import AsyncProcessorOp, ProcessorOp

    def options(fn: object) -> list[tuple[str, object]]:
        params = inspect.signature(fn).parameters.values()  # type: ignore[arg-type]
        skip = {"self", "df", "processor", "config"}
        return [(p.name, p.default) for p in params if p.name not in skip]

    reference = options(xf.parse)
    for fn in (
        xf.aparse,
        xf.extract,
        xf.aextract,
        xf.classify,
        xf.aclassify,
        xf.split,
        xf.asplit,
        ProcessorOp.__call__,
        AsyncProcessorOp.__call__,
    ):
        assert options(fn) == reference, fn
    for fn in (xf.extract, xf.aextract, xf.classify, xf.aclassify, xf.split, xf.asplit):
        assert "config" in inspect.signature(fn).parameters
