"""One output location per test on each backend: local disk, memory:// and S3 (moto on loopback).

The store suite is written once against the ``target`` fixture, fsspec contract-test style.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests._s3 import MotoS3, moto_s3_server


@dataclass
class Target:
    """Where a test's output lives: a URL and the storage_options to reach it."""

    kind: str
    url: str
    storage_options: dict[str, Any] = field(default_factory=dict)

    def open(self) -> Any:
        from extend_frames.store import JobStore

        return JobStore.open(self.url, storage_options=self.storage_options)

    def put(self, name: str, data: bytes) -> None:
        """Write a raw object under the output, bypassing the store (torn/foreign files)."""
        import fsspec

        fs, root = fsspec.core.url_to_fs(self.url, **self.storage_options)
        path = f"{root.rstrip('/')}/{name}"
        if self.kind == "local":
            fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        fs.pipe_file(path, data)
        fs.invalidate_cache()


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    """A moto S3 server on 127.0.0.1, shared by the session."""
    with moto_s3_server() as server:
        yield server


@pytest.fixture(scope="session")
def s3_bucket(moto_s3: MotoS3) -> str:
    """One bucket for the session; each test gets its own prefix in it."""
    return moto_s3.new_bucket_url()


@pytest.fixture(params=["local", "memory", pytest.param("s3", marks=pytest.mark.s3)])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    """A fresh, empty output location on each backend."""
    name = uuid.uuid4().hex[:12]
    if request.param == "local":
        yield Target("local", str(tmp_path / "out"))
    elif request.param == "memory":
        yield Target("memory", f"memory://store-tests/{name}/out")
        import fsspec

        with contextlib.suppress(FileNotFoundError):
            fsspec.filesystem("memory").rm(f"/store-tests/{name}", recursive=True)
    else:
        server: MotoS3 = request.getfixturevalue("moto_s3")
        bucket: str = request.getfixturevalue("s3_bucket")
        yield Target("s3", f"{bucket}/{name}/out", dict(server.storage_options))
