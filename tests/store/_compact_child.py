"""Child of tests/store/test_compaction.py: compact a ledger and die by SIGKILL at a seeded
point (``snapshot``: before the snapshot's create-only write ends; ``delete``: after deleting
``seed % covered`` of the objects the snapshot covers)."""

from __future__ import annotations

import os
import random
import signal
import sys
from collections.abc import Sequence
from typing import Any

from extend_frames.store import JobStore
from extend_frames.store._backend import Backend


def main(url: str, point: str, seed: int) -> None:
    rng = random.Random(seed)
    create_only, delete = Backend.create_only, Backend.delete

    def die_creating(self: Backend, data: bytes, *names: str) -> None:
        if names[-1].startswith("snapshot-"):
            half = data[: rng.randrange(1, len(data))]
            temp = self.path(*names[:-1], f".{names[-1]}.tmp-{seed:016x}")
            self.fs.pipe_file(temp, half)  # the temp file of create_only, never linked
            os.kill(os.getpid(), signal.SIGKILL)
        create_only(self, data, *names)

    def die_deleting(self: Backend, paths: Sequence[str]) -> None:
        if not any("/_ledger/" in p for p in paths):
            delete(self, paths)  # the lock's sweep of temp files, not the compaction
            return
        k = rng.randrange(0, len(paths))
        delete(self, list(paths)[:k])
        os.kill(os.getpid(), signal.SIGKILL)

    patch: dict[str, Any] = {"snapshot": ("create_only", die_creating)}
    patch["delete"] = ("delete", die_deleting)
    name, fn = patch[point]
    setattr(Backend, name, fn)
    store = JobStore.open(url)
    with store.lock("compaction test"):
        store.compact()
    sys.exit(3)  # not reached: the kill comes first


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
