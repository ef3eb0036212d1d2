"""The spending cap (``--max-credits``, the ``max_credits=`` option) on the emulator's own
credit accounting, where a run's credits follow its page count (2 per page for extract).

The gate itself is the engine's (a submit step is not taken when the estimate from credits
observed in this job would pass the cap); the CLI reads its summary (``capped``, ``spent``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

import extend_frames as xf
from extend_frames.emulator import Emulator

from .conftest import Result

PER_PAGE = 2.0  # the emulator's extract credits per page (emulator/_documents/__init__.py)
BATCH = 4
ROWS = 24
CAP = 40.0


def _texts() -> pl.DataFrame:
    """24 documents of 1 to 3 pages (a form feed starts a page): 2 to 6 credits each."""
    pages = [1 + (i * 7) % 3 for i in range(ROWS)]
    text = [
        "\f".join(f"Invoice number: C-{i} page {p}" for p in range(n)) for i, n in enumerate(pages)
    ]
    return pl.DataFrame({"doc": [f"d{i:02d}" for i in range(ROWS)], "text": text, "pages": pages})


def _spent(emu: Emulator) -> float:
    """Credits of every run the emulator created (collected or not): its own accounting."""

    async def total() -> float:
        spent = 0.0
        async with xf.Client(api_key=emu.api_key, base_url=emu.url) as client:
            async for run in client.iter_runs("extract"):
                spent += float((run.get("usage") or {}).get("credits") or 0)
        return spent

    return asyncio.run(total())


def _job(cli: Callable[..., Result], tmp_path: Path, extractor: str, cap: float) -> Result:
    source = tmp_path / "in.csv"
    if not source.exists():
        _texts().write_csv(source)
    return cli(
        "extract",
        source,
        "--text-column",
        "text",
        "--key",
        "doc",
        "--processor",
        extractor,
        "--output",
        tmp_path / "out",
        "--route",
        "batch",
        "--batch-size",
        str(BATCH),
        "--max-credits",
        f"{cap:g}",
        "--json",
    )


def test_the_emulator_charges_by_page(
    cli: Callable[..., Result], emulator: Emulator, extractor: str, tmp_path: Path
) -> None:
    """The premise of the cap tests: credits vary with the page count."""
    out = xf.extract(
        _texts(),
        processor=extractor,
        text_column="text",
        key="doc",
        client=xf.Client(api_key=emulator.api_key, base_url=emulator.url),
        progress=False,
        polling=xf.Polling.fast(),
    )
    assert out.get_column("credits").to_list() == [PER_PAGE * n for n in out["pages"]]
    assert _spent(emulator) == PER_PAGE * sum(_texts()["pages"])


def test_the_cap_holds_rows_back_exits_4_and_a_higher_cap_continues(
    cli: Callable[..., Result], emulator: Emulator, extractor: str, tmp_path: Path
) -> None:
    first = _job(cli, tmp_path, extractor, CAP)
    assert first.code == 4, first.err
    summary = json.loads(first.out)
    pending = summary["by_status"].get("PENDING", 0)
    assert 0 < pending < ROWS
    assert summary["capped_rows"] == pending
    spent = _spent(emulator)
    # never beyond the cap by more than the batches in flight when the estimate reached it
    # (Concurrency(batches=4) by default; a batch costs at most BATCH x 3 pages x 2 credits)
    assert spent <= CAP + 4 * BATCH * 3 * PER_PAGE
    assert summary["credits"] == pytest.approx(spent)  # what the job says it spent
    rows = xf.read_results(tmp_path / "out")
    held = rows.filter(pl.col("status") == "PENDING")
    assert held.height == pending
    assert held.get_column("batch_id").null_count() == pending  # never submitted
    submitted_before = emulator.stats()["inputs_submitted"]
    assert submitted_before == ROWS - pending

    again = _job(cli, tmp_path, extractor, 10_000.0)
    assert again.code == 0, again.err
    assert emulator.stats()["inputs_submitted"] == ROWS  # only the rest was submitted
    assert xf.read_results(tmp_path / "out").get_column("status").cast(
        pl.String
    ).unique().to_list() == ["PROCESSED"]


def test_the_message_says_the_cap_stopped_the_job_and_what_was_spent(
    cli: Callable[..., Result], emulator: Emulator, extractor: str, tmp_path: Path
) -> None:
    source = tmp_path / "in.csv"
    _texts().write_csv(source)
    done = cli(
        "extract",
        source,
        "--text-column",
        "text",
        "--processor",
        extractor,
        "--output",
        tmp_path / "out",
        "--route",
        "batch",
        "--batch-size",
        str(BATCH),
        "--max-credits",
        "10",
    )
    assert done.code == 4
    assert "the spending cap (--max-credits 10) stopped the job" in done.out
    assert "credits spent" in done.out
    assert "--max-credits" in done.out


def test_a_zero_cap_submits_nothing_and_every_row_is_pending(
    cli: Callable[..., Result], emulator: Emulator, extractor: str, tmp_path: Path
) -> None:
    done = _job(cli, tmp_path, extractor, 0.0)
    assert done.code == 4
    assert json.loads(done.out)["by_status"] == {"PENDING": ROWS}
    assert emulator.stats()["inputs_submitted"] == 0


def test_a_negative_cap_is_a_usage_error(
    cli: Callable[..., Result], emulator: Emulator, extractor: str, tmp_path: Path
) -> None:
    before = emulator.stats()["requests_total"]  # the extractor's creation
    done = _job(cli, tmp_path, extractor, -1.0)
    assert done.code == 2, done.err
    assert "--max-credits must be >= 0" in done.err
    assert emulator.stats()["requests_total"] == before
