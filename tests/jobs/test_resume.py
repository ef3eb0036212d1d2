"""Resume after a crash: SIGKILL a job at the worst moments, rerun the same call, and check
that every input row comes back exactly once and that no input was ever submitted twice.

The job runs in a subprocess (tests/jobs/_kill_child.py) against an emulator in another
process, as a user's crashed ETL script would; outputs go to local disk and to a real
S3-compatible server on loopback (moto) through s3fs.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import extend_frames as xf
from extend_frames.emulator import Emulator, Faults
from tests._s3 import MotoS3, moto_s3_server

from .conftest import FAST, RemoteEmulator, create_processor, make_client, run_remote_emulator

ROOT = Path(__file__).resolve().parents[2]
ROWS = 1_000  # 10 batches of 100
API_KEY = "sk_kill_test"


@pytest.fixture
def remote_emulator() -> Iterator[RemoteEmulator]:
    with run_remote_emulator(API_KEY) as emu:
        yield emu


@pytest.fixture(scope="module")
def moto_s3() -> Iterator[MotoS3]:
    with moto_s3_server() as server:
        yield server


def run_child(
    emu: RemoteEmulator, extractor: str, output: str, crash: str, storage: dict[str, Any] | None
) -> subprocess.CompletedProcess[str]:
    cmd = [
        sys.executable,
        "-m",
        "tests.jobs._kill_child",
        emu.url,
        API_KEY,
        output,
        str(ROWS),
        crash,
    ]
    if storage is not None:
        cmd.append(json.dumps(storage))
    env = {**os.environ, "KILL_TEST_EXTRACTOR": extractor}
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def visible_names(output: str, storage: dict[str, Any] | None) -> list[str]:
    fs, root = fsspec.core.url_to_fs(output, **(storage or {}))
    fs.invalidate_cache()
    return [p.rsplit("/", 1)[-1] for p in fs.ls(root, detail=False)]


PART = re.compile(r"part-\d+\.parquet")
CRASHES = ["before-submit:3", "after-submit:4", "fetch:150", "write:2"]


@pytest.mark.slow
@pytest.mark.realtime(reason="a real process killed at each step; the emulator's start is polled")
@pytest.mark.parametrize("backend", ["local", "s3"])
@pytest.mark.parametrize("crash", CRASHES)
def test_killed_job_resumes_without_paying_twice_or_losing_a_row(
    crash: str,
    backend: str,
    remote_emulator: RemoteEmulator,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    storage: dict[str, Any] | None = None
    if backend == "local":
        output = str(tmp_path / "out")
    else:
        s3: MotoS3 = request.getfixturevalue("moto_s3")
        output = s3.new_bucket_url() + "/jobs/invoices"
        storage = s3.storage_options
    extractor = create_processor((remote_emulator.url, API_KEY), "extractor")

    first = run_child(remote_emulator, extractor, output, crash, storage)
    assert first.returncode == -signal.SIGKILL, first.stderr[-2000:]

    # Readers never see a partial Parquet file, even right after the kill: every visible
    # part is a complete Parquet file, and reading the results so far works.
    fs, root = fsspec.core.url_to_fs(output, **(storage or {}))
    fs.invalidate_cache()
    parts = [p for p in fs.ls(root, detail=False) if PART.fullmatch(p.rsplit("/", 1)[-1])]
    for part in parts:
        pq.read_metadata(pa.BufferReader(fs.cat_file(part)))  # raises on a torn file
    if parts:
        so_far = xf.read_results(output, storage_options=storage)
        assert so_far.get_column("doc").n_unique() == so_far.height

    second = run_child(remote_emulator, extractor, output, "none", storage)
    assert second.returncode == 0, second.stderr[-3000:]
    assert json.loads(second.stdout.strip().splitlines()[-1]) == {"rows": ROWS}

    result = xf.read_results(output, storage_options=storage)
    expected = [f"d{i:05d}" for i in range(ROWS)]
    assert result.get_column("doc").to_list() == expected  # every row once, in input order
    assert (result.get_column("status") == "PROCESSED").all()
    numbers = result.get_column("output").struct.field("invoice_number")
    assert numbers.to_list() == [f"K-{i}" for i in range(ROWS)]

    stats = remote_emulator.stats()
    assert stats["duplicate_inputs"] == 0  # no input was ever submitted twice
    assert stats["inputs_submitted"] == ROWS
    assert stats["batches_created"] <= ROWS // 100 + 1  # at most the interrupted chunk's rest

    names = visible_names(output, storage)
    assert "_SUCCESS" in names
    assert not [n for n in names if n.startswith(".") or n.endswith(".tmp")]


def test_lost_response_is_reconciled_without_a_duplicate_batch(tmp_path: Path) -> None:
    """The server commits each batch, then answers 500: the job must not submit again."""
    faults = Faults(seed=1, error_after_commit_rate=1.0)
    frame = pl.DataFrame({"text": [f"Invoice number: L-{i}" for i in range(250)]})
    with Emulator(faults=faults) as emu:
        ex = create_processor(emu, "extractor")
        out = xf.extract(
            frame,
            processor=ex,
            text_column="text",
            batch_size=100,
            output=str(tmp_path / "out"),
            client=make_client(emu),
            polling=FAST,
            progress=False,
        )
        stats = emu.stats()
    assert out.height == 250
    assert (out.get_column("status") == "PROCESSED").all()
    assert stats["batches_created"] == 3
    assert stats["inputs_submitted"] == 250
    assert stats["duplicate_inputs"] == 0
    assert out.get_column("batch_id").is_null().all()  # adopted runs: batch id unknown


def test_rerun_of_a_finished_job_sends_nothing(tmp_path: Path) -> None:
    frame = pl.DataFrame({"text": [f"Invoice number: R-{i}" for i in range(30)]})
    with Emulator() as emu:
        ex = create_processor(emu, "extractor")
        kwargs: dict[str, Any] = {
            "processor": ex,
            "text_column": "text",
            "batch_size": 10,
            "output": str(tmp_path / "o"),
            "client": make_client(emu),
            "polling": FAST,
            "progress": False,
        }
        first = xf.extract(frame, **kwargs)
        before = emu.stats()
        second = xf.extract(frame, **kwargs)
        after = emu.stats()
    assert first.equals(second)
    assert after["inputs_submitted"] == before["inputs_submitted"]
    assert after["batches_created"] == before["batches_created"]


def test_other_input_against_existing_output_is_refused(tmp_path: Path) -> None:
    with Emulator() as emu:
        ex = create_processor(emu, "extractor")
        kwargs: dict[str, Any] = {
            "processor": ex,
            "text_column": "text",
            "output": str(tmp_path),
            "client": make_client(emu),
            "polling": FAST,
            "progress": False,
        }
        xf.extract(pl.DataFrame({"text": ["Invoice number: 1"]}), **kwargs)
        with pytest.raises(xf.StoreError, match="input_fingerprint"):
            xf.extract(pl.DataFrame({"text": ["Invoice number: 2"]}), **kwargs)
        again = xf.extract(
            pl.DataFrame({"text": ["Invoice number: 2"]}), mode="overwrite", **kwargs
        )
    assert again.get_column("output").struct.field("invoice_number").to_list() == ["2"]


def test_detached_job_is_collected_later_from_the_output_path_alone(tmp_path: Path) -> None:
    """Submit now, collect later from another process that knows only the output path."""
    frame = pl.DataFrame(
        {
            "doc": [f"x{i}" for i in range(120)],
            "text": [f"Invoice number: D-{i}" for i in range(120)],
        }
    )
    output = str(tmp_path / "detached")
    with Emulator() as emu:
        ex = create_processor(emu, "extractor")
        pending = xf.extract(
            frame,
            processor=ex,
            text_column="text",
            key="doc",
            batch_size=50,
            output=output,
            detach=True,
            client=make_client(emu),
            progress=False,
        )
        submitted = emu.stats()
        assert pending.get_column("doc").to_list() == frame.get_column("doc").to_list()
        assert set(pending.get_column("status").cast(pl.String)) == {"PENDING"}
        assert pending.get_column("batch_id").null_count() == 0
        assert submitted["inputs_submitted"] == 120
        assert "GET /extract_runs/{id}" not in submitted["requests"]  # nothing collected yet
        assert not (Path(output) / "_SUCCESS").exists()

        code = (
            "import sys, extend_frames as xf\n"
            "client = xf.Client(api_key=sys.argv[2], base_url=sys.argv[3],"
            " rate_limits=xf.RateLimits(get=500, write=500, run=500))\n"
            "out = xf.collect(sys.argv[1], client=client, polling=xf.Polling.fast(),"
            " progress=False)\n"
            "print(out.height, (out['status'] == 'PROCESSED').sum())\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code, output, emu.api_key, emu.url],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.split() == ["120", "120"]
        after = emu.stats()
    assert after["inputs_submitted"] == 120  # collecting submitted nothing again
    assert after["duplicate_inputs"] == 0
    result = xf.read_results(output)
    assert result.get_column("doc").to_list() == frame.get_column("doc").to_list()
    numbers = result.get_column("output").struct.field("invoice_number").to_list()
    assert numbers == [f"D-{i}" for i in range(120)]


def test_collect_on_a_path_without_a_job_says_so(tmp_path: Path) -> None:
    with pytest.raises(xf.StoreError, match="no extend_frames job"):
        xf.collect(
            str(tmp_path / "nothing"), client=xf.Client(api_key="k", base_url="http://127.0.0.1:9")
        )


def test_a_second_job_on_the_same_output_fails_cleanly_while_the_first_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from extend_frames.emulator import Speed
    from extend_frames.store import _lock

    frame = pl.DataFrame({"text": [f"Invoice number: C-{i}" for i in range(20)]})
    output = str(tmp_path / "shared")
    with Emulator(speed=Speed(batch_queue_delay=3.0)) as emu:  # holds the lock meanwhile
        ex = create_processor(emu, "extractor")
        kwargs: dict[str, Any] = {
            "processor": ex,
            "text_column": "text",
            "output": output,
            "client": make_client(emu),
            "polling": FAST,
            "progress": False,
        }
        first: dict[str, pl.DataFrame] = {}
        locked = threading.Event()  # set once the first job holds the output's lock

        def acquire(*args: Any, **kw: Any) -> Any:
            held = take(*args, **kw)
            locked.set()
            return held

        take = _lock.acquire
        monkeypatch.setattr(_lock, "acquire", acquire)
        worker = threading.Thread(target=lambda: first.update(out=xf.extract(frame, **kwargs)))
        worker.start()
        assert locked.wait(60), "the first job never took the lock"
        assert (Path(output) / "_lock").exists()
        with pytest.raises(xf.StoreError, match="_lock"):
            xf.extract(frame, **kwargs)
        worker.join(timeout=30)
        stats = emu.stats()
    assert first["out"].height == 20
    assert stats["inputs_submitted"] == 20  # the refused job sent nothing
