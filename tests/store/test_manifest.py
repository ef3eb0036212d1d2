"""The manifest: round trip, and telling a resume from a different job at the same path."""

from __future__ import annotations

import pyarrow as pa
import pytest

from extend_frames import StoreError
from extend_frames.store import decode_schema

from .conftest import Target

SCHEMA = pa.schema([("__row", pa.int64()), ("output", pa.struct([("total", pa.float64())]))])
MANIFEST = {
    "operation": "extract",
    "processor": "ex_abc",
    "processor_version": "3",
    "config": {"schema": {"type": "object"}, "advancedOptions": {"citations": True}},
    "input_fingerprint": "sha256:1234",
    "batch_size": 1000,
    "library_version": "0.1.0",
    "job_id": "job-1",
    "created_at": "2026-11-29T10:00:00+00:00",
    "schema": SCHEMA,
}


def test_manifest_round_trips_with_its_schema(target: Target) -> None:
    store = target.open()
    assert store.read_manifest() is None
    store.write_manifest(MANIFEST)
    back = target.open().read_manifest()
    assert back is not None
    assert {k: v for k, v in back.items() if k not in ("schema", "schema_text", "format")} == {
        k: v for k, v in MANIFEST.items() if k != "schema"
    }
    assert decode_schema(back["schema"]).equals(SCHEMA)
    assert target.open().schema() == SCHEMA


def test_same_job_passes_and_returns_the_stored_manifest(target: Target) -> None:
    target.open().write_manifest(MANIFEST)
    again = {**MANIFEST, "job_id": "ignored", "created_at": "later", "library_version": "0.2"}
    stored = target.open().check_manifest(again)
    assert stored is not None
    assert stored["job_id"] == "job-1"


def test_fresh_output_checks_as_none(target: Target) -> None:
    assert target.open().check_manifest(MANIFEST) is None


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (
            {"operation": "classify"},
            r'operation \(output has "extract", this call has "classify"\)',
        ),
        ({"processor": "ex_other"}, r"processor \("),
        ({"processor_id": "ex_other"}, r"processor_id \(output has null"),
        ({"processor_version": "4"}, r"processor_version \("),
        ({"input_fingerprint": "sha256:9999"}, r"input_fingerprint \("),
        ({"batch_size": 500}, r"batch_size \(output has 1000, this call has 500\)"),
        (
            {"config": {"schema": {"type": "object"}, "advancedOptions": {"citations": False}}},
            r"config \(keys differ: advancedOptions\)",
        ),
        ({"schema": pa.schema([("__row", pa.int64())])}, r"schema \(columns differ: output\)"),
    ],
)
def test_different_job_is_refused_naming_the_field_and_the_fix(
    target: Target, change: dict[str, object], named: str
) -> None:
    target.open().write_manifest(MANIFEST)
    with pytest.raises(StoreError, match=named) as info:
        target.open().check_manifest({**MANIFEST, **change})
    text = str(info.value)
    assert "holds the results of a different job" in text
    assert 'mode="overwrite"' in text
    assert "another output path" in text


def test_non_empty_foreign_folder_is_not_taken_for_a_fresh_output(target: Target) -> None:
    store = target.open()
    target.put("data.csv", b"a,b\n")
    with pytest.raises(StoreError, match=r"not an extend_frames output \(found data\.csv\)"):
        store.check_manifest(MANIFEST)


def test_parts_without_manifest_are_refused(target: Target) -> None:
    store = target.open()
    store.write_part(0, pa.table({"__row": pa.array([0], pa.int64())}))
    with pytest.raises(StoreError, match="parts but no manifest"):
        store.check_manifest(MANIFEST)


def test_corrupt_manifest_says_how_to_recover(target: Target) -> None:
    store = target.open()
    target.put("_manifest.json", b"{not json")
    with pytest.raises(StoreError, match=r'_manifest\.json is not valid JSON.*mode="overwrite"'):
        store.read_manifest()


def test_non_json_manifest_is_refused(target: Target) -> None:
    with pytest.raises(StoreError, match="not plain JSON"):
        target.open().write_manifest({"operation": "parse", "when": object()})


def test_schema_metadata_alone_is_not_a_different_job(target: Target) -> None:
    target.open().write_manifest(MANIFEST)
    same = SCHEMA.with_metadata({b"pandas": b"{}"})
    assert target.open().check_manifest({**MANIFEST, "schema": same}) is not None


@pytest.mark.parametrize("field", ["storage_options", "api_key", "webhook_secret"])
def test_manifest_refuses_fields_that_may_hold_credentials(target: Target, field: str) -> None:
    with pytest.raises(StoreError, match=f"manifest field '{field}' may hold credentials"):
        target.open().write_manifest({"operation": "parse", field: {"key": "k", "secret": "s"}})
    assert target.open().read_manifest() is None
