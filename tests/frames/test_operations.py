"""End to end on the emulator: the four operations over a table of files, every row back once,
in input order, typed from the processor's schema, with failures as data."""

from __future__ import annotations

import asyncio

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import extend_frames as xf
from extend_frames.emulator import Emulator, Faults
from extend_frames.emulator.samples import INVOICE_EXTRACTOR_CONFIG, SampleSet
from extend_frames.frames._collect import STATUS_DTYPE
from extend_frames.frames._schema import output_dtype
from tests.jobs.conftest import FAST, create_processor, make_client

RESULT_COLUMNS = [
    "run_id",
    "batch_id",
    "status",
    "failure_reason",
    "failure_message",
    "output",
    "credits",
    "file_id",
    "created_at",
    "updated_at",
]


def test_extract_local_files_typed_and_matching_ground_truth(
    emulator: Emulator, truth: pl.DataFrame
) -> None:
    ex = create_processor(emulator, "extractor")
    files = truth.select(pl.col("local_path").alias("file"), "doc_type", "expected_failure")
    out = xf.extract(
        files, processor=ex, client=make_client(emulator), polling=FAST, progress=False
    )

    # Every row back once, in order, input columns unchanged.
    assert out.height == files.height
    assert out.select(files.columns).equals(files)
    # Types come from the extractor's schema, not from the data.
    assert out.schema["output"] == output_dtype("extract", INVOICE_EXTRACTOR_CONFIG)
    assert out.schema["status"] == STATUS_DTYPE
    assert out.schema["created_at"] == pl.Datetime("us", "UTC")
    assert set(RESULT_COLUMNS) <= set(out.columns)

    broken = out.filter(pl.col("expected_failure").is_not_null())
    assert broken.height == 4
    assert broken.get_column("status").cast(pl.String).to_list() == ["FAILED"] * 4
    assert (
        broken.get_column("failure_reason").to_list()
        == broken.get_column("expected_failure").to_list()
    )

    invoices = out.join(
        truth.select(
            pl.col("local_path").alias("file"),
            "invoice_number",
            "invoice_date",
            "total_amount",
            "currency",
            "vendor_name",
        ),
        on="file",
    ).filter((pl.col("doc_type") == "invoice") & pl.col("expected_failure").is_null())
    assert invoices.height >= 10
    got = invoices.select(
        pl.col("output").struct.field("invoice_number").alias("number"),
        pl.col("output").struct.field("invoice_date").alias("date"),
        pl.col("output").struct.field("total").struct.field("amount").alias("amount"),
        pl.col("output").struct.field("total").struct.field("iso_4217_currency_code").alias("ccy"),
        pl.col("output").struct.field("vendor").struct.field("name").alias("vendor"),
        "invoice_number",
        "invoice_date",
        "total_amount",
        "currency",
        "vendor_name",
    )
    assert got.schema["date"] == pl.Date
    matches = got.filter(
        (pl.col("number") == pl.col("invoice_number"))
        & (pl.col("date") == pl.col("invoice_date"))
        & ((pl.col("amount") - pl.col("total_amount")).abs() < 0.005)
        & (pl.col("ccy") == pl.col("currency"))
        & (pl.col("vendor") == pl.col("vendor_name"))
    )
    assert matches.height >= 0.9 * got.height
    processed = out.filter(pl.col("status") == "PROCESSED")
    assert processed.get_column("credits").min() > 0  # type: ignore[operator]
    assert processed.get_column("run_id").str.starts_with("exr_").all()
    assert processed.get_column("batch_id").str.starts_with("bpr_").all()


