"""``extend-frames demo``: the whole library in one command, offline.

Starts the emulator in process, writes seeded sample documents, creates an extractor, a
classifier and a splitter through :class:`~extend_frames.Client`, runs parse and classify over
every document, extract over the invoices and split over the packets (Parquet under
``--dir``), then prints rows by status, a few typed results and the accuracy against the
samples' ground truth.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from extend_frames.cli._command import add_command

_DEMO_ORDER = ("parse", "classify", "extract", "split")  # the order the demo runs them
#: The smallest --count whose sample set (and every larger one) holds an invoice and a packet,
#: the inputs of extract and split (tests/cli/test_demo.py checks it against the generator).
MIN_COUNT = 7


_HELP = """run all four operations on sample documents against the local emulator

Offline tour: local emulator + seeded sample documents + parse, classify, extract and split
through the public API, Parquet results under DIR, and a summary with accuracy against the
ground truth. No account or network needed.
"""
_EXAMPLE = "extend-frames demo --dir ./demo-output --count 60 --seed 7"


def register(subparsers: Any) -> None:
    p = add_command(subparsers, "demo", _HELP, "example:\n  " + _EXAMPLE)
    p.add_argument(
        "--dir", default="demo-output", help="output folder (default ./demo-output; rewritten)"
    )
    p.add_argument(
        "--count",
        type=int,
        default=60,
        help=f"sample documents, at least {MIN_COUNT} (default 60; 4 broken files are added)",
    )
    p.add_argument("--seed", type=int, default=7, help="sample seed (default 7)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=_run)


@dataclass
class DemoResult:
    """What the demo computed: result frames per operation and accuracy numbers."""

    directory: Path
    outputs: dict[str, Path]
    frames: dict[str, Any]
    accuracy: dict[str, tuple[int, int]] = field(default_factory=dict)  # right, total
    timings: dict[str, float] = field(default_factory=dict)  # seconds per operation
    seconds: float = 0.0


def _pct(right: int, total: int) -> str:
    return f"{right}/{total} ({100 * right / total:.0f}%)" if total else "n/a"


async def _create_processors(client: Any) -> dict[str, str]:
    from extend_frames.emulator.samples import (
        CLASSIFIER_CONFIG,
        INVOICE_EXTRACTOR_CONFIG,
        SPLITTER_CONFIG,
    )

    try:
        ids = {}
        for kind, name, config in (
            ("extractor", "Demo invoices", INVOICE_EXTRACTOR_CONFIG),
            ("classifier", "Demo document types", CLASSIFIER_CONFIG),
            ("splitter", "Demo packets", SPLITTER_CONFIG),
        ):
            created = await client.create_processor(kind, name=name, config=dict(config))
            ids[kind] = str(created["id"])
        return ids
    finally:
        await client.aclose()


def run_demo(
    directory: str | Path,
    *,
    count: int = 60,
    seed: int = 7,
    progress: bool = True,
    out: TextIO | None = None,
) -> DemoResult:
    """Run the demo into ``directory`` and print its summary to ``out`` (default stdout)."""
    import polars as pl

    from extend_frames.emulator import Emulator
    from extend_frames.emulator.samples import generate_samples

    stream = out if out is not None else sys.stdout
    # The emulator reads the deliberately broken samples; pypdf would log about each one.
    logging.getLogger("pypdf").setLevel(logging.ERROR)

    def say(text: str = "") -> None:
        print(text, file=stream, flush=True)

    started = time.monotonic()
    root = Path(directory).resolve()
    root.mkdir(parents=True, exist_ok=True)
    samples = generate_samples(root / "samples", count=count, seed=seed)
    truth = pl.read_parquet(samples.ground_truth_path).with_columns(
        (pl.lit(str(samples.directory) + "/") + pl.col("path")).alias("file")
    )
    kinds = ", ".join(
        f"{n} {k}" for k, n in truth.group_by("doc_type").len().sort("doc_type").iter_rows()
    )
    say(f"Sample documents: {truth.height} in {samples.directory} ({kinds})")

    outputs = {op: root / op for op in _DEMO_ORDER}
    result = DemoResult(root, outputs, {})
    with Emulator() as emu:
        say(f"Emulator: {emu.url} (in process, Extend API 2026-02-09)")
        _run_operations(emu, truth, result, progress=progress, say=say)
    frames = result.frames

    with pl.Config(
        tbl_hide_dataframe_shape=True,
        tbl_hide_column_data_types=True,
        fmt_str_lengths=70,
        tbl_width_chars=120,
        tbl_rows=10,
    ):
        _report(say, frames, truth, result)
    result.seconds = time.monotonic() - started
    say()
    say("Parquet results (read back with xf.read_results(path), or `extend-frames status path`):")
    for op in _DEMO_ORDER:
        say(f"  {op:<9}{outputs[op]}")
    say(f"Done in {result.seconds:.1f} s.")
    return result


def _run_operations(emu: Any, truth: Any, result: DemoResult, *, progress: bool, say: Any) -> None:
    """The four operations on the emulator, each into its own output; frames into result."""
    import polars as pl

    import extend_frames as xf

    fast = xf.RateLimits(get=2000, write=2000, run=2000)  # the emulator is not rate limited
    client = xf.Client(api_key=emu.api_key, base_url=emu.url, rate_limits=fast)
    frames, outputs = result.frames, result.outputs
    try:
        ids = asyncio.run(_create_processors(client))
        say(
            f"Processors: extractor {ids['extractor']}, classifier {ids['classifier']}, "
            f"splitter {ids['splitter']}"
        )
        docs = truth.select("file", "doc_type")
        common: dict[str, Any] = {
            "client": client,
            "polling": xf.Polling.fast(),
            "progress": progress,
            "mode": "overwrite",
        }
        invoices = docs.filter(pl.col("doc_type") == "invoice")
        packets = docs.filter(pl.col("doc_type") == "packet")
        inputs = {"parse": docs, "classify": docs, "extract": invoices, "split": packets}
        processors = {"classify": ids["classifier"], "extract": ids["extractor"]}
        processors["split"] = ids["splitter"]
        for op in _DEMO_ORDER:
            begin = time.monotonic()
            if op == "parse":
                frames[op] = xf.parse(inputs[op], output=str(outputs[op]), **common)
            else:
                fn = {"classify": xf.classify, "extract": xf.extract, "split": xf.split}[op]
                frames[op] = fn(
                    inputs[op], processor=processors[op], output=str(outputs[op]), **common
                )
            result.timings[op] = time.monotonic() - begin
    finally:
        client.close()


def _report(say: Any, frames: dict[str, Any], truth: Any, result: DemoResult) -> None:
    for part in (_report_status, _report_extract, _report_classify, _report_split):
        part(say, frames, truth, result)
    say()
    say("Accuracy against the ground truth:")
    say(f"  extract  invoices with number, date, total and vendor all right: "
        f"{_pct(*result.accuracy['extract'])}")  # fmt: skip
    say(f"  classify single documents typed right: {_pct(*result.accuracy['classify'])}")
    say(f"  split    packets with every page range right: {_pct(*result.accuracy['split'])}")


def _report_status(say: Any, frames: dict[str, Any], truth: Any, result: DemoResult) -> None:
    import polars as pl

    import extend_frames as xf

    say()
    say("Rows by status:")
    for op in _DEMO_ORDER:
        summary = xf.summarize(frames[op])
        by = ", ".join(f"{n} {s}" for s, n in sorted(summary.by_status.items()))
        say(f"  {op:<9}{summary.rows:>3} rows ({by}), {summary.credits:g} credits, "
            f"{result.timings.get(op, 0.0):.1f} s")  # fmt: skip
    parse = frames["parse"]
    failed = parse.filter(pl.col("status") == "FAILED")
    if failed.height:
        say()
        say("Failures are rows, not exceptions (broken sample files, parse):")
        say(
            failed.select(
                pl.col("file").str.split("/").list.last().alias("file"),
                "failure_reason",
            )
        )


def _report_extract(say: Any, frames: dict[str, Any], truth: Any, result: DemoResult) -> None:
    import polars as pl

    truth_cols = truth.select(
        "file",
        "invoice_number",
        "invoice_date",
        "total_amount",
        "currency",
        "vendor_name",
        "expected_failure",
    )
    extract = frames["extract"].join(truth_cols, on="file", how="left")
    typed = extract.select(
        pl.col("file").str.split("/").list.last().alias("file"),
        pl.col("output").struct.field("invoice_number").alias("invoice_number"),
        pl.col("output").struct.field("invoice_date").alias("invoice_date"),
        pl.col("output").struct.field("total").struct.field("amount").alias("total"),
        pl.col("output")
        .struct.field("total")
        .struct.field("iso_4217_currency_code")
        .alias("currency"),
        pl.col("output").struct.field("vendor").struct.field("name").alias("vendor"),
    )
    say()
    say(f"Extract: typed columns (invoice_date is {typed.schema['invoice_date']}):")
    say(typed.head(5))

    ok = extract.filter(pl.col("expected_failure").is_null())
    right = ok.filter(
        (pl.col("output").struct.field("invoice_number") == pl.col("invoice_number"))
        & (pl.col("output").struct.field("invoice_date") == pl.col("invoice_date"))
        & (
            (pl.col("output").struct.field("total").struct.field("amount") - pl.col("total_amount"))
            .abs()
            .lt(0.005)
        )
        & (pl.col("output").struct.field("vendor").struct.field("name") == pl.col("vendor_name"))
    ).height
    result.accuracy["extract"] = (right, ok.height)


def _report_classify(say: Any, frames: dict[str, Any], truth: Any, result: DemoResult) -> None:
    import polars as pl

    classify = frames["classify"].join(
        truth.select("file", "expected_failure"), on="file", how="left"
    )
    say()
    say("Classify: type and confidence:")
    say(
        classify.filter(pl.col("status") == "PROCESSED")
        .select(
            pl.col("file").str.split("/").list.last().alias("file"),
            pl.col("doc_type").alias("truth"),
            pl.col("output").struct.field("type").alias("type"),
            pl.col("output").struct.field("confidence").round(2).alias("confidence"),
        )
        .head(6)
    )
    singles = classify.filter(
        pl.col("expected_failure").is_null() & ~pl.col("doc_type").is_in(["packet", "broken"])
    )
    result.accuracy["classify"] = (
        singles.filter(pl.col("output").struct.field("type") == pl.col("doc_type")).height,
        singles.height,
    )


def _report_split(say: Any, frames: dict[str, Any], truth: Any, result: DemoResult) -> None:
    import polars as pl

    split = frames["split"].join(truth.select("file", "splits"), on="file", how="left")
    ranges = pl.concat_str(
        pl.element().struct.field("type"),
        pl.lit(" p"),
        pl.element().struct.field("start_page").cast(pl.String),
        pl.lit("-"),
        pl.element().struct.field("end_page").cast(pl.String),
    )
    say()
    say("Split: documents found in each packet (type, pages):")
    say(
        split.select(
            pl.col("file").str.split("/").list.last().alias("file"),
            pl.col("output").list.eval(ranges).list.join(", ").alias("splits"),
        ).head(4)
    )
    found = split.select(
        pl.col("output").list.eval(pl.element().struct.field("start_page")).alias("got_start"),
        pl.col("output").list.eval(pl.element().struct.field("end_page")).alias("got_end"),
        pl.col("splits")
        .list.eval(pl.element().struct.field("start_page").cast(pl.Int64))
        .alias("want_start"),
        pl.col("splits")
        .list.eval(pl.element().struct.field("end_page").cast(pl.Int64))
        .alias("want_end"),
    )
    exact = sum(
        1
        for gs, ge, ws, we in found.iter_rows()
        if gs is not None and list(gs) == list(ws or []) and list(ge) == list(we or [])
    )
    result.accuracy["split"] = (exact, split.height)


def _run(args: argparse.Namespace) -> int:
    from extend_frames.cli._exit import EXIT_OK, EXIT_USAGE, missing_extra

    if args.count < MIN_COUNT:
        print(
            f"extend-frames demo: error: --count must be at least {MIN_COUNT}, got {args.count} "
            "(smaller sample sets miss an invoice or a packet, so extract or split would have "
            "nothing to run on)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        run_demo(args.dir, count=args.count, seed=args.seed, progress=not args.no_progress)
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        return missing_extra("demo", exc)
    return EXIT_OK
