"""The upload step's I/O: probe, stream and upload local/fsspec files, concurrently."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from extend_frames.api import Client, SourceReadError
from extend_frames.jobs._errors import first_error
from extend_frames.jobs._sources import SourceRefusedError, open_source
from extend_frames.jobs._spec import FILE_NOT_READABLE, JobSpec

__all__ = ["Uploaded", "upload_paths"]


@dataclass(slots=True)
class Uploaded:
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> {"id": file id}
    failures: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> reason, msg
    digests: dict[str, str] = field(default_factory=dict)  # key -> digest of the bytes sent


async def upload_paths(
    client: Client, spec: JobSpec, paths: Mapping[str, str], slots: asyncio.Semaphore
) -> Uploaded:
    """Upload each path (key -> path); a refusal or a failed read is that key's failure."""
    out = Uploaded()

    async def one(key: str, path: str) -> None:
        async with slots:
            try:
                source = await open_source(path, spec.reads, spec.storage_options)
                uploaded = await client.upload_file(source, name=source.name)
            except SourceRefusedError as refusal:
                out.failures[key] = (refusal.reason, refusal.message)
                return
            except SourceReadError as exc:
                out.failures[key] = (FILE_NOT_READABLE, str(exc))
                return
        out.files[key] = {"id": uploaded["id"]}
        if source.sha256 is not None:  # what the result cache keys on: the bytes uploaded
            out.digests[key] = "file:" + source.sha256

    try:
        async with asyncio.TaskGroup() as group:
            for key, path in paths.items():
                group.create_task(one(key, path))
    except BaseExceptionGroup as group_error:
        raise first_error(group_error) from None
    return out
