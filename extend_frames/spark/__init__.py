"""Run a job over a PySpark DataFrame and get a typed PySpark DataFrame back (extra ``spark``).

The driver orchestrates: Extend's rate limits are per API key, so executors could not go
faster than one client, and splitting the budget would make "pay once" fragile under task
retries and speculative execution. Spark does what it is good at: reading the input, keeping
wide columns off the driver, joining and writing the lakehouse. See docs/guides/distributed.md.

>>> from extend_frames import spark as xfs  # doctest: +SKIP
>>> out = xfs.extract(sdf, processor="ex_...", key="doc_id", file_column="url",
...                   output="/Volumes/main/docs/jobs/invoices")  # doctest: +SKIP
"""

from __future__ import annotations

try:
    import pyspark  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "extend_frames.spark needs PySpark 4: pip install 'extend-frames[spark]'"
    ) from exc

from extend_frames.spark._public import classify, extract, parse, spark_schema, split

__all__ = ["classify", "extract", "parse", "spark_schema", "split"]
