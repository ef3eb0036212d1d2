"""A real S3-compatible server on loopback for tests: moto's server, started in-process.

Reuse from any test package::

    from tests._s3 import MotoS3, moto_s3_server

    @pytest.fixture(scope="session")
    def moto_s3() -> Iterator[MotoS3]:
        with moto_s3_server() as server:
            yield server

    def test_x(moto_s3):
        url = moto_s3.new_bucket_url()          # "s3://<fresh bucket>"
        opts = moto_s3.storage_options          # for fsspec/s3fs (and JobStore.open)

Only 127.0.0.1 is contacted; the credentials are dummies that moto accepts.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

KEY = "testing-key"
SECRET = "testing-secret-do-not-print"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class MotoS3:
    """A running moto server: its endpoint and the s3fs options that reach it."""

    endpoint_url: str
    storage_options: dict[str, Any] = field(default_factory=dict)

    def filesystem(self) -> Any:
        """A fresh (uncached) s3fs filesystem on this server."""
        import s3fs

        return s3fs.S3FileSystem(skip_instance_cache=True, **self.storage_options)

    def new_bucket_url(self) -> str:
        """Create a fresh bucket and return ``s3://<bucket>``."""
        bucket = f"t-{uuid.uuid4().hex[:20]}"
        self.filesystem().mkdir(bucket)
        return f"s3://{bucket}"


@contextlib.contextmanager
def moto_s3_server() -> Iterator[MotoS3]:
    """Start moto's S3 server on a free loopback port for the duration of the block."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request otherwise
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        yield MotoS3(
            endpoint_url=endpoint,
            storage_options={
                "key": KEY,
                "secret": SECRET,
                # No region_name: moto then creates buckets without a LocationConstraint.
                "client_kwargs": {"endpoint_url": endpoint},
            },
        )
    finally:
        server.stop()


@contextlib.contextmanager
def moto_s3_process() -> Iterator[MotoS3]:
    """moto's S3 server in a child process on a free loopback port.

    For clients that block in native code while holding the GIL (delta-rs): a server thread
    of the same process could never answer them. Ready when werkzeug says it is running.
    """
    import subprocess
    import sys

    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        for line in process.stderr:  # blocks until the server logs; no sleeping
            if "Running on" in line:
                break
        else:
            raise RuntimeError("moto.server exited before it was ready")
        # it logs a line per request: keep draining the pipe so it never blocks on a full one
        threading.Thread(target=process.stderr.read, daemon=True).start()
        endpoint = f"http://127.0.0.1:{port}"
        yield MotoS3(
            endpoint_url=endpoint,
            storage_options={
                "key": KEY,
                "secret": SECRET,
                "client_kwargs": {"endpoint_url": endpoint},
            },
        )
    finally:
        process.terminate()
        process.wait(timeout=30)
