"""Dagster definitions: each day's invoices extracted with Extend, one job per daily partition.

The results of a day live under its own output folder (a rerun of that day resumes instead of
paying again), and the shared cache answers documents an earlier day already processed, so a
day pays only for its new documents. The asset check ``failed_rows`` fails when more than 5%
of a day's rows come back FAILED.

    export EXTEND_API_KEY=sk_...  EXTEND_EXTRACTOR=ex_...  INVOICES_LAKE=s3://lake
    dagster dev -f examples/dagster/definitions.py

The day's input is ``$INVOICES_LAKE/invoices/<day>.parquet`` with columns doc_id and url.
"""

from __future__ import annotations

import os

from dagster import DailyPartitionsDefinition, Definitions, EnvVar

from extend_frames.dagster import ExtendResource, extend_asset

LAKE = os.environ.get("INVOICES_LAKE", "s3://lake")

invoices = extend_asset(
    name="extend_invoices",
    processor=os.environ.get("EXTEND_EXTRACTOR", "ex_your_extractor"),
    input=f"{LAKE}/invoices/{{partition_key}}.parquet",
    output=f"{LAKE}/extend/jobs/invoices/{{partition_key}}",
    cache=f"{LAKE}/extend/cache",
    key="doc_id",
    file_column="url",
    partitions_def=DailyPartitionsDefinition(start_date="2026-12-01"),
    max_failed_share=0.05,
)

extend = ExtendResource(
    api_key=EnvVar("EXTEND_API_KEY"),  # Dagster shows the variable's name, never its value
    base_url=os.environ.get("EXTEND_BASE_URL"),  # unset: https://api.extend.ai
    rate_limits="payg",
)

defs = Definitions(assets=[invoices], resources={"extend": extend})