def test_large_job_many_batches_duplicates_nulls_bad_urls_and_failed_batch(
    corpus: SampleSet, corpus_url: str
) -> None:
    """2,600 rows over 6 batches: duplicates, nulls, malformed and unreachable references,
    one batch failing midway and single runs failing: every row comes back exactly once."""
    docs = [d.path for d in corpus.documents if d.doc_type in ("invoice", "receipt")]
    docs = [d for d in docs if not d.startswith("broken")]
    refs: list[str | None] = []
    for i in range(2_400):  # distinct URLs: same bytes, different query string
        refs.append(f"{corpus_url}/{docs[i % len(docs)]}?copy={i}")
    refs += [refs[5]] * 100  # duplicates of one reference: submitted once
    refs += [None] * 40 + ["   ", "htp:/broken"] * 10  # null and malformed: client-side FAILED
    refs += ["https://unreachable.invalid/doc.pdf"] * 3 + [
        f"https://unreachable.invalid/{i}.pdf" for i in range(37)
    ]
    frame = pl.DataFrame({"row_id": list(range(len(refs))), "url": refs})
    assert frame.height >= 2_500

    faults = Faults(seed=4, batch_failure_rate=0.2, run_failure_rate=0.02)
    with Emulator(faults=faults) as emu:
        ex = create_processor(emu, "extractor")
        out = xf.extract(
            frame,
            processor=ex,
            file_column="url",
            batch_size=500,
            client=make_client(emu),
            polling=FAST,
            progress=False,
        )
        stats = emu.stats()

    assert out.get_column("row_id").to_list() == frame.get_column("row_id").to_list()
    assert out.get_column("url").to_list() == refs
    status = out.get_column("status").cast(pl.String)
    assert status.is_in(["PROCESSED", "FAILED"]).all()

    invalid = out.filter(pl.col("row_id").is_between(2_500, 2_559))
    assert invalid.get_column("failure_reason").unique().to_list() == ["INVALID_INPUT"]
    assert invalid.get_column("run_id").is_null().all()
    unreachable = out.filter(pl.col("url").str.contains("unreachable.invalid"))
    assert set(unreachable.get_column("failure_reason").to_list()) <= {
        "UNABLE_TO_DOWNLOAD_FILE",
        "INTERNAL_ERROR",  # a run of the injected failed batch
    }
    assert unreachable.filter(pl.col("failure_reason") == "UNABLE_TO_DOWNLOAD_FILE").height > 0

    dupes = out.filter(pl.col("url") == refs[5])
    assert dupes.height == 101
    assert dupes.get_column("run_id").n_unique() == 1  # one run joined to every duplicate row

    distinct_sent = len(set(refs[:2_400])) + len({r for r in refs if r and "unreachable" in r})
    assert stats["inputs_submitted"] == distinct_sent  # nothing submitted twice
    assert stats["duplicate_inputs"] == 0
    # 2,498 units (2,438 distinct references + 60 invalid rows, each its own unit) -> 5 chunks
    assert out.get_column("batch_id").drop_nulls().n_unique() == 5
    # The injected batch failure and single-run failures are rows, not exceptions.
    assert out.filter(pl.col("failure_reason") == "INTERNAL_ERROR").height > 0
    assert out.filter(pl.col("status") == "PROCESSED").height > 1_500


@pytest.mark.parametrize("operation", ["parse", "classify", "split"])
def test_parse_classify_split(operation: str, emulator: Emulator, truth: pl.DataFrame) -> None:
    ok = truth.filter(pl.col("expected_failure").is_null())
    files = ok.select(pl.col("local_path").alias("file"), "doc_type", "splits")
    client = make_client(emulator)
    if operation == "parse":
        out = xf.parse(files, client=client, polling=FAST, progress=False)
        md = out.get_column("output").struct.field("markdown")
        assert md.str.len_chars().min() > 20  # type: ignore[operator]
        pages = out.get_column("output").struct.field("page_count")
        assert pages.to_list() == ok.get_column("page_count").cast(pl.Int64).to_list()
        return
    kind = "classifier" if operation == "classify" else "splitter"
    fn = xf.classify if operation == "classify" else xf.split
    out = fn(
        files,
        processor=create_processor(emulator, kind),
        client=client,
        polling=FAST,
        progress=False,
    )
    assert out.height == files.height
    assert (out.get_column("status") == "PROCESSED").all()
    if operation == "classify":
        single = out.filter(pl.col("doc_type") != "packet")
        got = single.get_column("output").struct.field("type")
        right = (got == single.get_column("doc_type")).sum()
        assert right >= 0.9 * single.height
        assert out.schema["output"].to_schema()["confidence"] == pl.Float64  # type: ignore[attr-defined]
    else:
        packets = out.filter(pl.col("doc_type") == "packet")
        assert packets.height > 0
        found = packets.select(
            pl.col("output").list.eval(pl.element().struct.field("start_page")).alias("starts"),
            pl.col("splits").list.eval(pl.element().struct.field("start_page")).alias("truth"),
        )
        right = sum(a == b for a, b in found.iter_rows())
        assert right >= 0.8 * packets.height


def test_all_failed_job_has_the_same_dtypes(emulator: Emulator) -> None:
    ex = create_processor(emulator, "extractor")
    frame = pl.DataFrame({"file": ["https://unreachable.invalid/a.pdf", None]})
    out = xf.extract(
        frame, processor=ex, client=make_client(emulator), polling=FAST, progress=False
    )
    assert out.get_column("status").cast(pl.String).to_list() == ["FAILED", "FAILED"]
    assert out.schema["output"] == output_dtype("extract", INVOICE_EXTRACTOR_CONFIG)
    assert out.get_column("output").is_null().all()


