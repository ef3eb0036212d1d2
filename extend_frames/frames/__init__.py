"""The frames layer: dataframe in, dataframe out (see docs/ARCHITECTURE.md)."""

from extend_frames.frames import _namespace  # noqa: F401  (registers df.xf)
from extend_frames.frames._attach import aread_batch, read_batch
from extend_frames.frames._ops import STATUS, JobSummary, summarize
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
    split,
)
from extend_frames.frames._result_schema import result_schema, spark_compatible

__all__ = [
    "STATUS",
    "JobSummary",
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
    "read_batch",
    "result_schema",
    "spark_compatible",
    "split",
    "summarize",
]
