"""The job lock: one create-only ``_lock`` object, so two jobs never write one output at once.

Guarantee: on local disk, memory:// and S3 (conditional PUT) the create is atomic, so of two
jobs starting together exactly one gets the lock. On other fsspec backends the create is
exists-then-write; we read the object back and check our token, which catches a job that
started earlier but not two that start within the same round trip.

A lock left behind is taken over only when it was written on this host and its pid is not
alive, or is this process's own pid with a token no `with` block here holds any more (a block
interrupted before it released); otherwise the caller must pass ``force=True`` (or delete
``_lock``).
Taking over deletes the stale object and creates ours create-only, so of several takers at most
the ones racing within that delete/create window can both win; we then verify our token.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from extend_frames._errors import StoreError
from extend_frames.store._backend import Backend
from extend_frames.store._paths import LOCK


@dataclass(frozen=True, slots=True)
class LockInfo:
    """Who holds an output's lock. ``token`` tells our own lock from a successor's."""

    owner: str
    pid: int | None
    host: str | None
    time: str | None
    token: str

    def describe(self) -> str:
        """``'owner' (pid 123 on host, since 2026-...)`` for messages."""
        where = " ".join(
            p
            for p in (
                f"pid {self.pid}" if self.pid is not None else "",
                f"on {self.host}" if self.host else "",
            )
            if p
        )
        if self.time:
            where = f"{where}, since {self.time}" if where else f"since {self.time}"
        return f"{self.owner!r} ({where})" if where else repr(self.owner)


def _pid_alive(pid: int) -> bool:
    """Whether ``pid`` runs on this host. Unknown (Windows: os.kill would kill) counts as alive."""
    if os.name != "posix" or pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def read_lock(backend: Backend) -> LockInfo | None:
    """The current holder, None if unlocked; an unreadable lock reads as an unknown holder."""
    raw = backend.read(LOCK)
    if raw is None:
        return None
    try:
        body: dict[str, Any] = json.loads(raw)
        return LockInfo(
            owner=str(body["owner"]),
            pid=int(body["pid"]) if body.get("pid") is not None else None,
            host=str(body["host"]) if body.get("host") else None,
            time=str(body["time"]) if body.get("time") else None,
            token=str(body["token"]),
        )
    except (ValueError, KeyError, TypeError):
        return LockInfo(owner="<unreadable lock>", pid=None, host=None, time=None, token="")


# Tokens of the locks this process holds right now: a lock with our pid but another token was
# left by a `with` block of this process that never released it (e.g. interrupted in Jupyter).
# Why a module global: "held by this process" is a per-process fact, whichever JobStore object
# took the lock; the set is only touched under _ACTIVE_LOCK.
_ACTIVE: set[str] = set()
_ACTIVE_LOCK = threading.Lock()


def is_stale(info: LockInfo) -> bool:
    """A lock written on this host by a dead process, or by this process and since abandoned."""
    if info.host != socket.gethostname() or info.pid is None:
        return False
    if info.pid == os.getpid():
        with _ACTIVE_LOCK:
            return info.token not in _ACTIVE
    return not _pid_alive(info.pid)


def acquire(backend: Backend, owner: str, *, force: bool) -> LockInfo:
    """Take the lock of ``backend`` for ``owner`` or raise StoreError naming the holder."""
    mine = LockInfo(
        owner=owner,
        pid=os.getpid(),
        host=socket.gethostname(),
        time=datetime.now(UTC).isoformat(timespec="seconds"),
        token=secrets.token_hex(16),
    )
    data = json.dumps(
        {
            "owner": mine.owner,
            "pid": mine.pid,
            "host": mine.host,
            "time": mine.time,
            "token": mine.token,
        }
    ).encode()
    backend.makedirs()
    # Registered before the object exists, so a thread of this process never mistakes our
    # fresh lock for an abandoned one; unregistered on every failure path.
    with _ACTIVE_LOCK:
        _ACTIVE.add(mine.token)
    try:
        return _acquire(backend, mine, data, force=force)
    except BaseException:
        with _ACTIVE_LOCK:
            _ACTIVE.discard(mine.token)
        raise


def _acquire(backend: Backend, mine: LockInfo, data: bytes, *, force: bool) -> LockInfo:
    for _ in range(3):
        try:
            with backend.errors("create the lock", LOCK):
                backend.create_only(data, LOCK)
        except FileExistsError:
            holder = read_lock(backend)
            if holder is None:
                continue  # released between our create and our read: try again
            if not (force or is_stale(holder)):
                raise StoreError(
                    f"{backend.url} is locked by {holder.describe()}: another job is writing "
                    f"there. Wait for it to finish, or remove {backend.show(LOCK)} if that "
                    "process is dead (or pass force=True).",
                    path=backend.url,
                ) from None
            backend.delete([backend.path(LOCK)])
            continue
        now = read_lock(backend)
        if now is None or now.token != mine.token:
            who = now.describe() if now else "nobody (it vanished)"
            raise StoreError(
                f"{backend.url}: lost the race for the lock to {who}. Another job started "
                "at the same moment; wait for it, or choose another output path.",
                path=backend.url,
            )
        return mine
    raise StoreError(
        f"{backend.url}: could not take the lock after 3 attempts (it keeps changing hands). "
        "Another job is starting there; wait for it, or choose another output path.",
        path=backend.url,
    )


def release(backend: Backend, mine: LockInfo) -> bool:
    """Delete the lock if it is still ours; False (left alone) if another job took it over."""
    try:
        now = read_lock(backend)
        if now is None or now.token != mine.token:
            return False
        backend.delete([backend.path(LOCK)])
        return True
    finally:
        with _ACTIVE_LOCK:
            _ACTIVE.discard(mine.token)
