"""``ExtendJobOperator``: one Extend job as one Airflow task.

Deferrable (the default): submit (``detach``), hand the wait to :class:`ExtendJobTrigger` (the
worker slot is freed), then collect in a worker. ``deferrable=False`` waits in the worker.
A retried or restarted task never submits a document twice: the job's ledger at ``output=``
is the truth. If ``output`` already holds the job, the task reconnects with
``xf.collect(output, max_wait=0)`` (which only submits what was never submitted) instead of
starting it. On Airflow >= 3.3 the worker-side path also goes through Airflow's
``ResumableJobMixin`` (the output path is the external id kept in the task state); on older
Airflow 3 releases the ledger alone does it. See docs/guides/orchestrators.md.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import polars as pl
from airflow.sdk import BaseOperator, Context

from extend_frames._errors import ExtendError, InputError
from extend_frames._operations import Operation
from extend_frames._orchestrators import check_job, job_summary, run_operation, take_job_options
from extend_frames.airflow._hook import ExtendHook
from extend_frames.airflow._trigger import ExtendJobTrigger, pending_ids
from extend_frames.frames import WaitOptions, collect, display_path, job_status, read_table

try:  # Airflow >= 3.3: the task state remembers the external job across retries
    from airflow.sdk import ResumableJobMixin as _Resumable

    RESUMABLE = True
except ImportError:  # pragma: no cover - Airflow 3.0 to 3.2: the ledger alone reconnects

    class _Resumable:  # type: ignore[no-redef]
        pass

    RESUMABLE = False

__all__ = ["RESUMABLE", "ExtendJobOperator", "FailedRowsError"]

#: Options the operator sets itself: the client comes from the connection, waiting is its job.
_OWN = frozenset({"client", "detach", "max_wait", "output"})
_COMPLETE, _RUNNING, _MISSING = "COMPLETE", "RUNNING", "MISSING"


class FailedRowsError(ExtendError):
    """Rows came back FAILED and the task was told to fail on them (``fail_on_failed_rows``)."""


class ExtendJobOperator(_Resumable, BaseOperator):  # type: ignore[misc]
    """Run one Extend job (``parse``, ``extract``, ``classify`` or ``split``) as a task.

    ``input``: a table path (CSV, Parquet, NDJSON, local or fsspec, as the CLI reads them) or a
    callable returning a frame (called with the task's context if it takes an argument).
    ``output``: where the job lives (required: it is what makes retries safe). Every other
    keyword that ``xf.extract`` takes (``file_column``, ``key``, ``cache``, ``batch_size``,
    ``route``, ...) passes through under the same name; the rest go to ``BaseOperator``.
    Returns (XCom) the summary: rows by status, credits, output and table locations.

    >>> ExtendJobOperator(task_id="invoices", processor="ex_abc123",
    ...                   input="s3://lake/docs/{{ ds }}.parquet", file_column="url",
    ...                   output="s3://lake/jobs/invoices/{{ ds }}/")  # doctest: +SKIP
    """

    #: ``output=`` is kept as ``job_output`` (``BaseOperator.output`` is Airflow's XComArg).
    #: The API key is no attribute at all, so no rendered template can show it.
    template_fields: Sequence[str] = ("input", "job_output", "processor")
    external_id_key = "extend_output"
    ui_color = "#e8f1ff"

    def __init__(
        self,
        *,
        input: str | Callable[..., Any],
        output: str,
        operation: Operation = "extract",
        processor: str | None = None,
        extend_conn_id: str = ExtendHook.default_conn_name,
        deferrable: bool = True,
        fail_on_failed_rows: bool = False,
        poll_interval: float = 30.0,
        **kwargs: Any,
    ) -> None:
        job_options = take_job_options(kwargs)
        super().__init__(**kwargs)
        check_job(operation, processor, job_options, _OWN, "ExtendJobOperator")
        if not output:
            raise InputError("output= is required: the job's ledger there makes retries safe")
        self.input = input
        self.job_output = output
        self.operation: Operation = operation
        self.processor = processor
        self.extend_conn_id = extend_conn_id
        self.deferrable = deferrable
        self.fail_on_failed_rows = fail_on_failed_rows
        self.poll_interval = poll_interval
        self.job_options: dict[str, Any] = {"progress": False, **job_options}

    # -- the task ------------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        if not self.deferrable:
            if RESUMABLE:
                return dict(self.execute_resumable(context))
            return self._finish(self._collect(), context)
        frame = self._submit(context)
        pending = frame.filter(pl.col("status").cast(pl.String) == "PENDING")
        batches, runs = pending_ids(
            pending.get_column("batch_id").to_list(), pending.get_column("run_id").to_list()
        )
        if not batches and not runs:  # all answered already (cache, a finished job)
            return self._finish(frame, context)
        self.log.info(
            "Extend job at %s: %d rows pending in %d batches and %d single runs; deferring",
            display_path(self.job_output), pending.height, len(batches), len(runs),
        )  # fmt: skip
        trigger = ExtendJobTrigger(
            operation=self.operation,
            batch_ids=batches,
            run_ids=runs,
            extend_conn_id=self.extend_conn_id,
            poll_interval=self.poll_interval,
        )
        self.defer(trigger=trigger, method_name="execute_complete")
        raise AssertionError("unreachable: defer() raises")  # pragma: no cover

    def execute_complete(self, context: Context, event: Mapping[str, Any]) -> dict[str, Any]:
        """After the trigger fired: collect in the worker and return the summary."""
        if event.get("status") != "done":
            raise ExtendError(
                f"waiting for the Extend job at {display_path(self.job_output)} failed: "
                f"{event.get('message')}; the task's retry reconnects to the same job"
            )
        return self._finish(self._collect(), context)

    # -- ResumableJobMixin (worker-side waiting; Airflow >= 3.3) -------------------------------

    def submit_job(self, context: Context) -> str:
        self._submit(context)
        return display_path(self.job_output)

    def get_job_status(self, external_id: Any, context: Context) -> str:
        try:
            status = job_status(self.job_output, storage_options=self._storage_options)
        except InputError:
            return _MISSING
        return _COMPLETE if status.complete else _RUNNING

    def is_job_active(self, status: str) -> bool:
        return status == _RUNNING

    def is_job_succeeded(self, status: str) -> bool:
        return status == _COMPLETE

    def poll_until_complete(self, external_id: Any, context: Context) -> None:
        self._collect()  # waits in the worker; the result is read again by get_job_result

    def get_job_result(self, external_id: Any, context: Context) -> dict[str, Any]:
        return self._finish(self._collect(), context)  # complete: reads the stored parts

    # -- steps ---------------------------------------------------------------------------------

    @property
    def _storage_options(self) -> Any:
        return self.job_options.get("storage_options")

    def _submit(self, context: Context) -> pl.DataFrame:
        """Start the job, or reconnect to it when ``output`` holds it already (nothing is
        submitted twice); returns every row, the unfinished ones PENDING with their ids."""
        if self._exists():
            self.log.info("Extend job at %s exists: reconnecting", display_path(self.job_output))
            return self._collect(max_wait=0)
        frame = self._input(context)
        with ExtendHook(self.extend_conn_id).get_conn() as client:
            return run_operation(
                self.operation,
                frame,
                processor=self.processor,
                output=self.job_output,
                detach=True,
                client=client,
                **self.job_options,
            )

    def _collect(self, **wait: Any) -> pl.DataFrame:
        names = WaitOptions.__optional_keys__
        options = {k: v for k, v in self.job_options.items() if k in names}
        with ExtendHook(self.extend_conn_id).get_conn() as client:
            return collect(self.job_output, client=client, **options, **wait)

    def _exists(self) -> bool:
        try:
            job_status(self.job_output, storage_options=self._storage_options)
        except InputError:
            return False
        return True

    def _input(self, context: Context) -> Any:
        source = self.input
        if isinstance(source, str):
            return read_table(source, storage_options=self._storage_options, format_hint="input=")
        if len(inspect.signature(source).parameters) == 0:
            return source()
        return source(context)

    def _finish(self, frame: pl.DataFrame, context: Context) -> dict[str, Any]:
        summary = job_summary(frame, self.job_output, self.job_options.get("table"))
        self.log.info("Extend job at %s: %s", summary["output"], summary["text"])
        failed = summary["by_status"].get("FAILED", 0)
        if self.fail_on_failed_rows and failed:
            context["ti"].xcom_push(key="summary", value=summary)
            raise FailedRowsError(
                f"{failed} of {summary['rows']} rows FAILED in the job at {summary['output']}; "
                "read them with xf.read_results(output) (failure_reason says why), or rerun "
                "with mode='retry' to submit the retryable ones once more",
                path=summary["output"],
            )
        return summary
