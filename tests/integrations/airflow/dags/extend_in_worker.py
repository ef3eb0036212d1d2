"""A test DAG: the example's task with ``deferrable=False`` (it waits in the worker, through
Airflow's ResumableJobMixin where installed)."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from extend_frames.airflow import ExtendJobOperator

with DAG(dag_id="extend_in_worker", schedule=None, start_date=datetime(2026, 12, 1)) as dag:
    ExtendJobOperator(
        task_id="extract_invoices",
        processor="{{ var.value.extend_extractor }}",
        input="{{ var.value.invoices_table }}",
        output="{{ var.value.extend_jobs }}/in_worker/{{ ds }}",
        key="doc_id",
        file_column="url",
        deferrable=False,
    )
