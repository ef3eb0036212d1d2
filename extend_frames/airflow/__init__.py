"""Run an Extend job from Airflow 3 (extra ``airflow``): an operator that submits, defers to a
trigger while the batches process, and collects; a hook that reads the API key from an Airflow
connection. See docs/guides/orchestrators.md.

>>> from extend_frames.airflow import ExtendJobOperator  # doctest: +SKIP
>>> ExtendJobOperator(task_id="invoices", processor="ex_abc123", input="s3://lake/docs.parquet",
...                   output="s3://lake/jobs/{{ ds }}/", file_column="url")  # doctest: +SKIP
"""

from __future__ import annotations

try:
    import airflow.sdk  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "extend_frames.airflow needs Airflow 3: pip install 'extend-frames[airflow]'"
    ) from exc

from extend_frames.airflow._hook import ExtendHook
from extend_frames.airflow._operator import ExtendJobOperator, FailedRowsError
from extend_frames.airflow._trigger import ExtendJobTrigger

__all__ = ["ExtendHook", "ExtendJobOperator", "ExtendJobTrigger", "FailedRowsError"]
