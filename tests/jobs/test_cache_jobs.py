"""The result cache across jobs, end to end on the emulator: day 2 pays only for what changed."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

import extend_frames as xf
from extend_frames.emulator import Emulator

from .conftest import FAST, create_processor, make_client

VALUES = ["run_id", "batch_id", "status", "output", "output_confidence", "file_id", "created_at"]


def _invoice(i: int, version: int = 0) -> bytes:
    return (
        f"INVOICE\nInvoice number: INV-{i:05d}\nInvoice date: 2026-01-{1 + i % 28:02d}\n"
        f"Vendor: Vendor {i % 37} Ltd\nTotal: {100 + i + version}.00 USD\n"
    ).encode()


def _write(folder: Path, ids: range, version: int = 0) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in ids:
        path = folder / f"inv-{i:05d}.txt"
        path.write_bytes(_invoice(i, version))
        paths.append(str(path))
    return paths


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder served over HTTP on 127.0.0.1 (the emulator downloads loopback URLs)."""
    folder = tmp_path / "served"
    folder.mkdir()
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _signed(base: str, name: str, day: int) -> str:
    """A presigned-looking URL (AWS SigV4 query string), re-signed differently each day."""
    return (
        f"{base}/{name}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA{day}%2F20260101"
        f"&X-Amz-Date=2026010{day}T000000Z&X-Amz-Expires={3600 * day}"
        f"&X-Amz-SignedHeaders=host&X-Amz-Signature={'ab' * 16}{day:032d}"
    )


@pytest.mark.slow
def test_two_days_day_two_submits_only_changed_and_new_documents(
    emulator: Emulator, tmp_path: Path, served: tuple[Path, str]
) -> None:
    folder, base = served
    ex = create_processor(emulator, "extractor")
    client = make_client(emulator)
    cache = xf.Cache(tmp_path / "cache")
    # Day 1: 1,950 local files + 50 presigned URLs = 2,000 documents.
    local = _write(tmp_path / "docs", range(1950))
    _write(folder, range(1950, 2000))
    urls1 = [_signed(base, f"inv-{i:05d}.txt", 1) for i in range(1950, 2000)]
    day1 = pl.DataFrame({"doc": range(2000), "file": local + urls1})
    first = xf.extract(
        day1, processor=ex, file_column="file", key="doc", cache=cache, client=client,
        polling=FAST, progress=False,
    )  # fmt: skip
    assert (first.get_column("status") == "PROCESSED").all()
    assert not first.get_column("cached").any()
    assert cache.entries() == 2000

    # Day 2: the same 2,000 (100 files with changed bytes, the 50 URLs re-signed) + 300 new,
    # in another order.
    _write(tmp_path / "docs", range(0, 1000, 10), version=1)  # 100 changed
    new = _write(tmp_path / "docs", range(2000, 2300))
    urls2 = [_signed(base, f"inv-{i:05d}.txt", 2) for i in range(1950, 2000)]
    day2 = pl.DataFrame({"doc": range(2300), "file": local + urls2 + new}).reverse()
    before = emulator.stats()["inputs_submitted"]
    second = xf.extract(
        day2, processor=ex, file_column="file", key="doc", cache=cache, client=client,
        polling=FAST, progress=False,
    )  # fmt: skip
    assert emulator.stats()["inputs_submitted"] - before == 400

    # Every row once, in order, typed identically.
    assert second.select("doc", "file").equals(day2)
    assert second.schema == first.schema
    changed = set(range(0, 1000, 10))
    expect_cached = [d not in changed and d < 2000 for d in second.get_column("doc")]
    assert second.get_column("cached").to_list() == expect_cached
    assert (second.get_column("status") == "PROCESSED").all()
    hits = second.filter(pl.col("cached"))
    assert hits.get_column("credits").to_list() == [0.0] * 1900  # this job paid nothing
    # Cached rows equal day 1's values exactly (the re-signed URLs included).
    day1_values = first.select("doc", *VALUES)
    assert (
        hits.select("doc", *VALUES)
        .sort("doc")
        .equals(
            day1_values.filter(pl.col("doc").is_in(hits.get_column("doc").implode())).sort("doc")
        )
    )
    fresh = second.filter(~pl.col("cached"))
    assert (fresh.get_column("credits") > 0).all()
    assert not set(fresh.get_column("run_id")) & set(first.get_column("run_id"))
    assert cache.entries() == 2400


