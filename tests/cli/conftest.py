"""Fixtures for the CLI tests: a small sample corpus, an emulator per test, and ``cli(...)``,
which runs ``extend-frames`` in process against that emulator and captures what it prints."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

import extend_frames as xf
from extend_frames.cli import main
from extend_frames.emulator import Emulator
from extend_frames.emulator.samples import (
    CLASSIFIER_CONFIG,
    INVOICE_EXTRACTOR_CONFIG,
    SPLITTER_CONFIG,
    SampleSet,
    generate_samples,
)

# Against the emulator: no plan limits and near-zero poll delays (the defaults suit the real API).
FAST = ["--rate-limit", "2000", "--poll-initial", "0.02", "--poll-max", "0.2", "--no-progress"]


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> SampleSet:
    return generate_samples(tmp_path_factory.mktemp("cli-corpus"), count=16, seed=5)


@pytest.fixture(scope="session")
def truth(corpus: SampleSet) -> pl.DataFrame:
    return pl.read_parquet(corpus.ground_truth_path).with_columns(
        (pl.lit(str(corpus.directory) + "/") + pl.col("path")).alias("file")
    )


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    with Emulator() as emu:
        monkeypatch.setenv("EXTEND_API_KEY", emu.api_key)
        monkeypatch.setenv("EXTEND_BASE_URL", emu.url)
        yield emu


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """``cli("extract", "in.csv", "--processor", ...)``: run in process; FAST added to jobs.

    argparse's exits (``--help``, usage errors) come back as the result's code.
    """

    def run(*argv: str | Path, fast: bool = True) -> Result:
        args = [str(a) for a in argv]
        if fast and args and args[0] in ("parse", "extract", "classify", "split"):
            args += FAST
        capsys.readouterr()
        try:
            code = main(args)
        except SystemExit as exc:  # argparse: --help (0) and usage errors (2)
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def create_processor(emu: Emulator, kind: str) -> str:
    """A processor on ``emu`` from the corpus configs, made through the library's Client."""
    config = {
        "extractor": INVOICE_EXTRACTOR_CONFIG,
        "classifier": CLASSIFIER_CONFIG,
        "splitter": SPLITTER_CONFIG,
    }[kind]

    async def create() -> str:
        async with xf.Client(api_key=emu.api_key, base_url=emu.url) as client:
            made = await client.create_processor(kind, name=f"cli {kind}", config=dict(config))  # type: ignore[arg-type]
            return str(made["id"])

    return asyncio.run(create())


@pytest.fixture
def extractor(emulator: Emulator) -> str:
    return create_processor(emulator, "extractor")


def invoices(truth: pl.DataFrame, *, broken: bool = False) -> pl.DataFrame:
    """Invoice rows (plus the corpus's broken files when ``broken``), columns id and file."""
    keep = pl.col("doc_type") == "invoice"
    if broken:
        keep = keep | pl.col("expected_failure").is_not_null()
    else:
        keep = keep & pl.col("expected_failure").is_null()
    rows = truth.filter(keep)
    return rows.select(pl.col("path").alias("id"), "file")
