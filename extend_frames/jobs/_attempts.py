"""Which finished rows ``mode="retry"`` submits again, and how attempts are told apart.

A row is retried when its run ended ``CANCELLED`` (a cancel is an action on the batch, not a
property of the document), or ``FAILED`` with a reason that can change on a second try:

- Extend's server-side faults and pipeline errors: ``INTERNAL_ERROR``, ``ABORTED``,
  ``OCR_ERROR``, ``CHUNKING_ERROR``, ``PRE_PROCESSING_FAILURE``, ``POST_PROCESSING_FAILURE``;
- a download that failed (``UNABLE_TO_DOWNLOAD_FILE``: the URL may work now);
- out of credits (``OUT_OF_CREDITS``: credits may have been added);
- the client's own: ``FILE_NOT_READABLE`` (a transient read), ``SUBMIT_FAILED``,
  ``BATCH_FAILED`` and ``RUN_NOT_FOUND``.

Never retried, because the same document and config fail the same way again:
``FILE_TYPE_NOT_SUPPORTED``, ``FILE_SIZE_TOO_LARGE``, ``CORRUPT_FILE``,
``PASSWORD_PROTECTED_FILE``, ``FAILED_TO_CONVERT_TO_PDF`` / ``_JPEG``,
``FAILED_TO_GENERATE_TARGET_FORMAT``, ``FAILED_TO_PROCESS_FILE``, ``PARSING_ERROR``,
``INVALID_CONFIG_OPTIONS``, ``INVALID_CONFIGURATION``, ``INVALID_PROCESSOR``,
``SCHEMA_GENERATION_FAILED``, ``INVALID_INPUT``, an unknown status (``UNKNOWN_STATUS:...``),
and any reason not listed above (the reason set is open: unknown means "do not pay again").

Each retry attempt of a job runs under its own metadata job id (``<job>.retry<n>``), so its
runs are collected and reconciled apart from earlier attempts' runs of the same rows.
"""

from __future__ import annotations

import polars as pl

from extend_frames.jobs._spec import (
    BATCH_FAILED,
    FILE_NOT_READABLE,
    RUN_NOT_FOUND,
    SUBMIT_FAILED,
)

RETRYABLE_REASONS = frozenset(
    {
        "INTERNAL_ERROR",
        "ABORTED",
        "OCR_ERROR",
        "CHUNKING_ERROR",
        "PRE_PROCESSING_FAILURE",
        "POST_PROCESSING_FAILURE",
        "UNABLE_TO_DOWNLOAD_FILE",
        "OUT_OF_CREDITS",
        FILE_NOT_READABLE,
        SUBMIT_FAILED,
        BATCH_FAILED,
        RUN_NOT_FOUND,
    }
)


def retryable() -> pl.Expr:
    """True for result rows that ``mode="retry"`` submits again (see the module docstring)."""
    status = pl.col("status").cast(pl.String)
    reason = pl.col("failure_reason").cast(pl.String)
    return (status == "CANCELLED") | (
        (status == "FAILED") & reason.is_in(sorted(RETRYABLE_REASONS)).fill_null(False)
    )


def attempt_job_id(job_id: str, attempt: int) -> str:
    """The metadata job id of a job's ``attempt``-th try (0 = the first run)."""
    return job_id if attempt == 0 else f"{job_id}.retry{attempt}"
