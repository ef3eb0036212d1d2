"""Streaming multipart bodies for ``POST /files/upload``: a file is never held whole.

An :class:`UploadSource` yields a file's bytes in blocks, afresh on every call of ``chunks()``
(so a retried upload re-reads from the start); :func:`multipart` wraps them in the one-part
``multipart/form-data`` body Extend expects, with a ``Content-Length`` computed from the
source's size. A source that fails while being read raises :class:`SourceReadError`, which the
client lets through unchanged (it is the file's fault, not the network's).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from typing import Protocol

from extend_frames._errors import ExtendError

__all__ = ["BytesSource", "SourceReadError", "UploadSource", "multipart"]


class SourceReadError(ExtendError):
    """Reading an upload's source failed (or timed out): that document's failure, not the job's."""


class UploadSource(Protocol):
    """A file to upload: its ``size`` in bytes and a fresh pass over its bytes per call."""

    @property
    def size(self) -> int: ...

    def chunks(self) -> AsyncIterator[bytes]: ...


class BytesSource:
    """Bytes already in memory, as an :class:`UploadSource`."""

    def __init__(self, data: bytes, block: int = 1 << 20) -> None:
        self.data = data
        self.block = block

    @property
    def size(self) -> int:
        return len(self.data)

    async def chunks(self) -> AsyncIterator[bytes]:
        view = memoryview(self.data)
        for start in range(0, len(view), self.block):
            yield bytes(view[start : start + self.block])


def _quote(value: str) -> str:
    """A header parameter value: quotes, CR and LF percent-escaped (as browsers do)."""
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def multipart(
    source: UploadSource, *, name: str, password: str | None = None
) -> tuple[dict[str, str], Callable[[], AsyncIterator[bytes]]]:
    """The headers and a body factory (one fresh body per attempt) of the upload form."""
    boundary = secrets.token_hex(16)
    head = b""
    if password is not None:
        head += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="password"\r\n\r\n{password}\r\n'
        ).encode()
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{_quote(name)}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    headers = {
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(len(head) + source.size + len(tail)),
    }

    async def body() -> AsyncIterator[bytes]:
        yield head
        sent = 0
        async for block in source.chunks():
            sent += len(block)
            if sent > source.size:
                raise SourceReadError(
                    f"{name} grew while it was being uploaded ({source.size} bytes expected)"
                )
            yield block
        if sent != source.size:
            raise SourceReadError(
                f"{name} shrank while it was being uploaded ({sent} of {source.size} bytes)"
            )
        yield tail

    return headers, body
