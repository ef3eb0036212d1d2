"""Interrupted writes never leave a partial Parquet part where readers look."""

from __future__ import annotations

import fnmatch
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from extend_frames.store import _backend, _store, read_results
from extend_frames.store._paths import TEMP_RE

from .conftest import Target

ROOT = Path(__file__).resolve().parents[2]


def _names(target: Target) -> list[str]:
    store = target.open()
    store.fs.invalidate_cache()
    return sorted(p.rsplit("/", 1)[-1] for p in store.fs.find(store._b.path()))


def _table(n: int, tag: str = "new") -> pa.Table:
    return pa.table({"__row": pa.array(range(n), pa.int64()), "tag": [tag] * n})


def test_failure_while_encoding_leaves_no_part(
    target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = target.open()
    store.write_part(0, _table(3, "old"))

    def half_then_fail(table: pa.Table, where: object, **kwargs: object) -> None:
        writer = pq.ParquetWriter(where, table.schema)  # type: ignore[arg-type]
        writer.write_table(table.slice(0, table.num_rows // 2))  # half the rows reach the sink
        raise OSError("disk full")

    monkeypatch.setattr(_store.pq, "write_table", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        store.write_part(1, _table(1000))
    with pytest.raises(OSError, match="disk full"):
        store.write_part(0, _table(1000))  # a rewrite that fails keeps the old part whole
    monkeypatch.undo()

    assert store.parts() == [0]
    assert [n for n in _names(target) if "part-00001" in n] == []
    out = read_results(target.url, storage_options=target.storage_options)
    assert out["tag"].to_list() == ["old"] * 3


def test_local_failure_mid_write_removes_the_temp_file(
    target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    if target.kind != "local":
        pytest.skip("object stores write a part in one PUT: there is no temp file")
    store = target.open()
    store.write_part(0, _table(3, "old"))
    real = _backend._write_bytes

    def half_then_fail(fd: int, data: bytes) -> None:
        real(fd, data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_backend, "_write_bytes", half_then_fail)
    for chunk in (0, 1):
        with pytest.raises(Exception, match="No space left"):
            store.write_part(chunk, _table(1000))
    monkeypatch.undo()
    assert _names(target) == ["part-00000.parquet"]  # no temp file left behind
    assert store.read_part(0)["tag"].to_pylist() == ["old"] * 3


KILLED_WRITER = """
import os, sys
import pyarrow as pa
from extend_frames.store import JobStore, _backend
real = _backend._write_bytes
def half_then_wait(fd, data):
    real(fd, data[: len(data) // 2])
    os.fsync(fd)
    print("HALF", flush=True)
    sys.stdin.read()  # wait here until killed
_backend._write_bytes = half_then_wait
n = 200_000
JobStore.open(sys.argv[1]).write_part(
    3, pa.table({"__row": pa.array(range(n), pa.int64()), "v": [str(i) * 3 for i in range(n)]})
)
"""


def test_local_writer_killed_mid_write_leaves_no_visible_part(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready
        assert proc.stdout.readline().strip() == "HALF"
        temps = [n for n in os.listdir(out) if TEMP_RE.match(n)]
        assert len(temps) == 1
        assert os.path.getsize(out / temps[0]) > 0
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=60) == -signal.SIGKILL
    finally:
        proc.kill()
        proc.wait(timeout=60)

    left = os.listdir(out)
    assert fnmatch.filter(left, "part-*.parquet") == []
    assert fnmatch.filter(left, "*.parquet") == []
    from extend_frames.store import JobStore

    store = JobStore.open(str(out))
    assert store.parts() == []
    assert read_results(str(out)).height == 0
    # the next lock holder sweeps the dead writer's temp file away
    with store.lock("next-job"):
        assert os.listdir(out) == ["_lock"]
