"""Extract invoice fields from every document of the ``documents`` model, on Databricks.

dbt-databricks hands a Python model a PySpark DataFrame (``dbt.ref``) and a SparkSession,
and writes the DataFrame the model returns to a Delta table. ``extend_frames.spark`` runs the
job from the driver (one rate budget), brings only ``doc_id`` and ``file_path`` there, and
returns the documents joined to typed result columns, every row once.

- The API key: a Databricks secret, exported to the cluster as EXTEND_API_KEY (or read it
  with ``dbutils.secrets.get`` and pass ``client=xf.Client(api_key=...)``).
- ``extend_output``: a Unity Catalog Volume folder. A rebuild after a cluster restart resumes
  the job there instead of paying again; keep one folder per document set (one per day for
  an incremental model), since a job refuses a different input in the same output.
- ``extend_table`` (optional): the cloud URI of a Delta table (an external location, e.g.
  ``abfss://.../extend/invoices_current``). Each batch is merged into it by ``doc_id`` as it
  is collected, exactly once (docs/guides/tables.md), so the table holds one current row per
  document across days, whatever dbt's materialization does with the returned DataFrame.
  Register it once in Unity Catalog: ``CREATE TABLE ... LOCATION '<extend_table>'``.
"""

import extend_frames as xf
from extend_frames import spark as xfs


def model(dbt, session):
    dbt.config(materialized="table", submission_method="all_purpose_cluster")
    processor = dbt.config.get("extractor_id")
    output = dbt.config.get("extend_output")
    table_uri = dbt.config.get("extend_table")
    if not processor or not output:
        raise ValueError(
            "set the extractor and the job folder: dbt build --vars "
            "'{extractor_id: ex_..., extend_output: /Volumes/main/docs/jobs/invoices}'"
        )

    documents = dbt.ref("documents")  # a PySpark DataFrame; it stays on the cluster
    out = xfs.extract(
        documents,
        processor=processor,
        key="doc_id",
        file_column="file_path",
        output=output,
        # the Delta table, written through the adapter (delta-rs on the driver), by batch
        table=xf.Delta(table_uri, mode="merge", merge_on="doc_id") if table_uri else None,
        progress=False,
        polling=xf.Polling(maximum=60),  # batches take minutes: poll gently
    )
    return out.selectExpr(
        "doc_id",
        "file_path",
        "received_at",
        "status",
        "failure_reason",
        "output.invoice_number as invoice_number",
        "output.invoice_date as invoice_date",
        "output.total.amount as total_amount",
        "output.total.iso_4217_currency_code as currency",
        "output.vendor.name as vendor_name",
        "size(output.line_items) as line_item_count",
        "credits",
        "run_id",
    )
