"""The frames layer: dataframe in, dataframe out (see docs/ARCHITECTURE.md)."""

from extend_frames.frames import _namespace  # noqa: F401  (registers df.xf)
from extend_frames.frames._attach import aread_batch, read_batch
from extend_frames.frames._dryrun import Plan
from extend_frames.frames._inputs import document_column
from extend_frames.frames._options import JobOptions, WaitOptions

# The operations by role, as in __all__ below: the async twins, the sync ones, then finishing
# and planning (the isort splits keep the groups).
from extend_frames.frames._public import aclassify, aextract, aparse, asplit

# isort: split
from extend_frames.frames._public import classify, extract, parse, split

# isort: split
from extend_frames.frames._public import acollect, aplan, collect, plan, run_stored

# isort: split
from extend_frames.frames._read import (
    TABLE_FORMATS,
    display_path,
    glob_files,
    job_status,
    read_results,
    read_table,
)
from extend_frames.frames._report_html import report
from extend_frames.frames._result_schema import result_schema, spark_compatible
from extend_frames.frames._run import StoredRun
from extend_frames.frames._summary import JobSummary, summarize

# By role (the package's own __all__ is the sorted public surface).
__all__ = [  # noqa: RUF022 - grouped by role; the sorted surface is extend_frames.__all__
    # the operations and their async twins
    "parse",
    "extract",
    "classify",
    "split",
    "aparse",
    "aextract",
    "aclassify",
    "asplit",
    # finishing, planning, reading back
    "collect",
    "acollect",
    "plan",
    "aplan",
    "read_batch",
    "aread_batch",
    "read_results",
    "read_table",
    "report",
    "glob_files",
    "job_status",
    "display_path",
    "run_stored",
    "document_column",
    # types and schemas
    "TABLE_FORMATS",
    "JobOptions",
    "WaitOptions",
    "JobSummary",
    "Plan",
    "StoredRun",
    "result_schema",
    "spark_compatible",
    "summarize",
]
