"""Reading the documents a job uploads: only what the user meant, never hanging, never whole.

A local or fsspec reference is *probed* before any byte is read (:func:`open_source`):

- its scheme must be on the allow-list (local paths, ``file``, and the object stores ``s3``,
  ``gs``, ``az``, ``abfs``, ``memory`` and their aliases; more with ``allowed_schemes=``).
  Anything else (``ftp://``, ``sftp://``, ``http://`` through fsspec...) is refused before any
  connection: a table row must not make the client reach an arbitrary host. ``http(s)`` URLs
  never get here: they are passed to Extend, which downloads them;
- with ``local_root``, a local path must resolve (symlinks followed) inside that directory;
- it must be a regular file (``os.stat`` + ``S_ISREG``, fsspec ``info()["type"] == "file"``):
  FIFOs, sockets, devices and directories are refused (a FIFO blocks ``open`` forever);
- its size must be at most ``max_bytes`` (``FILE_SIZE_TOO_LARGE``, nothing uploaded).

Every blocking call (stat, open, each block read) runs in its own daemon thread with a
``timeout``: a hung read fails that row with a clear reason instead of the job, and cannot keep
the interpreter from exiting. Any exception while reading becomes :class:`SourceReadError`
(``ftplib.error_temp`` is not an ``OSError``). The bytes are streamed in 1 MiB blocks and hashed
(sha256) on the way, so the client holds at most a block or two per upload in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import stat
import threading
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from dataclasses import dataclass
from typing import IO, Any, TypeVar

from extend_frames._errors import InputError
from extend_frames.api import SourceReadError

__all__ = [
    "DEFAULT_SCHEMES",
    "MAX_FILE_BYTES",
    "READ_TIMEOUT",
    "FileSource",
    "ReadPolicy",
    "SourceRefusedError",
    "in_thread",
    "open_source",
]

T = TypeVar("T")

#: Schemes the client reads itself by default: local files and the object stores.
DEFAULT_SCHEMES = frozenset(
    {"file", "local", "memory", "s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl"}
)
BLOCK = 1 << 20
#: The default largest upload. Extend does not publish its limit; the emulator's is 100 MiB.
MAX_FILE_BYTES = 100 * 2**20
#: The default bound of each blocking read call (stat, open, one block), in seconds.
READ_TIMEOUT = 60.0
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


@dataclass(frozen=True, slots=True)
class ReadPolicy:
    """What the client may read, and for how long (see the module docstring).

    ``allowed_schemes`` extends :data:`DEFAULT_SCHEMES`; ``local_root`` confines local paths
    to one directory; ``max_bytes`` is the largest file uploaded (Extend's limit is not
    published; the emulator's is 100 MiB); ``timeout`` bounds each blocking read call.
    """

    allowed_schemes: frozenset[str] = frozenset()
    local_root: str | None = None
    max_bytes: int = MAX_FILE_BYTES
    timeout: float = READ_TIMEOUT

    @classmethod
    def of(
        cls,
        *,
        allowed_schemes: Collection[str] | None = None,
        local_root: str | os.PathLike[str] | None = None,
        max_bytes: int | None = None,
        timeout: float | None = None,
    ) -> ReadPolicy:
        d = cls()
        return cls(
            frozenset(s.lower() for s in allowed_schemes or ()),
            os.path.realpath(os.path.expanduser(os.fspath(local_root))) if local_root else None,
            d.max_bytes if max_bytes is None else max_bytes,
            d.timeout if timeout is None else timeout,
        )

    def allows(self, scheme: str) -> bool:
        return scheme in DEFAULT_SCHEMES or scheme in self.allowed_schemes


class SourceRefusedError(InputError):
    """A reference the client will not read: ``reason`` is the row's failure reason.

    Terminal (an :class:`InputError`: allow the scheme, move the file, raise the limit). The
    engine turns it into the row's failure; it never ends a job.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


async def in_thread(limit: float, what: str, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a fresh daemon thread, waited for at most ``limit`` seconds.

    Not the loop's default executor: a call that never returns (a hung network filesystem)
    would block the loop's shutdown there. Any exception becomes :class:`SourceReadError`.
    """
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()

    def settle(value: T | None, error: BaseException | None) -> None:
        if done.done():
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(value)  # type: ignore[arg-type]

    def run() -> None:
        try:
            value, error = fn(*args), None
        except BaseException as exc:
            value, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
            loop.call_soon_threadsafe(settle, value, error)

    threading.Thread(target=run, name="extend-frames-read", daemon=True).start()
    try:
        return await asyncio.wait_for(done, limit)
    except TimeoutError:
        raise SourceReadError(f"{what}: no answer within {limit:g} s (read timeout)") from None
    except SourceReadError:
        raise
    except Exception as exc:
        detail = f"{type(exc).__name__}: {exc}".rstrip(": ")
        raise SourceReadError(f"{what}: {detail}") from None


class FileSource:
    """A probed file as an upload source: streamed in blocks, sha256 computed on the way."""

    def __init__(
        self, path: str, size: int, opener: Callable[[], IO[bytes]], timeout: float
    ) -> None:
        self.path = path
        self.name = path.rstrip("/").rsplit("/", 1)[-1] or "document"
        self._size = size
        self._opener = opener
        self._timeout = timeout
        self.sha256: str | None = None  # hex digest of the bytes of the last complete pass

    @property
    def size(self) -> int:
        return self._size

    def open(self) -> IO[bytes]:
        """The file, opened for reading (blocking; for callers already off the loop)."""
        return self._opener()

    async def chunks(self) -> AsyncIterator[bytes]:
        digest = hashlib.sha256()
        what = f"cannot read {self.path}"
        fh = await in_thread(self._timeout, what, self._opener)
        try:
            while block := await in_thread(self._timeout, what, fh.read, BLOCK):
                digest.update(block)
                yield block
        finally:
            threading.Thread(target=_close, args=(fh,), daemon=True).start()
        self.sha256 = digest.hexdigest()


def _close(fh: IO[bytes]) -> None:
    with contextlib.suppress(Exception):  # closing a file we only read: nothing to report
        fh.close()


def scheme_of(path: str) -> str | None:
    """The (first) scheme of ``path``, lower case; None for a plain local path."""
    m = _SCHEME.match(path)
    return m.group(1).lower() if m else None


def check_scheme(path: str, policy: ReadPolicy) -> None:
    """Refuse a reference whose scheme (any part of an fsspec chain) is not allowed."""
    for part in path.split("::"):
        scheme = scheme_of(part)
        if scheme is not None and not policy.allows(scheme):
            raise SourceRefusedError(
                "REFERENCE_NOT_ALLOWED",
                f"the client does not read {scheme}:// references (allowed: local paths and "
                f"{', '.join(sorted(DEFAULT_SCHEMES | policy.allowed_schemes))}); pass a URL "
                "Extend can download (https://...), or allow the scheme with "
                f"allowed_schemes=[{scheme!r}]",
            )


def probe(path: str, policy: ReadPolicy, storage_options: Mapping[str, Any] | None) -> FileSource:
    """Blocking: check ``path`` (module docstring) and return a source ready to stream."""
    check_scheme(path, policy)
    scheme = scheme_of(path)
    if scheme is None or (scheme in ("file", "local") and "::" not in path):
        local = path if scheme is None else path.split("://", 1)[1]
        real = os.path.realpath(local)
        if (
            policy.local_root is not None
            and os.path.commonpath([real, policy.local_root]) != policy.local_root
        ):
            raise SourceRefusedError(
                "REFERENCE_NOT_ALLOWED",
                f"{path} is outside local_root ({policy.local_root}); only files under it are read",
            )
        info = os.stat(real)
        if not stat.S_ISREG(info.st_mode):
            raise SourceRefusedError(
                "FILE_NOT_READABLE", f"{path} is not a regular file ({_kind(info.st_mode)})"
            )
        size = info.st_size
        source = FileSource(path, size, lambda: open(real, "rb"), policy.timeout)  # noqa: SIM115
    else:
        import fsspec

        fs, inner = fsspec.core.url_to_fs(path, **dict(storage_options or {}))
        details = fs.info(inner)
        if details.get("type") != "file":
            raise SourceRefusedError(
                "FILE_NOT_READABLE", f"{path} is not a file (a {details.get('type')})"
            )
        size = int(details.get("size") or 0)
        source = FileSource(path, size, lambda: fs.open(inner, "rb"), policy.timeout)
    if size > policy.max_bytes:
        raise SourceRefusedError(
            "FILE_SIZE_TOO_LARGE",
            f"{path} is {size:,} bytes, over the {policy.max_bytes:,}-byte limit; not uploaded "
            "(raise max_file_bytes= if your Extend plan takes larger files)",
        )
    return source


async def open_source(
    path: str, policy: ReadPolicy, storage_options: Mapping[str, Any] | None
) -> FileSource:
    """:func:`probe` off the event loop, bounded by the policy's timeout. Raises
    :class:`SourceRefusedError` (a refusal) or :class:`SourceReadError` (a failed read)."""
    check_scheme(path, policy)  # before any thread or connection
    result = await in_thread(
        policy.timeout, f"cannot read {path}", _probe_or_refusal, path, policy, storage_options
    )
    if isinstance(result, SourceRefusedError):
        raise result
    return result


def _probe_or_refusal(
    path: str, policy: ReadPolicy, storage_options: Mapping[str, Any] | None
) -> FileSource | SourceRefusedError:
    try:
        return probe(path, policy, storage_options)
    except SourceRefusedError as refusal:  # a decision, not a read failure: keep its reason
        return refusal


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a directory"),
    ):
        if test(mode):
            return name
    return "not a regular file"
