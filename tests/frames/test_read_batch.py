"""xf.read_batch: batches created with the official SDK come back as typed frames."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import polars as pl
import pytest
from extend_ai import Extend

import extend_frames as xf
from extend_frames.emulator import Emulator
from extend_frames.jobs import _attach

SCHEMA = {
    "type": "object",
    "properties": {
        "invoice_number": {"type": ["string", "null"]},
        "total": {"type": ["number", "null"]},
    },
}
CLASSES = [
    {"id": "invoice", "type": "invoice", "description": "An invoice"},
    {"id": "other", "type": "other", "description": "Anything else"},
]


def _sdk(emu: Emulator) -> Extend:
    return Extend(token=emu.api_key, base_url=emu.url, httpx_client=httpx.Client(trust_env=False))


def _client(emu: Emulator) -> xf.Client:
    return xf.Client(emu.api_key, base_url=emu.url, rate_limits=xf.RateLimits(500, 500, 500))


def _gets(emu: Emulator, prefix: str) -> int:
    stats = emu.stats()["requests"]
    return sum(sum(v.values()) for k, v in stats.items() if k.startswith(prefix))


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


def _text(i: int) -> str:
    return f"Invoice number: INV-{i}\nTotal: {i}.50\n"


@pytest.mark.slow
def test_sdk_batches_of_every_kind_2500_runs_across_pages(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_attach, "PAGE_SIZE", 200)  # so 2,500 runs span 15 list pages
    sdk = _sdk(emu)
    ex = sdk.extractors.create(name="inv", config={"schema": SCHEMA})
    sdk.extractor_versions.create(ex.id, release_type="major")  # 1.0 = SCHEMA
    wider = {
        **SCHEMA,
        "properties": {**SCHEMA["properties"], "vendor": {"type": ["string", "null"]}},
    }
    sdk.extractors.update(ex.id, config={"schema": wider})  # the draft moves on; 1.0 does not
    cl = sdk.classifiers.create(name="types", config={"classifications": CLASSES})
    sp = sdk.splitters.create(name="packets", config={"splitClassifications": CLASSES})
    up = sdk.files.upload(file=("a.txt", _text(1).encode(), "text/plain"))
    meta = [{"doc_id": i, "team": f"t{i % 3}", "tags": {"n": i}} for i in range(1000)]
    batches = {
        "extract": sdk.extract_runs.create_batch(
            extractor={"id": ex.id, "version": "1.0"},
            inputs=[{"file": {"text": _text(i)}, "metadata": meta[i]} for i in range(1000)],
        ).id,
        "parse": sdk.parse_runs.create_batch(
            inputs=[{"file": {"text": _text(i)}, "metadata": meta[i]} for i in range(700)]
        ).id,
        "classify": sdk.classify_runs.create_batch(
            classifier={"id": cl.id},
            inputs=[{"file": {"text": _text(i)}, "metadata": meta[i]} for i in range(500)],
        ).id,
        "split": sdk.split_runs.create_batch(
            splitter={"id": sp.id},
            inputs=[{"file": {"id": up.id}, "metadata": meta[i]} for i in range(300)],
        ).id,
    }
    assert emu.wait_idle(120)
    sizes = {"extract": 1000, "parse": 700, "classify": 500, "split": 300}
    total = 0
    for operation, batch_id in batches.items():
        lists_before = _gets(emu, f"GET /{operation}_runs")
        df = xf.read_batch(batch_id, client=_client(emu))
        n = sizes[operation]
        total += df.height
        assert df.height == n
        assert df.get_column("run_id").n_unique() == n  # every run once
        assert (df.get_column("batch_id") == batch_id).all()
        assert df.get_column("status").cast(pl.String).to_list() == ["PROCESSED"] * n
        assert isinstance(df.schema["status"], pl.Enum)
        # the users' own metadata keys, typed
        assert df.schema["metadata.doc_id"] == pl.Int64
        assert df.schema["metadata.team"] == pl.String
        assert df.schema["metadata.tags"] == pl.Struct({"n": pl.Int64})
        assert sorted(df.get_column("metadata.doc_id").to_list()) == list(range(n))
        # pages: at least ceil(n / 200) list requests for the runs
        assert _gets(emu, f"GET /{operation}_runs") - lists_before >= -(-n // 200)
        out = df.schema["output"]
        if operation == "extract":
            assert out == pl.Struct({"invoice_number": pl.String, "total": pl.Float64})
            row = df.filter(pl.col("metadata.doc_id") == 7).row(0, named=True)
            assert row["output"] == {"invoice_number": "INV-7", "total": 7.5}
            assert "output_confidence" in df.columns
        elif operation == "parse":
            assert isinstance(out, pl.Struct)
            assert {f.name for f in out.fields} >= {"markdown", "page_count", "chunks"}
            assert df.get_column("output").struct.field("markdown").str.contains("INV").all()
        elif operation == "classify":
            assert df.get_column("output").struct.field("id").is_in(["invoice", "other"]).all()
        else:
            assert isinstance(out, pl.List)
            assert df.get_column("output").list.len().min() >= 1
    assert total == 2500


def test_resume_fetches_nothing_already_stored(emu: Emulator, tmp_path: Any) -> None:
    sdk = _sdk(emu)
    ex = sdk.extractors.create(name="inv", config={"schema": SCHEMA})
    inputs = [{"file": {"text": _text(i)}, "metadata": {"doc_id": f"d{i}"}} for i in range(30)]
    batch = sdk.extract_runs.create_batch(extractor={"id": ex.id}, inputs=inputs).id
    assert emu.wait_idle(30)
    out = str(tmp_path / "b")
    first = xf.read_batch(batch, client=_client(emu), output=out)
    fetched = _gets(emu, "GET /extract_runs/")
    assert fetched == 30
    before = emu.stats()["requests_total"]
    again = xf.read_batch(batch, client=_client(emu), output=out)
    assert emu.stats()["requests_total"] == before  # complete output: no request at all
    assert again.equals(first)
    assert xf.read_results(out).equals(first)
    assert sorted(first.get_column("metadata.doc_id").to_list()) == sorted(
        f"d{i}" for i in range(30)
    )
    # another batch into the same output is refused before any request
    with pytest.raises(xf.StoreError, match="not batch"):
        xf.read_batch("bpr_other0000000000", client=_client(emu), output=out)
    assert emu.stats()["requests_total"] == before


def test_interrupted_read_resumes_with_the_missing_parts_only(
    emu: Emulator, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from extend_frames.frames import _attach as frames_attach

    monkeypatch.setattr(frames_attach, "PART_ROWS", 10)
    sdk = _sdk(emu)
    inputs = [{"file": {"text": _text(i)}, "metadata": {"i": i}} for i in range(25)]
    batch = sdk.parse_runs.create_batch(inputs=inputs).id
    assert emu.wait_idle(30)
    out = str(tmp_path / "p")
    calls = {"n": 0}
    real = frames_attach.decode_runs

    def flaky(*args: Any, **kwargs: Any) -> pl.DataFrame:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the notebook user stops the cell in part 2
        return real(*args, **kwargs)

    monkeypatch.setattr(frames_attach, "decode_runs", flaky)
    with pytest.raises(KeyboardInterrupt):
        xf.read_batch(batch, client=_client(emu), output=out)
    assert _gets(emu, "GET /parse_runs/") == 20  # parts 1 and 2 fetched, part 1 stored
    monkeypatch.setattr(frames_attach, "decode_runs", real)
    df = xf.read_batch(batch, client=_client(emu), output=out)
    assert _gets(emu, "GET /parse_runs/") == 20 + 15  # parts 2 and 3 only
    assert df.height == 25
    assert sorted(df.get_column("metadata.i").to_list()) == list(range(25))


@pytest.mark.parametrize("bad", ["", "ex_123", "bpr", "bpr_", "bpar_a/b", "batch_1", 7])
def test_unknown_batch_id_shape_is_input_error_before_any_request(emu: Emulator, bad: Any) -> None:
    with pytest.raises(xf.InputError, match="bpar_"):
        xf.read_batch(bad, client=_client(emu))
    assert emu.stats()["requests_total"] == 0


@pytest.mark.parametrize("batch_id", ["bpr_doesNotExist000000000", "bpar_doesNotExist00000"])
def test_missing_batch_is_not_found(emu: Emulator, batch_id: str) -> None:
    with pytest.raises(xf.NotFoundError) as info:
        xf.read_batch(batch_id, client=_client(emu))
    assert batch_id in str(info.value) + "".join(getattr(info.value, "__notes__", []))


def test_processor_batch_kind_is_found_by_listing(
    emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    sdk = _sdk(emu)
    sp = sdk.splitters.create(name="s", config={"splitClassifications": CLASSES})
    up = sdk.files.upload(file=("a.txt", b"hello", "text/plain"))
    batch = sdk.split_runs.create_batch(splitter={"id": sp.id}, inputs=[{"file": {"id": up.id}}])
    assert emu.wait_idle(30)
    with caplog.at_level("INFO", logger="extend_frames.jobs"):
        df = xf.read_batch(batch.id, client=_client(emu))
    assert df.height == 1
    assert "listed under /split_runs" in caplog.text
    requests = emu.stats()["requests"]
    # tried extract, then classify, then split: one page-of-one each
    assert requests["GET /extract_runs"] == {"200": 1}
    assert requests["GET /classify_runs"] == {"200": 1}
    assert not [c for c in df.columns if c.startswith("metadata.")]  # the inputs had none
