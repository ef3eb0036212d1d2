"""An Airflow 3 DAG: extract typed fields from each day's invoices with Extend.

The task submits the day's documents, frees its worker slot while they process (it defers to
the triggerer), then collects the typed results into ``output``. A retry or a restarted worker
reconnects to the same job through ``output`` and never pays for a document twice.

Set up once (the API key stays in the connection, never in this file):

    airflow connections add extend_default --conn-type extend --conn-password "$EXTEND_API_KEY"
    airflow variables set extend_extractor ex_...            # the extractor's id
    airflow variables set invoices_table s3://lake/invoices.parquet   # columns doc_id, url
    airflow variables set extend_jobs s3://lake/extend/jobs

Run it once without a scheduler: ``python examples/airflow/extend_invoices.py``.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, task

from extend_frames.airflow import ExtendJobOperator

with DAG(
    dag_id="extend_invoices",
    schedule="@daily",
    start_date=datetime(2026, 12, 1),
    catchup=False,
    default_args={"retries": 2},
    tags=["extend"],
) as dag:
    invoices = ExtendJobOperator(
        task_id="extract_invoices",
        operation="extract",
        processor="{{ var.value.extend_extractor }}",
        input="{{ var.value.invoices_table }}",
        output="{{ var.value.extend_jobs }}/invoices/{{ ds }}",
        key="doc_id",
        file_column="url",
        poll_interval=30,
    )

    @task
    def report(summary: dict[str, object]) -> None:
        """The task's XCom: rows by status, credits, where the results are."""
        print(f"invoices: {summary['text']}; results at {summary['output']}")

    report(invoices.output)


if __name__ == "__main__":
    dag.test()
