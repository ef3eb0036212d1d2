"""The engine's single-run route against the emulator: one POST /{kind}_runs per unit, the
same metadata join, and reconciliation (never a blind resend) after an ambiguous POST."""

from __future__ import annotations

import asyncio
from typing import Any

import polars as pl
import pyarrow as pa

from extend_frames.api import Client
from extend_frames.emulator import Emulator, Faults
from extend_frames.emulator.samples import INVOICE_EXTRACTOR_CONFIG
from extend_frames.frames._decode import decode_runs
from extend_frames.frames._schema import output_dtype
from extend_frames.jobs import Chunk, Engine, JobSpec, Polling, Unit
from extend_frames.jobs._posters import SinglePoster
from extend_frames.store import JobStore

from .conftest import create_processor, make_client


def _engine(emu: Emulator, client: Client, processor: str, **kwargs: Any) -> Engine:
    dtype = output_dtype("extract", INVOICE_EXTRACTOR_CONFIG)
    spec = JobSpec(
        operation="extract",
        job_id="j-single",
        processor_id=processor,
        decode=lambda bodies: decode_runs("extract", bodies, output_dtype=dtype),
        route="single",
    )
    return Engine(
        spec, client, finish=lambda _i, df: df.to_arrow(), polling=Polling.fast(), **kwargs
    )


def _chunk(n: int) -> Chunk:
    units = tuple(Unit(f"k{i}", {"text": f"Invoice number: S-{i}"}) for i in range(n))
    return Chunk(0, units)


async def _run(engine: Engine, chunk: Chunk) -> pl.DataFrame:
    try:
        table: pa.Table = await engine.run_chunk(chunk)
    finally:
        await engine.client.aclose()
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def test_single_runs_join_back_and_carry_no_batch_id() -> None:
    with Emulator() as emu:
        ex = create_processor(emu, "extractor")
        engine = _engine(emu, make_client(emu), ex)
        df = asyncio.run(_run(engine, _chunk(5)))
        stats = emu.stats()
    assert sorted(df.get_column("metadata_row").to_list()) == [f"k{i}" for i in range(5)]
    assert (df.get_column("status") == "PROCESSED").all()
    assert df.get_column("batch_id").is_null().all()
    assert stats["batches_created"] == 0
    assert stats["requests"]["POST /extract_runs"] == {"200": 5}
    assert engine.stats.runs_submitted == 5


def test_5xx_after_commit_on_single_posts_is_reconciled_without_a_duplicate() -> None:
    with Emulator(faults=Faults(seed=3, error_after_commit_rate=0.6)) as emu:
        ex = create_processor(emu, "extractor")
        engine = _engine(emu, make_client(emu), ex)
        df = asyncio.run(_run(engine, _chunk(12)))
        stats = emu.stats()
    lost = stats["faults"]["errors_after_commit"]
    assert lost >= 1  # some POSTs were answered 500 although their run was created
    assert stats["requests"]["POST /extract_runs"] == {"200": 12 - lost, "500": lost}
    assert sum(stats["runs"]["extract"].values()) == 12  # one run per unit, none twice
    assert stats["duplicate_inputs"] == 0
    assert engine.stats.reconciliations == 1
    assert engine.stats.runs_adopted == lost
    assert (df.get_column("status") == "PROCESSED").all()
    assert df.height == 12


def test_crash_after_posts_resumes_from_the_ledger_without_resending(tmp_path: Any) -> None:
    with Emulator() as emu:
        ex = create_processor(emu, "extractor")
        store = JobStore.open(str(tmp_path / "out"))
        chunk = _chunk(4)
        with store.lock(owner="test"):
            # a first process recorded its intent, sent the POSTs, and died before recording
            # the run ids
            first = _engine(emu, make_client(emu), ex, ledger=store)
            store.record(0, "intent", keys=list(chunk.keys), at="2026-01-01T00:00:00Z")

            async def post_all() -> None:
                try:
                    files = {u.key: dict(u.file or {}) for u in chunk.units}
                    await SinglePoster(first.spec, first.client).post(chunk.keys, files)
                finally:
                    await first.client.aclose()

            asyncio.run(post_all())
            history = store.ledger()
            second = _engine(emu, make_client(emu), ex, ledger=store, history=history)
            df = asyncio.run(_run(second, chunk))
        stats = emu.stats()
    assert sum(stats["runs"]["extract"].values()) == 4  # adopted: no new POST
    assert stats["requests"]["POST /extract_runs"] == {"200": 4}
    assert second.stats.runs_adopted == 4
    assert (df.get_column("status") == "PROCESSED").all()
