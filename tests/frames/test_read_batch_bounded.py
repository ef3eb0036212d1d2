"""``xf.read_batch(max_wait=)``: a bounded wait returns the runs not finished yet as PENDING,
and the same call again completes them, fetching nothing already stored."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from extend_ai import Extend

import extend_frames as xf
from extend_frames.cli import main
from extend_frames.cli._exit import EXIT_INCOMPLETE
from extend_frames.emulator import Emulator, Speed
from extend_frames.frames import _attach

POLL = xf.Polling(initial=0.05, maximum=0.2)


def _client(emu: Emulator) -> xf.Client:
    return xf.Client(emu.api_key, base_url=emu.url, rate_limits=xf.RateLimits(500, 500, 500))


def _until_processed(emu: Emulator, n: int) -> None:
    """Wait (bounded generously) for the emulator's worker to finish ``n`` parse runs."""
    give_up = time.monotonic() + 60
    while emu.stats()["runs"]["parse"].get("PROCESSED", 0) < n:
        assert time.monotonic() < give_up, emu.stats()["runs"]
        time.sleep(0.02)


def _run_gets(emu: Emulator) -> int:
    return sum(
        sum(v.values())
        for k, v in emu.stats()["requests"].items()
        if k.startswith("GET /parse_runs/")
    )


@pytest.mark.realtime(reason="max_wait= is measured on the real clock; the worker is polled")
def test_max_wait_returns_pending_runs_and_a_rerun_completes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_attach, "PART_ROWS", 2)  # 4 runs = 2 stored parts
    # One file a minute on the manual clock: after 150 s, 3 of the 4 runs are done, so
    # exactly one part has every run finished, whichever order the runs ran in.
    with Emulator(clock="manual", speed=Speed(files_per_minute=1)) as emu:
        sdk = Extend(
            token=emu.api_key, base_url=emu.url, httpx_client=httpx.Client(trust_env=False)
        )
        inputs = [{"file": {"text": f"page {i}"}, "metadata": {"doc": f"d{i}"}} for i in range(4)]
        batch_id = sdk.parse_runs.create_batch(inputs=inputs).id
        emu.advance(150)
        _until_processed(emu, 3)
        out = str(tmp_path / "b")
        first = xf.read_batch(batch_id, client=_client(emu), output=out, polling=POLL, max_wait=0.3)
        assert first.height == 4
        statuses = sorted(first.get_column("status").cast(str).to_list())
        assert statuses == ["PENDING", "PROCESSED", "PROCESSED", "PROCESSED"]
        assert not (tmp_path / "b" / "_SUCCESS").exists()  # not complete: resumable
        assert _run_gets(emu) == 3  # the finished runs' bodies

        cli_out = str(tmp_path / "cli")
        monkeypatch.setenv("EXTEND_API_KEY", emu.api_key)
        argv = ["collect-batch", batch_id, "--output", cli_out, "--base-url", emu.url]
        assert main([*argv, "--max-wait", "0.3", "--json"]) == EXIT_INCOMPLETE
        assert main([*argv, "--max-wait", "-1"]) == 2
        gets = _run_gets(emu)
        emu.advance(3600)
        _until_processed(emu, 4)
        second = xf.read_batch(batch_id, client=_client(emu), output=out, polling=POLL)
        assert (second.get_column("status") == "PROCESSED").all()
        assert sorted(second.get_column("metadata.doc").to_list()) == ["d0", "d1", "d2", "d3"]
        assert _run_gets(emu) - gets == 2  # only the part not stored is fetched again
        before = emu.stats()["requests_total"]
        assert xf.read_batch(batch_id, client=_client(emu), output=out).equals(second)
        assert emu.stats()["requests_total"] == before  # complete: no request at all
        assert main(argv) == 0


def test_max_wait_needs_output_before_any_request() -> None:
    with Emulator() as emu:
        with pytest.raises(xf.InputError, match="output="):
            xf.read_batch("bpar_abc123", client=_client(emu), max_wait=5)
        with pytest.raises(xf.InputError, match="max_wait"):
            xf.read_batch("bpar_abc123", client=_client(emu), output="memory://r/b", max_wait=-1)
        assert emu.stats()["requests_total"] == 0
