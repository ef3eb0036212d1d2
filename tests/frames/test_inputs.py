"""Inputs: normalisation, reference classification, validation errors, keys, fingerprints."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extend_frames import InputError
from extend_frames.frames._inputs import (
    RESERVED_COLUMNS,
    classify_references,
    input_fingerprint,
    parse_processor,
    row_keys,
    to_polars,
    validate,
)

URLS = ["https://files.test/a.pdf", "https://files.test/b.pdf", "file_Abc123"]


def _frame(**columns: list[Any]) -> pl.DataFrame:
    return pl.DataFrame(columns or {"file": URLS})


def _validate(df: pl.DataFrame, **overrides: Any) -> None:
    args: dict[str, Any] = {
        "operation": "extract",
        "file_column": "file",
        "text_column": None,
        "key": None,
        "batch_size": 1000,
        "processor": "ex_abc",
    }
    args.update(overrides)
    validate(df, **args)


# --- to_polars --------------------------------------------------------------------------


def test_to_polars_accepts_every_supported_container() -> None:
    expected = pl.DataFrame({"file": URLS, "n": [1, 2, 3]})
    inputs = [
        expected,
        expected.lazy(),
        pd.DataFrame({"file": URLS, "n": [1, 2, 3]}),
        pa.table({"file": URLS, "n": [1, 2, 3]}),
        pa.record_batch({"file": URLS, "n": [1, 2, 3]}),
    ]
    for data in inputs:
        got = to_polars(data)
        assert isinstance(got, pl.DataFrame)
        assert got.equals(expected), type(data)


def test_to_polars_keeps_pandas_values_but_not_an_unnamed_index() -> None:
    for index in ([10, 20, 30], pd.RangeIndex(3)):
        frame = pd.DataFrame({"file": URLS}, index=index)
        assert to_polars(frame).columns == ["file"]
        assert to_polars(frame).get_column("file").to_list() == URLS


def test_to_polars_turns_a_named_pandas_index_into_a_column() -> None:
    frame = pd.DataFrame({"file": URLS}, index=pd.Index(["a", "b", "c"], name="doc"))
    got = to_polars(frame)
    assert got.columns == ["doc", "file"]
    assert got.get_column("doc").to_list() == ["a", "b", "c"]
    assert got.get_column("file").to_list() == URLS


def test_to_polars_turns_every_multiindex_level_into_a_column() -> None:
    index = pd.MultiIndex.from_tuples([("x", 1), ("x", 2), ("y", 1)], names=["batch", "page"])
    got = to_polars(pd.DataFrame({"file": URLS}, index=index))
    assert got.columns == ["batch", "page", "file"]
    assert got.get_column("batch").to_list() == ["x", "x", "y"]
    assert got.get_column("page").to_list() == [1, 2, 1]


def test_a_pandas_index_named_like_a_column_is_refused_naming_both() -> None:
    frame = pd.DataFrame({"file": URLS, "doc": [1, 2, 3]}, index=pd.Index([7, 8, 9], name="doc"))
    with pytest.raises(InputError, match=r"index 'doc' .* column 'doc'.*rename_axis"):
        to_polars(frame)


@pytest.mark.parametrize("data", [{"file": URLS}, [URLS], "file.csv", None, pl.Series(URLS)])
def test_to_polars_rejects_other_types_naming_the_accepted_ones(data: Any) -> None:
    with pytest.raises(InputError, match="polars DataFrame or LazyFrame, a pandas DataFrame"):
        to_polars(data)


# --- classify_references ----------------------------------------------------------------

HOME = os.path.expanduser("~")


@pytest.mark.parametrize(
    ("value", "kind", "ref", "error"),
    [
        ("https://files.test/a.pdf", "url", "https://files.test/a.pdf", None),
        ("  http://h.test/p?q=1 ", "url", "http://h.test/p?q=1", None),
        ("HTTPS://H.TEST", "url", "HTTPS://H.TEST", None),
        ("https://", "invalid", "https://", "malformed URL"),
        ("https://has space.test/a", "invalid", "https://has space.test/a", "malformed URL"),
        ("htp:/x", "invalid", "htp:/x", "malformed URL"),
        ("http:/x", "invalid", "http:/x", "malformed URL"),
        ("s3:bucket/key", "invalid", "s3:bucket/key", "malformed URL"),
        ("file_Abc-1_z", "file_id", "file_Abc-1_z", None),
        ("file_", "invalid", "file_", "malformed Extend file id"),
        ("file_a.pdf", "invalid", "file_a.pdf", "write ./file_"),
        ("s3://bucket/k.pdf", "fsspec", "s3://bucket/k.pdf", None),
        ("file:///tmp/a.pdf", "fsspec", "file:///tmp/a.pdf", None),
        ("memory://x/y.pdf", "fsspec", "memory://x/y.pdf", None),
        ("gs://", "invalid", "gs://", "nothing after scheme://"),
        ("/abs/a.pdf", "path", "/abs/a.pdf", None),
        ("~/docs/a.pdf", "path", f"{HOME}/docs/a.pdf", None),
        ("", "invalid", "", "empty file reference"),
        ("   ", "invalid", "", "empty file reference"),
        (None, "null", None, "missing file reference"),
    ],
)
def test_classify_references_table(
    value: str | None, kind: str, ref: str | None, error: str | None
) -> None:
    got = classify_references(pl.Series([value], dtype=pl.String)).row(0, named=True)
    assert got["kind"] == kind
    assert got["ref"] == ref
    if error is None:
        assert got["error"] is None
    else:
        assert error in got["error"]


def test_error_texts_never_echo_the_reference() -> None:
    # A presigned URL's signature is a secret: errors describe, they do not quote.
    signed = "https://bucket.s3.test/a b.pdf?X-Amz-Signature=deadbeef"
    got = classify_references(pl.Series([signed, "https://user:pw@host.test/x"]))
    assert got.get_column("kind").to_list() == ["invalid", "invalid"]
    for error in got.get_column("error").to_list():
        assert "deadbeef" not in error
        assert "pw@" not in error
        assert "no user:password@" in error


def test_relative_paths_become_absolute_against_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    got = classify_references(pl.Series(["docs/a.pdf", "./b.pdf", "report.pdf"]))
    assert got.get_column("kind").to_list() == ["path"] * 3
    assert got.get_column("ref").to_list() == [
        str(tmp_path / "docs/a.pdf"),
        str(tmp_path / "b.pdf"),
        str(tmp_path / "report.pdf"),
    ]


def test_classify_references_keeps_length_and_order_and_works_on_categoricals() -> None:
    values = pl.Series(["file_a", None, "https://x.test/1", "file_a"]).cast(pl.Categorical)
    got = classify_references(values)
    assert got.columns == ["kind", "ref", "error"]
    assert got.get_column("kind").to_list() == ["file_id", "null", "url", "file_id"]


def test_text_references_are_kept_verbatim() -> None:
    got = classify_references(pl.Series(["  Invoice #1\nTotal 3 ", "", " ", None]), text=True)
    assert got.get_column("kind").to_list() == ["text", "invalid", "invalid", "null"]
    assert got.get_column("ref").to_list()[0] == "  Invoice #1\nTotal 3 "
    assert got.get_column("error").to_list() == [
        None,
        "empty text",
        "empty text",
        "missing text (null)",
    ]


# --- parse_processor ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "processor", "expected"),
    [
        ("extract", "ex_abc", ("ex_abc", None)),
        ("extract", "ex_BMdfq_yWM3sT-ZzvCnA3f@2.1", ("ex_BMdfq_yWM3sT-ZzvCnA3f", "2.1")),
        ("extract", ("ex_abc", "latest"), ("ex_abc", "latest")),
        ("extract", ("ex_abc", None), ("ex_abc", None)),
        ("classify", "cl_x@draft", ("cl_x", "draft")),
        ("split", "spl_x", ("spl_x", None)),
        ("split", "sp_x@1.0", ("sp_x", "1.0")),
        ("parse", None, (None, None)),
    ],
)
def test_parse_processor_accepts(operation: str, processor: Any, expected: Any) -> None:
    assert parse_processor(operation, processor) == expected


@pytest.mark.parametrize(
    ("operation", "processor", "fragment"),
    [
        ("extract", "cl_abc", "it is a classifier id; use xf.classify"),
        ("classify", "ex_abc", "it is an extractor id; use xf.extract"),
        ("split", "ex_abc", "split needs a processor id like spl_... or sp_..."),
        ("extract", "exv_abc", "it is an extractor version id"),
        ("extract", "abc", "extract needs a processor id like ex_..."),
        ("extract", None, "extract needs processor="),
        ("extract", "ex_", "malformed"),
        ("extract", "ex_a b", "malformed"),
        ("extract", "ex_abc@", "version '' is not valid"),
        ("extract", "ex_abc@1 0", "version '1 0' is not valid"),
        ("extract", ("ex_abc",), "must be (id, version)"),
        ("extract", ("ex_abc", 2), "version must be a string"),
        ("extract", 42, "must be an id string"),
        ("parse", "ex_abc", "parse takes no processor"),
        ("summarize", None, "unknown operation"),
    ],
)
def test_parse_processor_rejects_with_the_fix(
    operation: str, processor: Any, fragment: str
) -> None:
    with pytest.raises(InputError) as info:
        parse_processor(operation, processor)
    assert fragment in str(info.value)


# --- validate -------------------------------------------------------------------------------


def test_a_valid_frame_passes() -> None:
    _validate(_frame())
    _validate(_frame(body=["a", "b"]), file_column=None, text_column="body")
    _validate(_frame(), operation="parse", processor=None)
    _validate(_frame(file=URLS, id=[1, 2, 3]), key="id")


def test_missing_column_lists_columns_and_suggests_the_closest() -> None:
    with pytest.raises(InputError) as info:
        _validate(_frame(files=URLS, other=[1, 2, 3]))
    message = str(info.value)
    assert "file_column 'file' is not a column" in message
    assert "'files', 'other'" in message
    assert "did you mean 'files'?" in message


def test_missing_column_without_a_close_name_says_what_to_pass() -> None:
    with pytest.raises(InputError, match="pass file_column=<one of those>"):
        _validate(_frame(zzz=URLS))


def test_file_column_must_hold_strings() -> None:
    with pytest.raises(InputError) as info:
        _validate(_frame(file=[1, 2, 3]))
    assert "must hold strings, but its dtype is Int64" in str(info.value)
    assert "cast(pl.String)" in str(info.value)


def test_empty_frame_is_refused() -> None:
    with pytest.raises(InputError, match="no rows"):
        _validate(pl.DataFrame({"file": []}, schema={"file": pl.String}))


@pytest.mark.parametrize("batch_size", [0, -1, 1001, 2.5, "10", True])
def test_batch_size_outside_1_to_1000(batch_size: Any) -> None:
    with pytest.raises(InputError, match="batch_size must be"):
        _validate(_frame(), batch_size=batch_size)


def test_batch_size_bounds_are_inclusive() -> None:
    _validate(_frame(), batch_size=1)
    _validate(_frame(), batch_size=1000)


def test_wrong_processor_kind_is_refused_before_anything_else() -> None:
    with pytest.raises(InputError, match=r"use xf\.split"):
        _validate(_frame(), processor="spl_abc")


def test_text_input_for_split_is_refused() -> None:
    with pytest.raises(InputError, match="split does not accept text input"):
        _validate(
            _frame(body=["a"]),
            operation="split",
            processor="spl_x",
            file_column=None,
            text_column="body",
        )


def test_file_and_text_columns_are_exclusive_and_the_message_says_which_to_drop() -> None:
    with pytest.raises(InputError) as info:
        _validate(_frame(file=URLS, body=URLS), text_column="body")
    message = str(info.value)
    assert "file_column='file' and text_column='body' were both given" in message
    assert "drop file_column=" in message
    assert "drop text_column=" in message


def test_neither_column_given_means_the_file_column() -> None:
    _validate(_frame(), file_column=None)
    with pytest.raises(InputError, match="file_column 'file' is not a column"):
        _validate(_frame(body=URLS), file_column=None)


def test_a_frame_without_columns_gets_a_message_naming_both_keywords() -> None:
    for frame in (pl.DataFrame(), to_polars(pd.DataFrame())):
        with pytest.raises(InputError) as info:
            _validate(frame, file_column=None)
        assert str(info.value) == (
            "the frame has no columns; it needs a file column (file_column=...) or "
            "text column (text_column=...)"
        )


def test_missing_text_column_is_named_as_such() -> None:
    with pytest.raises(InputError, match="text_column 'body' is not a column"):
        _validate(_frame(), file_column=None, text_column="body")


@pytest.mark.parametrize("reserved", RESERVED_COLUMNS)
def test_reserved_result_column_names_must_be_renamed(reserved: str) -> None:
    with pytest.raises(InputError) as info:
        _validate(_frame(file=URLS, **{reserved: [1, 2, 3]}))
    message = str(info.value)
    assert repr(reserved) in message
    assert f"df.rename({{'{reserved}': 'input_{reserved}'}})" in message


def test_duplicate_keys_name_the_values_and_rows() -> None:
    df = _frame(file=URLS * 3, invoice=["a", "b", "c", "a", "x", "c", "y", "z", "a"])
    with pytest.raises(InputError) as info:
        _validate(df, key="invoice")
    message = str(info.value)
    assert "key 'invoice' is not unique" in message
    assert "rows 0 ('a'), 2 ('c'), 3 ('a'), 5 ('c'), 8 ('a')" in message
    assert "add a column to it" in message


def test_duplicate_multi_column_keys_show_tuples_and_truncate() -> None:
    df = _frame(file=["u"] * 9, a=[1] * 9, b=["x"] * 9)
    with pytest.raises(InputError) as info:
        _validate(df, key=["a", "b"])
    message = str(info.value)
    assert "rows 0 ((1, 'x')), 1 ((1, 'x'))" in message
    assert "and 4 more" in message


def test_long_values_are_truncated_in_messages() -> None:
    long = "k" * 500
    with pytest.raises(InputError) as info:
        _validate(_frame(file=["u", "v"], id=[long, long]), key="id")
    assert len(str(info.value)) < 400
    assert "…" in str(info.value)


def test_null_keys_and_missing_key_columns() -> None:
    with pytest.raises(InputError, match=r"key 'id' is null in row 1 \(None\)"):
        _validate(_frame(file=["u", "v"], id=["a", None]), key="id")
    with pytest.raises(InputError, match=r"key column 'idd' is not a column.*did you mean 'id'"):
        _validate(_frame(file=["u"], id=["a"]), key="idd")
    with pytest.raises(InputError, match="a key must be made of scalar columns"):
        _validate(_frame(file=["u"], id=[[1]]), key="id")
    with pytest.raises(InputError, match="key must be a column name"):
        _validate(_frame(), key=[])


# --- row_keys ---------------------------------------------------------------------------


def test_explicit_key_is_the_value_as_a_string() -> None:
    df = _frame(file=URLS, id=[10, 20, 30])
    assert row_keys(df, "id").to_list() == ["10", "20", "30"]
    assert row_keys(df, "id").dtype == pl.String


def test_multi_column_keys_are_unambiguous() -> None:
    # Naive joining would make ("a|b", "c") and ("a", "b|c") collide.
    df = _frame(file=["u", "v"], a=["a|b", "a"], b=["c", "b|c"])
    keys = row_keys(df, ["a", "b"])
    assert keys.n_unique() == 2
    assert keys.to_list()[0] == "3:a|b|1:c"


def test_derived_keys_are_stable_and_count_occurrences() -> None:
    df = _frame(file=["https://x.test/a", "https://x.test/b", "https://x.test/a", None, None])
    keys = row_keys(df, None, reference_column="file")
    assert keys.to_list() == row_keys(df.clone(), None, reference_column="file").to_list()
    assert keys.n_unique() == 5
    digest = [k.rsplit("-", 1) for k in keys.to_list()]
    assert digest[0][0] == digest[2][0]  # same reference, same hash ...
    assert [d[1] for d in digest] == ["0", "0", "1", "0", "1"]  # ... different occurrence
    assert len(digest[0][0]) == 24


def test_derived_keys_follow_rows_when_reordered() -> None:
    refs = [f"https://x.test/{i % 7}" for i in range(40)] + ["file_q", None]
    df = pl.DataFrame({"file": refs, "i": list(range(len(refs)))})
    keyed = df.with_columns(row_keys(df, None, reference_column="file").alias("k"))
    shuffled = df.sample(fraction=1.0, shuffle=True, seed=7)
    reordered = shuffled.with_columns(row_keys(shuffled, None, reference_column="file").alias("k"))

    # Identical references are interchangeable, so compare the multiset of keys per reference.
    def per_ref(frame: pl.DataFrame) -> dict[Any, list[str]]:
        grouped = frame.group_by("file").agg(pl.col("k").sort())
        return dict(grouped.iter_rows())

    assert per_ref(keyed) == per_ref(reordered)
    unique_rows = df.filter(pl.col("file").is_in(["file_q"]))
    assert unique_rows.height == 1
    assert (
        keyed.filter(pl.col("file") == "file_q")["k"].item()
        == reordered.filter(pl.col("file") == "file_q")["k"].item()
    )


def test_derived_keys_are_fixed_across_versions() -> None:
    # The key format is pinned: a resume after an upgrade must find the same keys.
    keys = row_keys(_frame(file=["https://x.test/a.pdf"]), None, reference_column="file")
    digest = hashlib.sha256(b"r:https://x.test/a.pdf").hexdigest()[:24]
    assert keys.to_list() == [f"{digest}-0"] == ["fbbe97ca9539cffccb776989-0"]


def test_derived_keys_without_a_reference_column_use_the_whole_row() -> None:
    df = _frame(file=["u", "u", "v"], n=[1, 2, 1])
    keys = row_keys(df, None)
    assert keys.n_unique() == 3
    assert keys.to_list() == row_keys(df, None).to_list()


def test_row_keys_with_null_explicit_keys_raise() -> None:
    with pytest.raises(InputError, match="null values"):
        row_keys(_frame(file=["u"], id=[None]), "id")


# --- input_fingerprint ------------------------------------------------------------------


def test_fingerprint_is_stable_and_order_independent() -> None:
    df = pl.DataFrame({"file": ["a", "b", "c", None]})
    keys = row_keys(df, None, reference_column="file")
    first = input_fingerprint(df, "file", keys)
    assert len(first) == 64
    assert input_fingerprint(df, "file", keys) == first
    order = [3, 1, 0, 2]
    assert input_fingerprint(df[order], "file", keys.gather(order)) == first


def test_fingerprint_changes_with_any_reference_or_key() -> None:
    df = pl.DataFrame({"file": ["a", "b"], "id": ["1", "2"]})
    base = input_fingerprint(df, "file", row_keys(df, "id"))
    changed_ref = df.with_columns(pl.Series("file", ["a", "B"]))
    assert input_fingerprint(changed_ref, "file", row_keys(changed_ref, "id")) != base
    changed_key = df.with_columns(pl.Series("id", ["1", "3"]))
    assert input_fingerprint(changed_key, "file", row_keys(changed_key, "id")) != base
    # Null vs the string "N..." must not collide.
    nulls = pl.DataFrame({"file": [None], "id": ["1"]})
    text = pl.DataFrame({"file": ["N"], "id": ["1"]})
    assert input_fingerprint(nulls, "file", row_keys(nulls, "id")) != input_fingerprint(
        text, "file", row_keys(text, "id")
    )


def test_fingerprint_needs_one_key_per_row() -> None:
    df = pl.DataFrame({"file": ["a", "b"]})
    with pytest.raises(InputError, match="1 keys for 2 rows"):
        input_fingerprint(df, "file", pl.Series(["k"]))


def test_pandas_input_without_pandas_installed_gives_the_install_hint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class FakeFrame:  # looks like a pandas object, but pandas cannot be imported
        pass

    FakeFrame.__module__ = "pandas.core.frame"
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(InputError, match=r"pip install 'extend-frames\[pandas\]'"):
        to_polars(FakeFrame())


# --- properties -------------------------------------------------------------------------

_refs = st.lists(
    st.one_of(
        st.none(),
        st.text(max_size=12),
        st.sampled_from(["https://x.test/a", "file_abc", "s3://b/k", "/p/a.pdf", "htp:/x"]),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=100, deadline=None)
@given(_refs)
def test_every_value_gets_exactly_one_classification(values: list[str | None]) -> None:
    got = classify_references(pl.Series(values, dtype=pl.String))
    assert got.height == len(values)
    kinds = got.get_column("kind").to_list()
    assert set(kinds) <= {"url", "file_id", "fsspec", "path", "null", "invalid"}
    errors = got.get_column("error").to_list()
    for value, kind, error in zip(values, kinds, errors, strict=True):
        assert (error is not None) == (kind in ("null", "invalid"))
        assert (kind == "null") == (value is None)


@settings(max_examples=100, deadline=None)
@given(_refs, st.randoms(use_true_random=False))
def test_derived_keys_are_unique_and_permutation_invariant(
    values: list[str | None], rng: Any
) -> None:
    df = pl.DataFrame({"file": values}, schema={"file": pl.String})
    keys = row_keys(df, None, reference_column="file").to_list()
    assert len(set(keys)) == len(keys)
    order = list(range(len(values)))
    rng.shuffle(order)
    shuffled = df[order]
    again = row_keys(shuffled, None, reference_column="file").to_list()

    def per_reference(refs: list[str | None], ks: list[str]) -> dict[Any, list[str]]:
        out: dict[Any, list[str]] = {}
        for ref, key in zip(refs, ks, strict=True):
            out.setdefault(ref, []).append(key)
        return {ref: sorted(group) for ref, group in out.items()}

    assert per_reference(values, keys) == per_reference([values[i] for i in order], again)