def test_cache_key_overrides_the_digest_and_works_with_output(
    emulator: Emulator, tmp_path: Path
) -> None:
    ex = create_processor(emulator, "extractor")
    client = make_client(emulator)
    texts = [_invoice(i).decode() for i in range(6)]
    df = pl.DataFrame({"text": texts, "etag": [f"e{i}" for i in range(6)]})
    cache = str(tmp_path / "cache")
    common = {"processor": ex, "text_column": "text", "client": client, "polling": FAST}
    xf.extract(df, cache=cache, cache_key="etag", progress=False, **common)
    # Same etags, other text: the user vouches these are the same documents -> all hits.
    other = df.with_columns(pl.col("text") + " (reformatted)")
    before = emulator.stats()["inputs_submitted"]
    out = xf.extract(
        other, cache=cache, cache_key="etag", output=str(tmp_path / "out"), progress=False,
        **common,
    )  # fmt: skip
    assert emulator.stats()["inputs_submitted"] == before
    assert out.get_column("cached").all()
    stored = xf.read_results(str(tmp_path / "out"))
    assert stored.get_column("cached").all()
    assert stored.height == 6
    # Without cache_key the changed text is a new document.
    out = xf.extract(other, cache=cache, progress=False, **common)
    assert not out.get_column("cached").any()
    with pytest.raises(xf.InputError, match="cache_key"):
        xf.extract(df, cache_key="etag", progress=False, **common)
    with pytest.raises(xf.InputError, match="nope"):
        xf.extract(df, cache=cache, cache_key="nope", progress=False, **common)


def test_failed_rows_are_not_cached(emulator: Emulator, tmp_path: Path) -> None:
    ex = create_processor(emulator, "extractor")
    client = make_client(emulator)
    df = pl.DataFrame({"text": [_invoice(1).decode(), "broken __FAIL:INTERNAL_ERROR"]})
    common = {"processor": ex, "text_column": "text", "client": client, "polling": FAST}
    cache = xf.Cache(tmp_path / "cache")
    xf.extract(df, cache=cache, progress=False, **common)
    assert cache.entries() == 1
    out = xf.extract(df, cache=cache, progress=False, **common)
    assert out.get_column("cached").to_list() == [True, False]


def test_two_concurrent_jobs_sharing_a_cache_lose_no_entry(
    emulator: Emulator, tmp_path: Path
) -> None:
    ex = create_processor(emulator, "extractor")
    cache = xf.Cache(tmp_path / "cache")
    frames = [
        pl.DataFrame({"text": [_invoice(i).decode() for i in range(j * 300, j * 300 + 300)]})
        for j in range(2)
    ]
    errors: list[BaseException] = []

    def job(df: pl.DataFrame) -> None:
        try:
            xf.extract(
                df, processor=ex, text_column="text", client=make_client(emulator), cache=cache,
                batch_size=50, polling=FAST, progress=False,
            )  # fmt: skip
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=job, args=(df,)) for df in frames]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    assert cache.entries() == 600
    before = emulator.stats()["inputs_submitted"]
    both = pl.concat(frames)
    again = xf.extract(
        both, processor=ex, text_column="text", client=make_client(emulator), cache=cache,
        polling=FAST, progress=False,
    )  # fmt: skip
    assert again.get_column("cached").all()
    assert emulator.stats()["inputs_submitted"] == before
