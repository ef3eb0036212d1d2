"""The public surface is what extend_frames/__init__.py exports; this pins it, so adding or
removing a name is a deliberate change (with a changelog line), never an accident."""

from __future__ import annotations

import inspect

import extend_frames as xf

PUBLIC = [
    "APIError",
    "AuthenticationError",
    "BatchRun",
    "BatchTimeoutError",
    "Cache",
    "Client",
    "Concurrency",
    "Delta",
    "ExtendError",
    "Iceberg",
    "InputError",
    "InvalidRequestError",
    "JobSummary",
    "NotFoundError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "Plan",
    "Polling",
    "RateLimitedError",
    "RateLimits",
    "RetryPolicy",
    "ServerError",
    "StoreError",
    "TableError",
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
    "aplan",
    "aread_batch",
    "asplit",
    "classify",
    "collect",
    "compact_table",
    "extract",
    "parse",
    "parse_webhook",
    "plan",
    "read_batch",
    "read_results",
    "report",
    "result_schema",
    "split",
    "summarize",
    "verify_webhook",
]


def test_all_is_pinned_and_sorted() -> None:
    assert xf.__all__ == PUBLIC
    assert xf.__all__ == sorted(xf.__all__)  # code-point order: classes, __version__, functions
    assert len(set(xf.__all__)) == len(xf.__all__)
    for name in PUBLIC:
        assert hasattr(xf, name), name


def test_every_error_derives_from_one_root() -> None:
    errors = [getattr(xf, n) for n in PUBLIC if n.endswith("Error")]
    assert all(issubclass(e, xf.ExtendError) for e in errors)


OPERATIONS = ("parse", "extract", "classify", "split")
ALL_OPERATIONS = [*OPERATIONS, *(f"a{op}" for op in OPERATIONS)]


def test_operations_take_the_frame_first_and_everything_else_by_keyword() -> None:
    for name in ALL_OPERATIONS:
        params = list(inspect.signature(getattr(xf, name)).parameters.values())
        assert params[0].name == "df"
        assert params[0].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        named, options = params[1:-1], params[-1]
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in named), name
        assert options.kind is inspect.Parameter.VAR_KEYWORD, name
    for name in ("extract", "classify", "split"):
        assert "processor" in inspect.signature(getattr(xf, name)).parameters
    for name in OPERATIONS:
        assert inspect.iscoroutinefunction(getattr(xf, f"a{name}")), name
        assert not inspect.iscoroutinefunction(getattr(xf, name)), name


def test_all_operations_share_one_set_of_options() -> None:
    """Every operation (and the df.xf namespace) names only its own parameters and takes
    the shared ones as **options: Unpack[JobOptions]; collect takes the waiting subset."""
    import polars as pl
    import typing_extensions as te

    from extend_frames.frames._options import Options, keys_of

    own = {"df", "file_column", "text_column", "config"}
    for name in ALL_OPERATIONS:
        fn = getattr(xf, name)
        params = inspect.signature(fn).parameters
        expected = own | ({"processor"} if name.lstrip("a") != "parse" else set()) | {"options"}
        assert set(params) == expected, name
        hints = te.get_type_hints(fn, include_extras=True)
        assert hints["options"] == te.Unpack[xf.frames.JobOptions], name
    namespace = pl.DataFrame({"file": []}).xf
    for name in OPERATIONS:
        method = inspect.signature(getattr(namespace, name)).parameters
        assert list(method) == list(inspect.signature(getattr(xf, name)).parameters)[1:], name
    hints = te.get_type_hints(xf.collect, include_extras=True)
    assert hints["options"] == te.Unpack[xf.frames.WaitOptions]
    # The resolved options carry exactly the keys the operations accept.
    assert keys_of(xf.frames.JobOptions) == set(Options.__dataclass_fields__)
    assert keys_of(xf.frames.WaitOptions) < keys_of(xf.frames.JobOptions)


def test_an_unknown_option_is_refused_with_the_nearest_name() -> None:
    import polars as pl
    import pytest

    with pytest.raises(xf.InputError, match=r"unexpected keyword argument 'outptu'.*'output'"):
        xf.extract(pl.DataFrame({"file": ["x"]}), processor="ex_a", outptu="/tmp/x")  # type: ignore[call-arg]


def test_plan_takes_the_frame_and_operation_then_the_job_options() -> None:
    import typing_extensions as te

    params = inspect.signature(xf.plan).parameters
    assert list(params)[:2] == ["df", "operation"]
    assert params["processor"].kind is inspect.Parameter.KEYWORD_ONLY
    hints = te.get_type_hints(xf.plan, include_extras=True)
    assert hints["options"] == te.Unpack[xf.frames.JobOptions]
    assert inspect.iscoroutinefunction(xf.aplan)
