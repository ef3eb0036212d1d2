"""Extract invoice fields from every document listed by the ``documents`` model.

dbt-duckdb runs this in process: ``dbt.ref`` gives a DuckDB relation, the returned Arrow
table becomes the ``invoices_extracted`` table. The API key comes from EXTEND_API_KEY and
the API URL from EXTEND_BASE_URL (unset: the real API); the extractor from the
``extractor_id`` var. Failed documents are rows too (status FAILED + failure_reason).
"""

import polars as pl

import extend_frames as xf


def model(dbt, session):
    dbt.config(materialized="table")
    processor = dbt.config.get("extractor_id")
    if not processor:
        raise ValueError("set the extractor: dbt build --vars '{extractor_id: ex_...}'")
    output = dbt.config.get("extend_output") or None
    cache = dbt.config.get("extend_cache") or None

    documents = dbt.ref("documents").pl()  # a DuckDB relation -> polars
    out = xf.extract(
        documents,
        processor=processor,
        file_column="path",
        key="path",
        output=output,  # with a folder: a rebuild resumes instead of resending
        cache=cache,  # with a folder: documents seen by any earlier build are not paid again
        progress=False,
    )
    field = pl.col("output").struct.field
    return out.select(
        "path",
        "name",
        pl.col("status").cast(pl.String),
        "failure_reason",
        field("invoice_number").alias("invoice_number"),
        field("invoice_date").alias("invoice_date"),
        field("due_date").alias("due_date"),
        field("vendor").struct.field("name").alias("vendor_name"),
        field("total").struct.field("amount").alias("total_amount"),
        field("total").struct.field("iso_4217_currency_code").alias("currency"),
        field("line_items").list.len().alias("line_item_count"),
        "credits",
        "cached",
        "run_id",
    ).to_arrow()
