"""xf.read_batch(cache=): a batch made elsewhere fills the result cache a later job reads."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import polars as pl
import pytest
from extend_ai import Extend

import extend_frames as xf
from extend_frames.emulator import Emulator

SCHEMA = {
    "type": "object",
    "properties": {
        "invoice_number": {"type": ["string", "null"]},
        "total": {"type": ["number", "null"]},
    },
}


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


def _sdk(emu: Emulator) -> Extend:
    return Extend(token=emu.api_key, base_url=emu.url, httpx_client=httpx.Client(trust_env=False))


def _client(emu: Emulator) -> xf.Client:
    return xf.Client(emu.api_key, base_url=emu.url, rate_limits=xf.RateLimits(500, 500, 500))


def _upload(sdk: Extend, n: int) -> list[str]:
    return [
        sdk.files.upload(
            file=(f"{i}.txt", f"Invoice number: INV-{i}\nTotal: {i}.50\n".encode(), "text/plain")
        ).id
        for i in range(n)
    ]


def test_batch_runs_fill_the_cache_a_later_job_reads_for_free(emu: Emulator) -> None:
    sdk = _sdk(emu)
    ex = sdk.extractors.create(name="inv", config={"schema": SCHEMA})
    sdk.extractor_versions.create(ex.id, release_type="major")  # 1.0
    ids = _upload(sdk, 6)
    batch = sdk.extract_runs.create_batch(
        extractor={"id": ex.id, "version": "1.0"},
        inputs=[{"file": {"id": f}, "metadata": {"doc": i}} for i, f in enumerate(ids)],
    ).id
    assert emu.wait_idle(30)
    cache = xf.Cache("memory://read-batch-cache/c")
    read = xf.read_batch(batch, client=_client(emu), cache=cache)
    assert read.get_column("status").cast(pl.String).to_list() == ["PROCESSED"] * 6
    assert cache.entries() == 6

    before = emu.stats()["inputs_submitted"]
    df = xf.extract(
        pl.DataFrame({"file": ids}),
        processor=f"{ex.id}@1.0",
        cache=cache,
        client=_client(emu),
    )
    assert emu.stats()["inputs_submitted"] == before  # every document came from the cache
    assert df.get_column("cached").to_list() == [True] * 6
    by_file = {r["file_id"]: r for r in read.iter_rows(named=True)}
    for row in df.iter_rows(named=True):
        assert row["output"] == by_file[row["file"]]["output"]
        assert row["run_id"] == by_file[row["file"]]["run_id"]

    # the same documents by another version's key are not answered by these entries
    sdk.extractor_versions.create(ex.id, release_type="major")  # 2.0
    xf.extract(pl.DataFrame({"file": ids[:2]}), processor=f"{ex.id}@2.0",
               cache=cache, client=_client(emu))  # fmt: skip
    assert emu.stats()["inputs_submitted"] == before + 2


def test_runs_of_a_batch_with_an_override_config_are_not_cached(
    emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    sdk = _sdk(emu)
    ex = sdk.extractors.create(name="inv", config={"schema": SCHEMA})
    ids = _upload(sdk, 2)
    override = sdk.extract_runs.create_batch(
        extractor={"id": ex.id, "overrideConfig": {"advancedOptions": {"citationsEnabled": False}}},
        inputs=[{"file": {"id": f}} for f in ids],
    ).id
    assert emu.wait_idle(30)
    cache = xf.Cache("memory://read-batch-cache/skip")
    with caplog.at_level("INFO", logger="extend_frames"):
        xf.read_batch(override, client=_client(emu), cache=cache)
    assert cache.entries() == 0
    assert "0 runs added to cache" in caplog.text
    assert "2 PROCESSED runs not added" in caplog.text
    before = emu.stats()["inputs_submitted"]
    df = xf.extract(pl.DataFrame({"file": ids}), processor=ex.id, cache=cache, client=_client(emu))
    assert emu.stats()["inputs_submitted"] == before + 2
    assert df.get_column("cached").to_list() == [False, False]


def test_cache_of_the_wrong_type_is_an_input_error_before_any_request(emu: Emulator) -> None:
    before = emu.stats()["requests_total"]
    with pytest.raises(xf.InputError, match="cache="):
        xf.read_batch("bpr_Xj8mK2pL9nR4vT7q", client=_client(emu), cache=3)  # type: ignore[arg-type]
    assert emu.stats()["requests_total"] == before
