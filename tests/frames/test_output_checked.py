"""An output that cannot be written fails with ``StoreError`` naming it before any request is
sent (no processor lookup, no upload, no batch), in the library and in the CLI.

CI runs as root, and root writes into a chmod-read-only folder: the cases that must fail for
everyone use paths no user can create (under ``/proc``, or under a regular file); the
permission case runs only for a non-root user.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import polars as pl
import pytest

import extend_frames as xf
from extend_frames.cli import main
from extend_frames.emulator import Emulator

from ..jobs.conftest import FAST, create_processor, make_client

ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0


def _unwritable(kind: str, tmp_path: Path) -> Path:
    if kind == "proc":
        return Path("/proc/extend-frames-out")
    if kind == "under-a-file":
        (tmp_path / "a-file").write_text("x")
        return tmp_path / "a-file" / "out"
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    return folder / "out"


KINDS = [
    "proc",
    "under-a-file",
    pytest.param(
        "read-only",
        marks=pytest.mark.skipif(ROOT_USER, reason="root can write into a read-only folder"),
    ),
]


@pytest.mark.parametrize("kind", KINDS)
def test_an_unwritable_output_fails_before_any_request(kind: str, tmp_path: Path) -> None:
    output = _unwritable(kind, tmp_path)
    with Emulator() as emu:
        extractor = create_processor(emu, "extractor")
        before = emu.stats()["requests_total"]
        with pytest.raises(xf.StoreError) as info:
            xf.extract(
                pl.DataFrame({"text": ["Invoice K-1"]}),
                processor=extractor,
                text_column="text",
                output=str(output),
                client=make_client(emu),
                polling=FAST,
                progress=False,
            )
        assert emu.stats()["requests_total"] == before  # nothing was sent
    assert str(output) in str(info.value)
    assert not isinstance(info.value, OSError)


def test_the_cli_says_so_in_one_line_with_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "in.csv"
    pl.DataFrame({"text": ["Invoice K-1"]}).write_csv(source)
    output = _unwritable("under-a-file", tmp_path)
    with Emulator() as emu:
        monkeypatch.setenv("EXTEND_API_KEY", emu.api_key)
        extractor = create_processor(emu, "extractor")
        before = emu.stats()["requests_total"]
        code = main(["extract", str(source), "--processor", extractor, "--text-column", "text",
                     "--output", str(output), "--base-url", emu.url, "--no-progress"])  # fmt: skip
        assert emu.stats()["requests_total"] == before
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" not in err
    assert str(output) in err
    assert len(err.strip().splitlines()) <= 3
