"""Real tables for the tests of extend_frames/tables: Delta (delta-rs) and Iceberg (pyiceberg's
SQL catalog on SQLite), on local disk and on S3 (moto in a child process: delta-rs blocks in
native code holding the GIL, so a server thread of the test process could not answer it)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import extend_frames as xf
from tests._s3 import KEY, SECRET, MotoS3, moto_s3_process

pytest.importorskip("deltalake")
pytest.importorskip("pyiceberg")

BACKENDS = ["delta-local", "iceberg-local", "delta-s3", "iceberg-s3"]


@pytest.fixture(scope="session")
def moto_s3_child() -> Iterator[MotoS3]:
    with moto_s3_process() as server:
        yield server


def delta_s3_options(server: MotoS3) -> dict[str, str]:
    """delta-rs on moto: path-style HTTP, and conditional PUT (If-None-Match) for commits,
    which is what makes concurrent writers safe on S3 without a DynamoDB lock."""
    return {
        "AWS_ENDPOINT_URL": server.endpoint_url,
        "AWS_ACCESS_KEY_ID": KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_REGION": "us-east-1",
        "AWS_ALLOW_HTTP": "true",
        "AWS_CONDITIONAL_PUT": "etag",
    }


def sql_catalog(directory: Path, warehouse: str, name: str = "test", **properties: str) -> Any:
    from pyiceberg.catalog.sql import SqlCatalog

    return SqlCatalog(
        name, uri=f"sqlite:///{directory / 'catalog.db'}", warehouse=warehouse, **properties
    )


@dataclass
class Tables:
    """Makes fresh tables of one backend."""

    backend: str
    tmp: Path
    s3: MotoS3 | None = None

    def target(self, mode: Any = "append", **kwargs: Any) -> xf.Delta | xf.Iceberg:
        name = f"t{uuid.uuid4().hex[:10]}"
        if self.backend == "delta-local":
            return xf.Delta(str(self.tmp / name), mode=mode, **kwargs)
        if self.backend == "delta-s3":
            assert self.s3 is not None
            url = f"{self.s3.new_bucket_url()}/{name}"
            return xf.Delta(url, storage_options=delta_s3_options(self.s3), mode=mode, **kwargs)
        return xf.Iceberg(f"lake.{name}", catalog=self.catalog(), mode=mode, **kwargs)

    def catalog(self) -> Any:
        if self.backend == "iceberg-local":
            return sql_catalog(self.tmp, (self.tmp / "warehouse").as_uri())
        assert self.s3 is not None
        return sql_catalog(
            self.tmp,
            f"{self.s3.new_bucket_url()}/warehouse",
            **{
                "s3.endpoint": self.s3.endpoint_url,
                "s3.access-key-id": KEY,
                "s3.secret-access-key": SECRET,
                "s3.region": "us-east-1",
            },
        )


@pytest.fixture(params=BACKENDS)
def tables(request: pytest.FixtureRequest, tmp_path: Path) -> Tables:
    s3 = request.getfixturevalue("moto_s3_child") if request.param.endswith("s3") else None
    return Tables(request.param, tmp_path, s3)


@pytest.fixture(params=["delta-local", "iceberg-local"])
def local_tables(request: pytest.FixtureRequest, tmp_path: Path) -> Tables:
    return Tables(request.param, tmp_path)


def delta_table(target: xf.Delta) -> Any:
    """The ``deltalake.DeltaTable`` of ``target``, opened by delta-rs itself."""
    from deltalake import DeltaTable

    return DeltaTable(target.uri, storage_options=dict(target.storage_options or {}))


def read_back(target: xf.Delta | xf.Iceberg) -> pa.Table:
    """The table as its own library reads it."""
    if isinstance(target, xf.Delta):
        return delta_table(target).to_pyarrow_table()
    return target.catalog.load_table(target.identifier).scan().to_arrow()


def commits(target: xf.Delta | xf.Iceberg) -> list[tuple[str, str]]:
    """(job, chunk) of every commit that carries one, oldest first, from the table's history."""
    if isinstance(target, xf.Delta):
        history = delta_table(target).history()
        marked = [h for h in reversed(history) if "extend-frames.job" in h]
        return [(h["extend-frames.job"], h["extend-frames.chunk"]) for h in marked]
    table = target.catalog.load_table(target.identifier)
    seen: list[tuple[str, str]] = []
    for snapshot in table.snapshots():
        props = snapshot.summary.additional_properties if snapshot.summary else {}
        if "extend-frames.job" in props:
            pair = (props["extend-frames.job"], props["extend-frames.chunk"])
            if not seen or seen[-1] != pair:  # an overwrite is a delete and an append snapshot
                seen.append(pair)
    return seen


def version(target: xf.Delta | xf.Iceberg) -> Any:
    """What changes with every commit (Delta version, Iceberg metadata location)."""
    if isinstance(target, xf.Delta):
        return delta_table(target).version()
    return target.catalog.load_table(target.identifier).metadata_location


MakeTarget = Callable[..., xf.Delta | xf.Iceberg]
