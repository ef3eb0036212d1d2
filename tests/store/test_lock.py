"""The output lock: exclusive across handles, threads and processes; stale locks; release."""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from extend_frames import StoreError
from tests._s3 import SECRET

from .conftest import Target

ROOT = Path(__file__).resolve().parents[2]
HOLDER = """
import json, sys
from extend_frames.store import JobStore
store = JobStore.open(sys.argv[1], storage_options=json.loads(sys.argv[2]))
with store.lock("subprocess-job"):
    print("LOCKED", flush=True)
    sys.stdin.read()  # hold the lock until the parent closes our stdin
print("RELEASED", flush=True)
"""


def _readline(proc: subprocess.Popen[str], timeout: float = 60.0) -> str:
    """The child's next stdout line, waiting at most ``timeout`` seconds (event-driven)."""
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, "the child process did not answer in time"
    return proc.stdout.readline().strip()


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    assert proc.wait(timeout=60) == 0
    return proc.pid


def _write_lock(target: Target, **fields: object) -> None:
    body = {"owner": "old-job", "pid": 1, "host": "elsewhere", "time": "t", "token": "abc"}
    target.put("_lock", json.dumps({**body, **fields}).encode())


def test_second_handle_is_refused_while_the_first_holds_the_lock(target: Target) -> None:
    a, b = target.open(), target.open()
    with a.lock("job-a") as mine:
        assert mine.owner == "job-a"
        assert b.lock_holder() == mine
        with pytest.raises(StoreError) as info, b.lock("job-b"):
            pass
        text = str(info.value)
        assert text.startswith(f"{b.path} is locked by 'job-a' (pid {os.getpid()} on ")
        assert "wait for it to finish, or remove" in text.lower()
        assert f"{b.path}/_lock if that process is dead" in text
        assert SECRET not in text
        assert SECRET not in repr(info.value)
    assert b.lock_holder() is None  # released on exit
    with b.lock("job-b") as theirs:
        assert a.lock_holder() == theirs


def test_lock_is_released_when_the_block_raises(target: Target) -> None:
    store = target.open()
    with pytest.raises(RuntimeError, match="boom"), store.lock("job"):
        raise RuntimeError("boom")
    assert store.lock_holder() is None


def test_racing_threads_get_the_lock_exactly_once(target: Target) -> None:
    n = 6
    barrier = threading.Barrier(n)
    release = threading.Event()
    won: list[str] = []
    lost: list[BaseException] = []

    def contend(i: int) -> None:
        store = target.open()
        barrier.wait(timeout=30)
        try:
            with store.lock(f"job-{i}"):
                won.append(f"job-{i}")
                release.wait(timeout=30)
        except BaseException as exc:  # counted and checked below
            lost.append(exc)
            if len(lost) == n - 1:
                release.set()

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(won) == 1, (won, lost)
    assert len(lost) == n - 1
    assert all(isinstance(e, StoreError) for e in lost), lost
    assert target.open().lock_holder() is None


def test_lock_held_by_another_process_is_refused(target: Target) -> None:
    if target.kind == "memory":
        pytest.skip("memory:// is private to one process")
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, target.url, json.dumps(target.storage_options)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert _readline(proc) == "LOCKED"
        store = target.open()
        holder = store.lock_holder()
        assert holder is not None
        assert (holder.owner, holder.pid) == ("subprocess-job", proc.pid)
        pattern = rf"locked by 'subprocess-job' \(pid {proc.pid} on "
        with pytest.raises(StoreError, match=pattern), store.lock("me"):
            pass
        assert proc.stdin is not None
        proc.stdin.close()
        assert _readline(proc) == "RELEASED"
        assert proc.wait(timeout=60) == 0
        with store.lock("me") as mine:
            assert store.lock_holder() == mine
    finally:
        proc.kill()
        proc.wait(timeout=60)


def test_stale_lock_of_a_dead_process_on_this_host_is_taken_over(target: Target) -> None:
    _write_lock(target, pid=_dead_pid(), host=socket.gethostname())
    store = target.open()
    with store.lock("new-job") as mine:
        assert store.lock_holder() == mine
    assert store.lock_holder() is None


def test_lock_of_a_process_on_another_host_needs_force(target: Target) -> None:
    _write_lock(target, pid=_dead_pid(), host="some-other-host")
    store = target.open()
    with (
        pytest.raises(StoreError, match=r"locked by 'old-job'.*on some-other-host"),
        store.lock("x"),
    ):
        pass
    with store.lock("new-job", force=True) as mine:
        assert store.lock_holder() == mine


def test_lock_of_a_live_process_on_this_host_is_not_stale(target: Target) -> None:
    _write_lock(target, pid=os.getppid(), host=socket.gethostname())
    with pytest.raises(StoreError, match="locked by 'old-job'"), target.open().lock("x"):
        pass


def test_unreadable_lock_counts_as_held(target: Target) -> None:
    target.put("_lock", b"\x00garbage")
    store = target.open()
    with pytest.raises(StoreError, match="unreadable lock"), store.lock("x"):
        pass
    with store.lock("x", force=True):
        assert store.lock_holder() is not None


def test_release_leaves_a_successors_lock_alone(target: Target) -> None:
    first, second = target.open(), target.open()
    outer = first.lock("first")
    outer.__enter__()
    inner = second.lock("second", force=True)  # e.g. an operator forcing a new run
    theirs = inner.__enter__()
    with pytest.warns(UserWarning, match="taken over"):
        outer.__exit__(None, None, None)
    assert first.lock_holder() == theirs
    inner.__exit__(None, None, None)
    assert first.lock_holder() is None


def test_lock_abandoned_by_this_process_is_taken_over(target: Target) -> None:
    # e.g. a notebook cell interrupted between acquiring and releasing
    _write_lock(target, pid=os.getpid(), host=socket.gethostname(), token="lost")
    store = target.open()
    with store.lock("retry") as mine:
        assert store.lock_holder() == mine
        with pytest.raises(StoreError, match="locked by 'retry'"), target.open().lock("other"):
            pass
