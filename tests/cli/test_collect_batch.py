"""``extend-frames collect-batch``: a batch made elsewhere, collected to Parquet from the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from extend_ai import Extend

import extend_frames as xf
from extend_frames.emulator import Emulator

from .conftest import Result

Cli = Callable[..., Result]


def _parse_batch(emu: Emulator, n: int, *, fail: int = 0) -> str:
    sdk = Extend(token=emu.api_key, base_url=emu.url, httpx_client=httpx.Client(trust_env=False))
    inputs: list[Any] = [
        {"file": {"text": f"page {i}"}, "metadata": {"doc": f"d{i}"}} for i in range(n)
    ]
    inputs += [{"file": {"text": "__FAIL:OCR_ERROR"}, "metadata": {"doc": "bad"}}] * fail
    batch_id = sdk.parse_runs.create_batch(inputs=inputs).id
    assert emu.wait_idle(30)
    return batch_id


def test_collect_batch_writes_parquet_and_resumes(
    cli: Cli, emulator: Emulator, tmp_path: Path
) -> None:
    batch_id = _parse_batch(emulator, 4)
    out = tmp_path / "b"
    res = cli("collect-batch", batch_id, "--output", out, "--rate-limit", "500")
    assert res.code == 0, res.err
    assert f"batch {batch_id}: 4 runs (4 PROCESSED)" in res.out
    df = xf.read_results(out)
    assert sorted(df.get_column("metadata.doc").to_list()) == ["d0", "d1", "d2", "d3"]
    before = emulator.stats()["requests_total"]
    res = cli("collect-batch", batch_id, "--output", out, "--json")
    assert json.loads(res.out)["rows"] == 4
    assert emulator.stats()["requests_total"] == before  # stored: nothing fetched again
    assert emulator.api_key not in res.out + res.err


def test_collect_batch_exit_codes(cli: Cli, emulator: Emulator, tmp_path: Path) -> None:
    batch_id = _parse_batch(emulator, 1, fail=1)
    res = cli("collect-batch", batch_id, "--output", tmp_path / "f", "--json")
    assert (res.code, json.loads(res.out)["by_status"]) == (3, {"FAILED": 1, "PROCESSED": 1})
    res = cli("collect-batch", "ex_notabatch", "--output", tmp_path / "x")
    assert res.code == 1
    assert "not a batch id" in res.err
    res = cli("collect-batch", "bpr_doesNotExist000000000", "--output", tmp_path / "y")
    assert res.code == 1
    assert "not found" in res.err
    assert cli("collect-batch", batch_id).code == 2  # --output is required


def test_collect_batch_cache_flag_fills_the_cache_a_job_reads(
    cli: Cli, emulator: Emulator, tmp_path: Path
) -> None:
    sdk = Extend(token=emulator.api_key, base_url=emulator.url,
                 httpx_client=httpx.Client(trust_env=False))  # fmt: skip
    ex = sdk.extractors.create(name="inv", config={"schema": {"type": "object", "properties": {
        "total": {"type": ["number", "null"]}}}})  # fmt: skip
    ids = [sdk.files.upload(file=(f"{i}.txt", b"Total: 4", "text/plain")).id for i in range(3)]
    batch = sdk.extract_runs.create_batch(
        extractor={"id": ex.id}, inputs=[{"file": {"id": f}} for f in ids]
    ).id
    assert emulator.wait_idle(30)
    cache = tmp_path / "cache"
    res = cli("collect-batch", batch, "--output", tmp_path / "b", "--cache", cache,
              "--rate-limit", "500")  # fmt: skip
    assert res.code == 0, res.err
    assert xf.Cache(cache).entries() == 3
