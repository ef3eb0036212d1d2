"""The few filesystem primitives the store needs, with the guarantee of each per backend.

- :meth:`Backend.write_atomic`: readers see the old object or the complete new one, never a
  prefix. Local disk: temp file in the destination folder, fsync, ``os.replace``, fsync of the
  folder. Object stores (s3, gcs, memory, ...): the complete bytes in one ``pipe_file`` (one PUT;
  s3fs switches to a multipart upload above 100 MB, which is also invisible until completed; a
  writer killed mid-upload leaves an incomplete upload that only a bucket lifecycle rule
  "abort incomplete multipart uploads" cleans up).
- :meth:`Backend.create_only`: fails with ``FileExistsError`` if the object exists. Local disk:
  the temp file is hard-linked to the final name (``link`` is atomic and refuses an existing
  target), so the object appears complete or not at all; where links are unsupported, ``O_EXCL``
  (a crash mid-write may then leave a torn object, which readers tolerate). S3: a conditional PUT
  (``If-None-Match: *``, supported by AWS S3 since 2024, MinIO and moto). memory://: check and
  write under a process-wide lock. Other fsspec backends: ``pipe_file(mode="create")``, which
  fsspec implements as exists-then-write where the backend has no native support (not atomic:
  callers that need exclusivity read the object back, see ``_lock.py``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from fsspec.implementations.local import LocalFileSystem
from fsspec.implementations.memory import MemoryFileSystem

from extend_frames._errors import StoreError
from extend_frames.store._paths import display_path, redact, temp_name

# Why a module global: fsspec's memory:// filesystem is one store per process, so its
# create-only writes (exists-then-write) need one process-wide lock to be atomic.
_MEMORY_LOCK = threading.Lock()


def _write_bytes(fd: int, data: bytes) -> None:
    """Write all of ``data`` to ``fd`` (a seam for tests that simulate a crash mid-write)."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _fsync_dir(path: str) -> None:
    """Make a rename/link in folder ``path`` durable (POSIX only; a no-op where unsupported)."""
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # some filesystems refuse fsync on a directory: nothing more we can do
        pass
    finally:
        os.close(fd)


def _local_write_new(path: str, data: bytes) -> None:
    """Create ``path`` exclusively, write ``data`` and fsync it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
    try:
        _write_bytes(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


class Backend:
    """One output location: an fsspec filesystem and the root path inside it."""

    def __init__(self, fs: Any, root: str, url: str) -> None:
        self.fs = fs
        self.root = root.rstrip("/") or "/"
        self.url = display_path(url)
        self.local = isinstance(fs, LocalFileSystem)
        self.memory = isinstance(fs, MemoryFileSystem)

    def path(self, *names: str) -> str:
        """The full (protocol-less) path of ``names`` under the root."""
        return "/".join([self.root.rstrip("/"), *names])

    def show(self, *names: str) -> str:
        """The display form (no credentials, no query) of ``names`` under the root."""
        return "/".join([self.url.rstrip("/"), *names])

    @contextlib.contextmanager
    def errors(self, action: str, *names: str) -> Iterator[None]:
        """Turn an unexpected OSError of ``action`` on ``names`` into a StoreError."""
        try:
            yield
        except FileExistsError:
            raise  # create_only's answer, for the caller to handle
        except FileNotFoundError as exc:
            raise StoreError(
                f"could not {action} {self.show(*names)}: the location does not exist. Check "
                "the output path (does the bucket exist?) and storage_options."
            ) from exc
        except OSError as exc:
            raise StoreError(
                f"could not {action} {self.show(*names)}: {type(exc).__name__}: "
                f"{redact(str(exc))}. Check that the output path is writable and that "
                "storage_options (credentials, endpoint) are right."
            ) from exc

    # -- writes ---------------------------------------------------------------------------

    def makedirs(self, *names: str) -> None:
        """Create the folder (local disk and memory://; object stores have no folders)."""
        if self.local or self.memory:
            self.fs.makedirs(self.path(*names), exist_ok=True)

    def write_atomic(self, data: bytes, *names: str) -> None:
        """Replace ``names`` with ``data`` so that no reader ever sees a partial object."""
        path = self.path(*names)
        if not self.local:
            self.fs.pipe_file(path, data)
            return
        folder, final = os.path.split(path)
        tmp = os.path.join(folder, temp_name(final))
        try:
            _local_write_new(tmp, data)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        _fsync_dir(folder)

    def create_only(self, data: bytes, *names: str) -> None:
        """Create ``names`` with ``data``; ``FileExistsError`` if it exists (see module doc)."""
        path = self.path(*names)
        if self.local:
            self._local_create_only(path, data)
        elif self.memory:
            with _MEMORY_LOCK:
                if self.fs.exists(path):
                    raise FileExistsError(errno.EEXIST, "exists", path)
                self.fs.pipe_file(path, data)
        else:
            try:
                self.fs.pipe_file(path, data, mode="create")
            except TypeError:  # a backend whose pipe_file predates fsspec's mode="create"
                if self.fs.exists(path):
                    raise FileExistsError(errno.EEXIST, "exists", path) from None
                self.fs.pipe_file(path, data)

    def _local_create_only(self, path: str, data: bytes) -> None:
        folder, final = os.path.split(path)
        tmp = os.path.join(folder, temp_name(final))
        try:
            _local_write_new(tmp, data)
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise
            except OSError as exc:  # no hard links here (some network/FAT filesystems)
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                    raise
                _local_write_new(path, data)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        _fsync_dir(folder)

    def delete(self, paths: Sequence[str]) -> None:
        """Delete ``paths`` (full paths; one bulk request on S3); missing ones are ignored."""
        if not paths:
            return
        try:
            self.fs.rm(list(paths))
        except FileNotFoundError:
            for path in paths:
                with contextlib.suppress(FileNotFoundError):
                    self.fs.rm_file(path)
        for path in paths:
            self.fs.invalidate_cache(path)

    def delete_tree(self, *names: str) -> None:
        """Delete the folder/prefix ``names`` and everything under it, if it exists."""
        path = self.path(*names)
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(path, recursive=True)
        self.fs.invalidate_cache(path)

    # -- reads ----------------------------------------------------------------------------

    def read(self, *names: str) -> bytes | None:
        """The bytes of ``names``, or None if it does not exist."""
        try:
            data: bytes = self.fs.cat_file(self.path(*names))
        except FileNotFoundError:
            return None
        return data

    def read_many(self, paths: Sequence[str]) -> dict[str, bytes | BaseException]:
        """The bytes (or the error) of every full path, by base name; concurrent on async stores."""
        if not paths:
            return {}
        got: dict[str, bytes | BaseException] = self.fs.cat(list(paths), on_error="return")
        return {p.rsplit("/", 1)[-1]: v for p, v in got.items()}

    def list(self, *names: str) -> list[str]:
        """Base names of the entries directly under ``names`` (fresh, never from a cache)."""
        path = self.path(*names)
        self.fs.invalidate_cache(path)
        try:
            entries = self.fs.ls(path, detail=False)
        except FileNotFoundError:
            return []
        out = [str(e).rstrip("/").rsplit("/", 1)[-1] for e in entries]
        return sorted({n for n in out if n})

    def exists(self, *names: str) -> bool:
        """Whether ``names`` exists now (not from a listing cache)."""
        path = self.path(*names)
        self.fs.invalidate_cache(path)
        return bool(self.fs.exists(path))
