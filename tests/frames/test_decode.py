"""Bulk decoding of run JSON into typed columns, on Extend's example runs and edge cases."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from extend_frames import ExtendError, InputError
from extend_frames._columns import DECODED_COLUMNS
from extend_frames.frames._decode import decode_runs, decoded_schema
from extend_frames.frames._schema import (
    CLASSIFY_DTYPE,
    PARSE_DTYPE,
    SPLIT_DTYPE,
    output_dtype,
)

EXAMPLES = Path(__file__).parent / "examples"  # copies of shared/extend-api/examples
UTC = dt.UTC


def _load(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text())


def _raw(name: str) -> bytes:
    return (EXAMPLES / name).read_bytes()  # pretty-printed, newlines and all


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj).encode()


EXTRACT_CONFIG = _load("extractor.json")["draftVersion"]["config"]
EXTRACT_DTYPE = output_dtype("extract", EXTRACT_CONFIG)


def _extract(bodies: list[bytes]) -> pl.DataFrame:
    return decode_runs("extract", bodies, output_dtype=EXTRACT_DTYPE)


def _run(**changes: Any) -> dict[str, Any]:
    run = _load("extract_run.json")
    run["metadata"]["extend_frames"]["row"] = "k1"
    run.update(changes)
    return dict(run)


def test_extract_run_decodes_to_typed_values() -> None:
    df = _extract([_raw("extract_run.json")])
    row = df.row(0, named=True)
    assert row["run_id"] == "exr_Xj8mK2pL9nR4vT7qY5wZ"
    assert row["status"] == "PROCESSED"
    assert row["failure_reason"] is None
    assert row["metadata_job"] == "6f1c2b9e-3d4a-4f7e-9a51-0c8d2e7b4a10"
    assert row["metadata_row"] == "1"  # an integer on the wire still becomes the string key
    assert row["output"] == {
        "invoice_number": "INV-2026-0042",
        "invoice_date": dt.date(2026, 2, 14),
        "total": {"amount": 120.0, "iso_4217_currency_code": "USD"},
        "status": "unpaid",
        "line_items": [
            {"description": "Consulting (4h)", "amount": 100.0},
            {"description": "Travel", "amount": 20.0},
        ],
    }
    # Per top-level field: min over the field's entries (line_items: 0.96, 0.96, 0.99, 0.98,
    # 0.95, 0.97, 0.95 -> 0.95); status has only null confidences.
    assert row["output_confidence"] == {
        "invoice_number": 0.99,
        "invoice_date": 0.98,
        "total": 0.97,
        "status": None,
        "line_items": 0.95,
    }
    assert row["credits"] == 4.0
    assert row["file_id"] == "file_GzKUy0VDhHscv7tweODYb"
    assert row["created_at"] == dt.datetime(2026, 3, 2, 10, 15, tzinfo=UTC)
    assert row["updated_at"] == dt.datetime(2026, 3, 2, 10, 18, 5, tzinfo=UTC)
    assert df.schema["output"] == EXTRACT_DTYPE
    assert df.schema["created_at"] == pl.Datetime("us", "UTC")


def test_failed_extract_run_has_nulls_and_the_reason() -> None:
    row = _extract([_raw("extract_run_failed.json")]).row(0, named=True)
    assert row["status"] == "FAILED"
    assert row["failure_reason"] == "FAILED_TO_PROCESS_FILE"
    assert "HTTP 404" in row["failure_message"]
    assert row["output"] is None
    assert row["output_confidence"] is None
    assert row["file_id"] is None
    assert row["credits"] is None
    assert row["metadata_row"] == "0"


def test_list_summaries_decode_without_output() -> None:
    items = _load("list_extract_runs.json")["data"]
    df = _extract([_dumps(item) for item in items])
    assert df.get_column("run_id").to_list() == [item["id"] for item in items]
    assert df.get_column("status").to_list() == ["FAILED", "PROCESSED", "PENDING"]
    assert df.get_column("output").null_count() == 3
    assert df.get_column("credits").to_list() == [None, 4.0, None]
    assert df.get_column("metadata_row").to_list() == ["0", "1", "2"]


def test_schema_never_depends_on_the_data() -> None:
    full = _extract([_raw("extract_run.json")])
    empty = _extract([])
    failed = _extract([_raw("extract_run_failed.json")] * 3)
    summaries = _extract([_dumps(i) for i in _load("list_extract_runs.json")["data"]])
    assert empty.height == 0
    assert full.schema == empty.schema == failed.schema == summaries.schema
    assert list(full.columns) == list(DECODED_COLUMNS)
    assert decoded_schema("extract", output_dtype=EXTRACT_DTYPE) == full.schema


@pytest.mark.parametrize(
    ("operation", "dtype"),
    [("classify", CLASSIFY_DTYPE), ("split", SPLIT_DTYPE), ("parse", PARSE_DTYPE)],
)
def test_schema_is_fixed_for_other_operations(operation: str, dtype: pl.DataType) -> None:
    empty = decode_runs(operation, [], output_dtype=dtype)
    nulls = decode_runs(operation, [b'{"id": "r", "status": "FAILED"}'], output_dtype=dtype)
    assert empty.schema == nulls.schema
    assert empty.schema["output"] == dtype
    assert "output_confidence" not in empty.columns
    assert nulls.row(0, named=True)["output"] is None


def test_rows_stay_in_body_order() -> None:
    bodies = [_dumps(_run(id=f"exr_{i}")) for i in range(50)]
    assert _extract(bodies).get_column("run_id").to_list() == [f"exr_{i}" for i in range(50)]


def test_invalid_dates_and_unknown_enum_values_become_null() -> None:
    run = _run()
    run["output"]["value"]["invoice_date"] = "14/02/2026"
    run["output"]["value"]["status"] = "partially_paid"
    other = _run()
    other["output"]["value"]["invoice_date"] = "2026-02-30"
    row, row2 = _extract([_dumps(run), _dumps(other)]).get_column("output").to_list()
    assert row["invoice_date"] is None
    assert row["status"] is None
    assert row["invoice_number"] == "INV-2026-0042"  # the rest of the row survives
    assert row2["invoice_date"] is None
    assert row2["status"] == "unpaid"


def test_unknown_fields_are_ignored_and_missing_ones_are_null() -> None:
    run = _run()
    run["brandNewField"] = {"deep": [1, 2, {"x": None}]}
    run["output"]["value"]["unexpected"] = "ignored"
    del run["output"]["value"]["total"]
    del run["usage"]
    row = _extract([_dumps(run)]).row(0, named=True)
    assert row["output"]["total"] is None
    assert row["output"]["invoice_number"] == "INV-2026-0042"
    assert "unexpected" not in row["output"]
    assert row["credits"] is None


def test_values_of_the_wrong_type_do_not_sink_the_batch() -> None:
    bad = _run(id="exr_bad")
    bad["output"]["value"]["total"]["amount"] = "120.50"  # a string where a number is promised
    bad["output"]["value"]["line_items"][0]["amount"] = "n/a"
    good = _run(id="exr_good")
    df = _extract([_dumps(good), _dumps(bad)])
    assert df.get_column("run_id").to_list() == ["exr_good", "exr_bad"]
    good_out, bad_out = df.get_column("output").to_list()
    assert good_out["total"]["amount"] == 120.0
    assert bad_out["total"]["amount"] == 120.5  # numeric text is still a number
    assert bad_out["line_items"][0]["amount"] is None
    assert bad_out["invoice_date"] == dt.date(2026, 2, 14)
    assert df.schema == _extract([]).schema


def test_an_output_of_the_wrong_shape_becomes_null_for_that_row_only() -> None:
    bad = _run(id="exr_bad")
    bad["output"]["value"]["line_items"] = {"not": "a list"}
    df = _extract([_dumps(_run(id="exr_good")), _dumps(bad)])
    good_out, bad_out = df.get_column("output").to_list()
    assert good_out["invoice_number"] == "INV-2026-0042"
    assert bad_out is None
    assert df.row(1, named=True)["status"] == "PROCESSED"  # the run itself still decodes
    assert df.schema == _extract([]).schema


def test_corrupt_or_empty_bodies_raise() -> None:
    with pytest.raises(ExtendError, match="#1 is not a JSON object"):
        _extract([_dumps(_run()), b"<html>502 Bad Gateway</html>"])
    with pytest.raises(ExtendError, match="#0 is empty"):
        _extract([b"  "])


def test_confidence_uses_the_lowest_signal_and_deep_array_paths() -> None:
    run = _run()
    metadata = run["output"]["metadata"]
    metadata["invoice_number"] = {"ocrConfidence": 0.9, "logprobsConfidence": 0.4}
    metadata["line_items[1].amount"] = {"ocrConfidence": 0.12, "logprobsConfidence": None}
    metadata["total"] = {"logprobsConfidence": 1}  # an integer, ocr absent
    row = _extract([_dumps(run)]).row(0, named=True)
    assert row["output_confidence"]["invoice_number"] == 0.4
    assert row["output_confidence"]["line_items"] == 0.12
    assert row["output_confidence"]["total"] == 1.0


def test_confidence_sees_indices_beyond_the_first_rows() -> None:
    short = _run(id="a")
    long = _run(id="b")
    items = [{"description": f"item {i}", "amount": float(i)} for i in range(12)]
    long["output"]["value"]["line_items"] = items
    long["output"]["metadata"]["line_items[11].description"] = {"ocrConfidence": 0.01}
    df = _extract([_dumps(short), _dumps(long)])
    assert df.get_column("output_confidence").struct.field("line_items").to_list() == [
        0.95,
        0.01,
    ]
    assert len(df.row(1, named=True)["output"]["line_items"]) == 12


def test_confidence_dtype_can_be_passed_explicitly() -> None:
    dtype = pl.Struct(dict.fromkeys(EXTRACT_DTYPE.to_schema(), pl.Float64))  # type: ignore[attr-defined]
    df = decode_runs(
        "extract", [_raw("extract_run.json")], output_dtype=EXTRACT_DTYPE, confidence_dtype=dtype
    )
    assert df.schema["output_confidence"] == dtype


def test_classify_run() -> None:
    df = decode_runs(
        "classify",
        [_raw("classify_run.json")] + [_dumps(i) for i in _load("list_classify_runs.json")["data"]],
        output_dtype=CLASSIFY_DTYPE,
    )
    full, summary = df.to_dicts()
    assert full["output"] == {
        "id": "invoice",
        "type": "invoice",
        "confidence": 0.94,
        "insights": [
            {
                "type": "reasoning",
                "content": "Header reads 'INVOICE' with an invoice number, line items and a "
                "balance due.",
            }
        ],
    }
    assert full["credits"] == 1.0
    assert summary["output"] is None
    assert summary["run_id"] == full["run_id"]
    assert summary["status"] == "PROCESSED"


def test_split_run_renames_wire_keys_to_snake_case() -> None:
    df = decode_runs(
        "split",
        [_raw("split_run.json")] + [_dumps(i) for i in _load("list_split_runs.json")["data"]],
        output_dtype=SPLIT_DTYPE,
    )
    splits = df.row(0, named=True)["output"]
    assert splits[0] == {
        "id": "split_Qa1Ws2Ed3Rf4Tg5Yh6Uj7",
        "classification_id": "application",
        "type": "application",
        "start_page": 1,
        "end_page": 2,
        "identifier": "Jane Q. Applicant",
        "observation": "Pages 1-2 are Sections 1a-1b of a Form 1003 for the same applicant.",
        "file_id": "file_Sub1Aa2Bb3Cc4Dd5Ee6Ff",
        "name": "Loan application",
    }
    assert splits[1]["name"] is None  # optional on the wire
    assert splits[1]["start_page"] == 3
    assert df.row(1, named=True)["output"] is None


def test_parse_run_gives_markdown_page_count_and_chunks() -> None:
    run = _load("parse_run.json")
    df = decode_runs("parse", [_raw("parse_run.json")], output_dtype=PARSE_DTYPE)
    row = df.row(0, named=True)
    contents = [chunk["content"] for chunk in run["output"]["chunks"]]
    assert row["output"]["markdown"] == "\n\n".join(contents)
    assert row["output"]["page_count"] == 2
    assert row["output"]["chunks"] == [
        {"type": "page", "content": contents[0], "start_page": 1, "end_page": 1},
        {"type": "page", "content": contents[1], "start_page": 2, "end_page": 2},
    ]
    # A full ParseRun has no timestamps (SPEC 6.4): null, not an error.
    assert row["created_at"] is None
    assert row["updated_at"] is None
    assert row["credits"] == 2.0


def test_failed_and_listed_parse_runs() -> None:
    bodies = [_raw("parse_run_failed.json")] + [
        _dumps(i) for i in _load("list_parse_runs.json")["data"]
    ]
    df = decode_runs("parse", bodies, output_dtype=PARSE_DTYPE)
    failed, listed_ok, listed_failed = df.to_dicts()
    assert failed["failure_reason"] == "UNABLE_TO_DOWNLOAD_FILE"
    assert failed["output"] is None
    assert failed["file_id"] is None
    assert listed_ok["output"] is None  # summaries carry no output
    assert listed_ok["created_at"] == dt.datetime(2026, 3, 2, 10, 15, tzinfo=UTC)
    assert listed_failed["metadata_row"] == "8"


def test_parse_output_url_form_has_null_output() -> None:
    row = decode_runs(
        "parse", [_raw("parse_run_response_type_url.json")], output_dtype=PARSE_DTYPE
    ).row(0, named=True)
    assert row["status"] == "PROCESSED"
    assert row["output"] is None  # the engine must fetch outputUrl and inline it first


def test_timestamps_in_several_rfc3339_forms() -> None:
    stamps = ["2024-03-21T16:45:00Z", "2024-03-21T16:45:00.123Z", "2024-03-21T18:45:00+02:00"]
    bodies = [_dumps({"id": f"r{i}", "createdAt": s}) for i, s in enumerate(stamps)]
    got = decode_runs("classify", bodies, output_dtype=CLASSIFY_DTYPE)["created_at"].to_list()
    assert got == [
        dt.datetime(2024, 3, 21, 16, 45, tzinfo=UTC),
        dt.datetime(2024, 3, 21, 16, 45, 0, 123000, tzinfo=UTC),
        dt.datetime(2024, 3, 21, 16, 45, tzinfo=UTC),
    ]


def test_mismatched_output_dtype_is_refused() -> None:
    with pytest.raises(InputError, match="output_dtype for split"):
        decode_runs("split", [], output_dtype=CLASSIFY_DTYPE)
    with pytest.raises(InputError, match="unknown operation"):
        decode_runs("edit", [], output_dtype=CLASSIFY_DTYPE)


def test_huge_arrays_fall_back_to_index_free_confidence() -> None:
    run = _run()
    count = 5000  # 5000 items x 3 paths each exceeds the path budget
    run["output"]["value"]["line_items"] = [{"description": "x", "amount": 1.0}] * count
    meta = run["output"]["metadata"]
    meta["line_items"] = {"ocrConfidence": 0.5}
    meta["line_items[4999].amount"] = {"ocrConfidence": 0.1}
    row = _extract([_dumps(run)]).row(0, named=True)
    assert len(row["output"]["line_items"]) == count
    assert row["output_confidence"]["line_items"] == 0.5  # the array-level entry only


def test_confidence_of_nested_arrays() -> None:
    config = {
        "schema": {
            "type": "object",
            "properties": {
                "groups": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"tags": {"type": "array", "items": {"type": "string"}}},
                    },
                },
                "title": {"type": ["string", "null"]},
            },
        }
    }
    dtype = output_dtype("extract", config)
    value = {"groups": [{"tags": ["a"]}, {"tags": ["b", "c", "d"]}], "title": "t"}
    metadata = {
        "groups": {"ocrConfidence": 0.9},
        "groups[1].tags[2]": {"ocrConfidence": 0.2},
        "title": {"ocrConfidence": 0.8, "logprobsConfidence": 0.7},
    }
    body = _dumps({"id": "r", "output": {"value": value, "metadata": metadata}})
    row = decode_runs("extract", [body], output_dtype=dtype).row(0, named=True)
    assert row["output"] == value
    assert row["output_confidence"] == {"groups": 0.2, "title": 0.7}


def test_a_few_bad_bodies_among_many_are_isolated_in_order() -> None:
    bodies = [_dumps(_run(id=f"exr_{i}")) for i in range(64)]
    for index in (0, 17, 18, 63):
        bad = _run(id=f"exr_{index}")
        bad["output"]["value"]["line_items"] = "not a list"
        bodies[index] = _dumps(bad)
    df = _extract(bodies)
    assert df.get_column("run_id").to_list() == [f"exr_{i}" for i in range(64)]
    assert df.get_column("output").is_null().arg_true().to_list() == [0, 17, 18, 63]
    assert df.schema == _extract([]).schema


def test_lenient_path_also_serves_split_and_parse() -> None:
    split = _load("split_run.json")
    split["output"]["splits"][0]["startPage"] = "1"  # text where an integer is promised
    split["output"]["splits"][1]["endPage"] = "five"
    row = decode_runs("split", [_dumps(split)], output_dtype=SPLIT_DTYPE).row(0, named=True)
    assert row["output"][0]["start_page"] == 1
    assert row["output"][1]["end_page"] is None
    assert row["output"][1]["classification_id"] == "bank_statement"

    parse = _load("parse_run.json")
    del parse["output"]["chunks"][1]["metadata"]
    parse["metrics"]["pageCount"] = "2"
    out = decode_runs("parse", [_dumps(parse)], output_dtype=PARSE_DTYPE).row(0, named=True)
    assert out["output"]["page_count"] == 2
    assert out["output"]["chunks"][1]["start_page"] is None
    assert out["output"]["chunks"][1]["content"] == "Page 2 of 2"


def test_fast_reader_spans_several_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    from extend_frames.frames import _decode

    monkeypatch.setattr(_decode, "_BLOCK", 1024)  # bodies are ~4.6 KB: one per block or so
    bodies = [_dumps(_run(id=f"exr_{i}")) for i in range(20)]
    ndjson = b"\n".join(bodies)
    plan = _decode._Plan(
        "extract", EXTRACT_DTYPE, _decode._check_dtypes("extract", EXTRACT_DTYPE, None), ndjson
    )
    raw = _decode._read_arrow(ndjson, plan.read_schema("exact"), longest=max(map(len, bodies)))
    assert raw is not None
    assert raw.get_column("id").to_list() == [f"exr_{i}" for i in range(20)]
    assert _extract(bodies).get_column("output").null_count() == 0
