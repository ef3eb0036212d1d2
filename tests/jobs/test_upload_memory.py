"""Uploads are streamed: a job uploading a 320 MiB file peaks well under 1.5x its size.

Measured in a child process (its own peak RSS, ``resource.getrusage``), against the emulator
running in this process on loopback. The file is random bytes, so nothing compresses.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from extend_frames.emulator import Emulator, EmulatorConfig

SIZE = 320 * 2**20
CHILD = Path(__file__).with_name("_upload_child.py")


@pytest.mark.slow
def test_peak_rss_stays_under_1_5x_the_file_uploaded(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    sha = hashlib.sha256()
    with open(big, "wb") as fh:
        block = os.urandom(1 << 20)
        for i in range(SIZE >> 20):
            chunk = hashlib.sha256(block + i.to_bytes(4, "big")).digest() * (1 << 15)
            sha.update(chunk)
            fh.write(chunk)
    assert big.stat().st_size == SIZE
    with Emulator(EmulatorConfig(max_file_bytes=2 * SIZE)) as emu:
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
        done = subprocess.run(
            [sys.executable, str(CHILD), emu.url, emu.api_key, str(big), str(2 * SIZE)],
            capture_output=True,
            text=True,
            timeout=600,
            env=env,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        result = json.loads(done.stdout.strip().splitlines()[-1])
        files = emu.app.emulator.files
        (uploaded,) = files.values()
        assert len(uploaded.data) == SIZE  # the whole file arrived, byte for byte
        assert hashlib.sha256(uploaded.data).hexdigest() == sha.hexdigest()
    assert result["file_id"] == uploaded.id
    peak = result["peak_rss"]
    print(f"peak RSS {peak / 2**20:.0f} MiB for a {SIZE / 2**20:.0f} MiB upload")
    assert peak < 1.5 * SIZE, f"peak RSS {peak / 2**20:.0f} MiB"
