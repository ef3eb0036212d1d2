"""What the scheduler integrations (``extend_frames.airflow``, ``extend_frames.dagster``) share:
running one operation by name, telling job options from the scheduler's own keywords, and the
summary they report (plain JSON, display paths only: no secret)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import polars as pl

from extend_frames._errors import InputError
from extend_frames._operations import OPERATIONS, Operation
from extend_frames.frames import (
    JobOptions,
    classify,
    display_path,
    extract,
    parse,
    split,
    summarize,
)

__all__ = ["check_job", "job_option_names", "job_summary", "run_operation", "take_job_options"]

_OPERATIONS: dict[str, Callable[..., pl.DataFrame]] = {
    "parse": parse,
    "extract": extract,
    "classify": classify,
    "split": split,
}


#: What the operations spell out themselves besides the frame and ``processor``.
_OPERATION_KEYWORDS = frozenset({"file_column", "text_column", "config"})


def job_option_names() -> frozenset[str]:
    """Every keyword the public operations take besides the frame and ``processor``: their
    own and the shared options, read from the one definition (``frames/_options.py``), so
    options added there pass through the integrations as they are."""
    return _OPERATION_KEYWORDS | frozenset(JobOptions.__optional_keys__)


def take_job_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Remove the job options from ``kwargs`` (the rest belong to the scheduler) and return them."""
    return {k: kwargs.pop(k) for k in list(kwargs) if k in job_option_names()}


def check_job(
    operation: str, processor: str | None, options: Mapping[str, Any], own: frozenset[str], who: str
) -> None:
    """InputError for an unknown operation, a missing processor, or an option ``who`` sets."""
    if operation not in OPERATIONS:
        raise InputError(f"operation={operation!r}: use one of {', '.join(OPERATIONS)}")
    if operation != "parse" and not processor:
        raise InputError(f"operation={operation!r} needs processor= (an id such as 'ex_...')")
    taken = sorted(own & set(options))
    if taken:
        raise InputError(
            f"{who} sets {', '.join(taken)} itself: remove it (the client comes from its "
            "connection or resource)"
        )


def run_operation(
    operation: Operation, frame: Any, *, processor: str | None, **options: Any
) -> pl.DataFrame:
    """``xf.<operation>(frame, processor=..., **options)`` (parse takes no processor)."""
    extra = {} if operation == "parse" else {"processor": processor}
    return _OPERATIONS[operation](frame, **extra, **options)


def job_summary(frame: pl.DataFrame, output: str, table: object = None) -> dict[str, Any]:
    """Rows by status, credits, cache hits and where the results are (display paths only)."""
    summary = summarize(frame)
    return {
        "rows": summary.rows,
        "by_status": dict(sorted(summary.by_status.items())),
        "credits": summary.credits,
        "cached": summary.cached,
        "possible_duplicates": summary.possible_duplicates,
        "output": display_path(output),
        "table": _location(table),
        "text": str(summary),
    }


def _location(table: object) -> str | None:
    """``table=`` as a location to show: a path or URL without credentials, else its kind."""
    if table is None:
        return None
    if isinstance(table, str | os.PathLike):
        return display_path(os.fspath(table))
    return type(table).__name__