def test_pandas_pyarrow_and_lazy_inputs(emulator: Emulator) -> None:
    ex = create_processor(emulator, "extractor")
    text = ["Invoice #A-1\nTotal: USD 10.00", "Invoice #B-2\nTotal: EUR 5.00"]
    client = make_client(emulator)
    outs = [
        xf.extract(
            data, processor=ex, text_column="text", client=client, polling=FAST, progress=False
        )
        for data in (
            pd.DataFrame({"text": text}),
            pa.table({"text": text}),
            pl.LazyFrame({"text": text}),
        )
    ]
    for out in outs:
        assert isinstance(out, pl.DataFrame)
        assert out.get_column("text").to_list() == text
        assert (out.get_column("status") == "PROCESSED").all()
    numbers = outs[0].get_column("output").struct.field("invoice_number").to_list()
    assert numbers == ["A-1", "B-2"]


def test_sync_api_inside_a_running_event_loop(emulator: Emulator) -> None:
    """Jupyter runs a loop in the main thread: the sync functions must still work there."""
    ex = create_processor(emulator, "extractor")
    frame = pl.DataFrame({"text": ["Invoice number: Z-9"]})

    async def notebook_cell() -> pl.DataFrame:
        return xf.extract(
            frame,
            processor=ex,
            text_column="text",
            client=make_client(emulator),
            polling=FAST,
            progress=False,
        )

    out = asyncio.run(notebook_cell())
    assert out.get_column("output").struct.field("invoice_number").to_list() == ["Z-9"]


async def test_async_twin_and_namespace(emulator: Emulator) -> None:
    ex = create_processor(emulator, "extractor")
    frame = pl.DataFrame({"text": ["Invoice number: Q-1"]})
    out = await xf.aextract(
        frame,
        processor=ex,
        text_column="text",
        client=make_client(emulator),
        polling=FAST,
        progress=False,
    )
    assert out.get_column("status").cast(pl.String).to_list() == ["PROCESSED"]
    again = frame.xf.extract(
        processor=ex, text_column="text", client=make_client(emulator), polling=FAST, progress=False
    )
    summary = again.xf.summary()
    assert summary.rows == 1
    assert summary.by_status == {"PROCESSED": 1}
    assert summary.seconds is not None


def test_bad_input_fails_before_any_request(emulator: Emulator) -> None:
    client = make_client(emulator)
    before = emulator.stats()["requests"]
    with pytest.raises(xf.InputError, match="files"):
        xf.extract(pl.DataFrame({"files": ["a"]}), processor="ex_x", client=client)
    with pytest.raises(xf.InputError, match="cl_"):
        xf.extract(pl.DataFrame({"file": ["a"]}), processor="cl_x", client=client)
    with pytest.raises(xf.InputError, match="batch_size"):
        xf.parse(pl.DataFrame({"file": ["a"]}), batch_size=1001, client=client)
    with pytest.raises(xf.InputError, match="text"):
        xf.split(pl.DataFrame({"t": ["a"]}), processor="spl_x", text_column="t", client=client)
    with pytest.raises(xf.InputError, match="not unique"):
        xf.parse(pl.DataFrame({"file": ["a", "b"], "k": [1, 1]}), key="k", client=client)
    assert emulator.stats()["requests"] == before  # nothing was sent


def test_a_named_pandas_index_comes_back_as_columns(emulator: Emulator) -> None:
    ex = create_processor(emulator, "extractor")
    index = pd.MultiIndex.from_tuples([("eu", 7), ("us", 9)], names=["region", "doc"])
    frame = pd.DataFrame(
        {"text": ["Invoice #A-1\nTotal: USD 10.00", "Invoice #B-2\nTotal: EUR 5.00"]}, index=index
    )
    client = make_client(emulator)
    out = xf.extract(
        frame, processor=ex, text_column="text", client=client, polling=FAST, progress=False
    )
    assert out.columns[:3] == ["region", "doc", "text"]
    assert out.select("region", "doc").rows() == [("eu", 7), ("us", 9)]
    assert (out.get_column("status") == "PROCESSED").all()
    back = out.to_pandas().set_index(["region", "doc"])
    assert back.index.equals(index)


def test_text_column_with_an_explicit_file_column_is_refused_before_any_request(
    emulator: Emulator,
) -> None:
    ex = create_processor(emulator, "extractor")
    frame = pl.DataFrame({"file": ["a.pdf"], "text": ["Invoice #A-1"]})
    client = make_client(emulator)
    before = emulator.stats()["requests_total"]
    with pytest.raises(xf.InputError, match="drop file_column="):
        xf.extract(frame, processor=ex, file_column="file", text_column="text", client=client)
    with pytest.raises(xf.InputError, match="drop file_column="):
        xf.parse(frame, file_column="file", text_column="text", client=client)
    assert emulator.stats()["requests_total"] == before  # nothing was sent
    out = xf.extract(
        frame, processor=ex, text_column="text", client=client, polling=FAST, progress=False
    )
    assert out.get_column("status").to_list() == ["PROCESSED"]
