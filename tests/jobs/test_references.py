"""References reach only what the user meant, and none can hang a job or flood its memory.

Each bad reference fails its own row (status FAILED, a reason, a message naming the file)
while the other rows of the same job complete. Loopback guards (listening sockets on
127.0.0.1 that record every connection) prove what the client does not connect to.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import extend_frames as xf
from extend_frames.emulator import Emulator

from .conftest import FAST, make_client


class Guard:
    """A TCP listener on 127.0.0.1 that counts connections; ``greeting`` is sent to each one
    (None: say nothing and hold the connection open, like a hung server)."""

    def __init__(self, greeting: bytes | None = None) -> None:
        self.greeting = greeting
        self.connections = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.05)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            if self.greeting is not None:
                conn.sendall(self.greeting)
            self.held.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for conn in self.held:
            conn.close()
        self.sock.close()


@pytest.fixture
def guard() -> Iterator[Guard]:
    g = Guard()
    yield g
    g.close()


def _doc(directory: Path, name: str, text: str = "Invoice number: OK-1") -> str:
    path = directory / name
    path.write_text(text)
    return str(path)


def _parse(emu: Emulator, files: list[str], **options: Any) -> pl.DataFrame:
    return xf.parse(
        pl.DataFrame({"file": files}),
        file_column="file",
        client=make_client(emu),
        polling=FAST,
        progress=False,
        **options,
    )


def _by_file(out: pl.DataFrame) -> dict[str, tuple[str, str | None, str | None]]:
    return {
        r["file"]: (r["status"], r["failure_reason"], r["failure_message"])
        for r in out.iter_rows(named=True)
    }


def test_fifo_socket_and_ftp_fail_per_row_while_the_rest_completes(
    tmp_path: Path, guard: Guard
) -> None:
    good = _doc(tmp_path, "good.txt")
    fifo = str(tmp_path / "pipe.pdf")
    os.mkfifo(fifo)  # opening it for reading would block forever: no writer
    sock_path = str(tmp_path / "sock.pdf")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(sock_path)
    ftp = f"ftp://127.0.0.1:{guard.port}/x.pdf"
    try:
        with Emulator() as emu:
            out = _parse(emu, [good, fifo, sock_path, ftp])
            uploads = emu.stats()["requests"].get("POST /files/upload", {})
    finally:
        listener.close()
    rows = _by_file(out)
    assert rows[good][0] == "PROCESSED"
    assert rows[fifo][:2] == ("FAILED", "FILE_NOT_READABLE")
    assert "a FIFO" in str(rows[fifo][2])
    assert rows[sock_path][:2] == ("FAILED", "FILE_NOT_READABLE")
    assert "a socket" in str(rows[sock_path][2])
    assert rows[ftp][:2] == ("FAILED", "REFERENCE_NOT_ALLOWED")
    assert "allowed_schemes" in str(rows[ftp][2])
    assert guard.connections == 0  # the client never connected to the ftp host
    assert uploads == {"200": 1}  # only the good file was uploaded


def test_allow_list_refuses_other_schemes_without_any_connection(
    tmp_path: Path, guard: Guard
) -> None:
    refs = [
        f"ftp://127.0.0.1:{guard.port}/a.pdf",
        f"sftp://127.0.0.1:{guard.port}/b.pdf",
        f"simplecache::ftp://127.0.0.1:{guard.port}/c.pdf",  # a chain is checked link by link
        f"webhdfs://127.0.0.1:{guard.port}/d.pdf",
    ]
    with Emulator() as emu:
        out = _parse(emu, [_doc(tmp_path, "ok.txt"), *refs])
    rows = _by_file(out)
    assert all(rows[r][:2] == ("FAILED", "REFERENCE_NOT_ALLOWED") for r in refs)
    assert guard.connections == 0


def test_http_urls_go_to_extend_and_are_never_fetched_by_the_client(guard: Guard) -> None:
    url = f"http://127.0.0.1:{guard.port}/doc.pdf"
    with Emulator() as emu:
        out = xf.parse(
            pl.DataFrame({"file": [url]}),
            file_column="file",
            client=make_client(emu),
            polling=FAST,
            progress=False,
        )
        stats = emu.stats()
    assert stats["requests"].get("POST /files/upload") is None  # nothing read and uploaded
    # the only connection the guard saw was the emulator downloading the URL for its run
    assert guard.connections == 1
    assert out.get_column("status").to_list() == ["FAILED"]  # the guard sends no document


def test_an_ftp_421_fails_its_row_not_the_job(tmp_path: Path) -> None:
    busy = Guard(b"421 Service not available, closing control connection.\r\n")
    try:
        ref = f"ftp://127.0.0.1:{busy.port}/x.pdf"
        with Emulator() as emu:
            out = _parse(emu, [_doc(tmp_path, "ok.txt"), ref], allowed_schemes=["ftp"])
    finally:
        busy.close()
    rows = _by_file(out)
    assert rows[ref][:2] == ("FAILED", "FILE_NOT_READABLE")
    assert "error_temp" in str(rows[ref][2]) or "421" in str(rows[ref][2])
    assert busy.connections >= 1  # allowed: the client did try
    assert rows[_doc(tmp_path, "ok.txt")][0] == "PROCESSED"


def test_a_hung_read_times_out_its_row(tmp_path: Path) -> None:
    silent = Guard(None)  # accepts, never greets: an FTP login that never finishes
    try:
        ref = f"ftp://127.0.0.1:{silent.port}/x.pdf"
        with Emulator() as emu:
            out = _parse(
                emu, [_doc(tmp_path, "ok.txt"), ref], allowed_schemes=["ftp"], read_timeout=0.5
            )
    finally:
        silent.close()
    rows = _by_file(out)
    assert rows[ref][:2] == ("FAILED", "FILE_NOT_READABLE")
    assert "read timeout" in str(rows[ref][2])


def test_local_root_confines_paths(tmp_path: Path) -> None:
    root = tmp_path / "inbox"
    root.mkdir()
    inside = _doc(root, "in.txt")
    outside = _doc(tmp_path, "secret.txt")
    link = root / "link.txt"
    link.symlink_to(outside)  # a symlink inside that points outside
    traversal = str(root / ".." / "secret.txt")
    with Emulator() as emu:
        out = _parse(emu, [inside, outside, str(link), traversal], local_root=str(root))
    rows = _by_file(out)
    assert rows[inside][0] == "PROCESSED"
    for ref in (outside, str(link), traversal):
        assert rows[ref][:2] == ("FAILED", "REFERENCE_NOT_ALLOWED"), ref
        assert "local_root" in str(rows[ref][2])


def test_files_over_the_size_limit_fail_without_upload(tmp_path: Path) -> None:
    small = _doc(tmp_path, "small.txt", "Invoice number: S")
    big = _doc(tmp_path, "big.txt", "x" * 5000)
    with Emulator() as emu:
        out = _parse(emu, [small, big], max_file_bytes=1000)
        uploads = emu.stats()["requests"].get("POST /files/upload", {})
    rows = _by_file(out)
    assert rows[small][0] == "PROCESSED"
    assert rows[big][:2] == ("FAILED", "FILE_SIZE_TOO_LARGE")
    assert uploads == {"200": 1}


def test_bad_read_options_are_refused_before_any_request() -> None:
    with pytest.raises(xf.InputError, match="allowed_schemes"):
        xf.parse(pl.DataFrame({"file": ["a.pdf"]}), file_column="file", allowed_schemes="ftp")
    with pytest.raises(xf.InputError, match="local_root"):
        xf.parse(pl.DataFrame({"file": ["a.pdf"]}), file_column="file", local_root="/nope/x")
