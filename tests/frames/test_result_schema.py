"""xf.result_schema: the result columns' Arrow schema before any run equals what a job writes."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import extend_frames as xf
from extend_frames.emulator import Emulator
from extend_frames.emulator.samples import INVOICE_EXTRACTOR_CONFIG
from tests.jobs.conftest import FAST, create_processor, make_client

TEXTS = ["Invoice number: A-1\nTotal: USD 3.50", "__FAIL:CORRUPT_FILE", "Invoice number: A-2"]


def _spark(schema: pa.Schema) -> pa.Schema:
    from extend_frames.frames import spark_compatible

    return spark_compatible(schema)


def _written(output: Path) -> pa.Schema:
    schema = pq.read_schema(output / "part-00000.parquet")
    keep = [f for f in schema if f.name not in ("doc", "text", "__row")]
    return pa.schema(keep)


@pytest.mark.parametrize("operation", ["parse", "extract", "classify"])
@pytest.mark.parametrize("texts", [TEXTS, ["__FAIL:CORRUPT_FILE a", "__FAIL:CORRUPT_FILE b"]])
def test_result_schema_is_what_a_job_writes(
    operation: str, texts: list[str], tmp_path: Path
) -> None:
    frame = pl.DataFrame({"doc": [f"d{i}" for i in range(len(texts))], "text": texts})
    with Emulator() as emu:
        options = {"text_column": "text", "key": "doc", "client": make_client(emu)}
        if operation != "parse":
            kind = "extractor" if operation == "extract" else "classifier"
            options["processor"] = create_processor(emu, kind)
        out = getattr(xf, operation)(
            frame, output=str(tmp_path / "o"), polling=FAST, progress=False, **options
        )
    config = INVOICE_EXTRACTOR_CONFIG if operation == "extract" else None
    returned = out.drop("doc", "text").to_arrow().schema
    assert returned.equals(xf.result_schema(operation, config), check_metadata=True)
    # The Parquet parts (what Spark reads) hold the same types, in Spark's flavour.
    spark = xf.result_schema(operation, config, spark=True)
    assert _spark(_written(tmp_path / "o")).equals(spark)


def test_result_schema_accepts_a_processor_version_object() -> None:
    version = {"id": "exv_1", "version": "1", "config": INVOICE_EXTRACTOR_CONFIG}
    assert xf.result_schema("extract", version) == xf.result_schema(
        "extract", INVOICE_EXTRACTOR_CONFIG
    )


def _types(dtype: pa.DataType) -> list[pa.DataType]:
    found = [dtype]
    if pa.types.is_struct(dtype):
        for i in range(dtype.num_fields):
            found += _types(dtype.field(i).type)
    elif pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
        found += _types(dtype.value_type)
    return found


@pytest.mark.parametrize("operation", ["parse", "extract", "classify", "split"])
def test_spark_flavour_has_only_types_spark_reads(operation: str) -> None:
    arrow = xf.result_schema(operation, INVOICE_EXTRACTOR_CONFIG)
    spark = xf.result_schema(operation, INVOICE_EXTRACTOR_CONFIG, spark=True)
    assert spark.names == arrow.names
    every = [t for f in spark for t in _types(f.type)]
    assert not [t for t in every if pa.types.is_dictionary(t) or pa.types.is_large_string(t)]
    assert not [t for t in every if pa.types.is_large_list(t)]
    assert spark.field("status").type == pa.string()
    # Same values either way: a real result table casts losslessly to the Spark flavour.
    empty = arrow.empty_table()
    assert empty.cast(spark).schema == spark


def test_extract_without_a_config_is_a_clear_error() -> None:
    with pytest.raises(xf.InputError, match="needs the extractor's config"):
        xf.result_schema("extract")
    with pytest.raises(xf.InputError, match="unknown operation"):
        xf.result_schema("summarize")
