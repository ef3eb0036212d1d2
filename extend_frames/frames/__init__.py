"""The frames layer: dataframe in, dataframe out (see docs/ARCHITECTURE.md)."""

from extend_frames.frames import _namespace  # noqa: F401  (registers df.xf)
from extend_frames.frames._attach import aread_batch, read_batch
from extend_frames.frames._collect import STATUS_DTYPE
from extend_frames.frames._options import JobOptions, WaitOptions
from extend_frames.frames._public import (
    aclassify,
    acollect,
    aextract,
    aparse,
    asplit,
    classify,
    collect,
    extract,
    parse,
    run_stored,
    split,
)
from extend_frames.frames._read import job_status, read_results
from extend_frames.frames._result_schema import result_schema, spark_compatible
from extend_frames.frames._run import StoredRun
from extend_frames.frames._summary import JobSummary, summarize

#: The dtype of the ``status`` column (kept under its wave-1 name).
STATUS = STATUS_DTYPE

__all__ = [
    "STATUS",
    "JobOptions",
    "JobSummary",
    "StoredRun",
    "WaitOptions",
    "aclassify",
    "acollect",
    "aextract",
    "aparse",
    "aread_batch",
    "asplit",
    "classify",
    "collect",
    "extract",
    "job_status",
    "parse",
    "read_batch",
    "read_results",
    "result_schema",
    "run_stored",
    "spark_compatible",
    "split",
    "summarize",
]
