"""The CLI speaks CLI: library messages name flags, a refused key names its variable, no
message leaves a quote open, and every subcommand's ``--help`` mentions only its own options."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

import extend_frames as xf
from extend_frames.cli import build_parser
from extend_frames.cli._words import cli_words, flags
from extend_frames.emulator import Emulator

from .conftest import Result, invoices

Cli = Callable[..., Result]


def _balanced(message: str) -> bool:
    return message.count('"') % 2 == 0 and message.count("`") % 2 == 0


def test_the_mapping_comes_from_the_parser() -> None:
    table = flags()
    for keyword, flag in {
        "file_column": "--file-column",
        "text_column": "--text-column",
        "output": "--output",
        "batch_size": "--batch-size",
        "max_wait": "--max-wait",
        "cache_key": "--cache-key",
        "mode": "--mode",
        "storage_options": None,  # no such flag: --storage-option is repeated, dest differs
    }.items():
        assert table.get(keyword) == flag if flag else keyword not in table
    assert (
        cli_words('Pass mode="overwrite" to replace it.') == "Pass --mode overwrite to replace it."
    )
    assert cli_words("file_column=... or text_column=...") == "--file-column or --text-column"
    assert cli_words("cache_key='etag' is not a column") == "--cache-key etag is not a column"
    assert cli_words("detach=True needs output= (x)") == "--detach needs --output (x)"
    assert cli_words("Polling(timeout=...) stays") == "Polling(timeout=...) stays"


def test_error_paths_name_flags_with_balanced_quotes(
    cli: Cli, extractor: str, truth: pl.DataFrame, tmp_path: Path
) -> None:
    for name, rows in (("a", invoices(truth).head(2)), ("b", invoices(truth).tail(2))):
        rows.write_csv(tmp_path / f"{name}.csv")
    out = tmp_path / "out"
    job = ("--processor", extractor, "--output", out)
    assert cli("extract", tmp_path / "a.csv", *job).code == 0
    messages = {
        "--mode overwrite": cli("extract", tmp_path / "b.csv", *job),
        "--file-column": cli("extract", tmp_path / "a.csv", *job, "--file-column", "nope"),
        "--cache-key": cli(
            "extract",
            tmp_path / "a.csv",
            "--processor",
            extractor,
            "--output",
            tmp_path / "o2",
            "--cache",
            tmp_path / "cache",
            "--cache-key",
            "nope",
        ),
        "--config": cli("parse", tmp_path / "a.csv", "--output", out, "--config", "{x"),
    }
    for flag, res in messages.items():
        assert res.code == 1, (flag, res.err)
        assert flag in res.err, res.err
        assert _balanced(res.err), res.err
        assert not re.search(r"\b[a-z_]+=", res.err), res.err


def test_a_refused_key_names_its_variable(
    cli: Cli, emulator: Emulator, truth: pl.DataFrame, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    invoices(truth).head(1).write_csv(tmp_path / "a.csv")
    monkeypatch.setenv("MY_EXTEND_KEY", "sk_wrong")
    res = cli("parse", tmp_path / "a.csv", "--output", tmp_path / "o", "--api-key-env",
              "MY_EXTEND_KEY")  # fmt: skip
    assert res.code == 1
    assert "the key in $MY_EXTEND_KEY was refused (401)" in res.err
    assert "sk_wrong" not in res.err
    assert emulator.stats()["inputs_submitted"] == 0


def _subcommands() -> dict[str, object]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.choices and isinstance(a.choices, dict))
    return dict(action.choices)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(_subcommands()))
def test_help_mentions_only_its_own_options(name: str) -> None:
    import argparse

    sub = _subcommands()[name]
    assert isinstance(sub, argparse.ArgumentParser)
    own = {s for a in sub._actions for s in a.option_strings}
    text = sub.format_help()
    mentioned: set[str] = set()
    for line in text.splitlines():
        # "extend-frames OTHER ... --flag" in an example is about that other command
        other = re.search(r"extend-frames ([a-z-]+)", line)
        if not (other and other.group(1) != name):
            mentioned |= set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", line))
    assert mentioned <= own, f"{name} --help mentions {sorted(mentioned - own)}"


def test_status_counts_pending_rows_and_shows_the_pinned_version(
    cli: Cli, emulator: Emulator, extractor: str, truth: pl.DataFrame, tmp_path: Path
) -> None:
    async def publish() -> None:
        async with xf.Client(api_key=emulator.api_key, base_url=emulator.url) as client:
            await client.publish_processor_version("extractor", extractor)

    asyncio.run(publish())  # 1.0: the job pins it
    rows = invoices(truth)
    rows.write_csv(tmp_path / "in.csv")
    out = tmp_path / "out"
    res = cli("extract", tmp_path / "in.csv", "--processor", extractor, "--output", out,
              "--batch-size", "2", "--detach")  # fmt: skip
    assert res.code == 4, res.err
    report = cli("status", out, "--json")
    data = json.loads(report.out)
    assert report.code == 4
    assert data["rows"] == rows.height
    assert data["by_status"] == {"PENDING": rows.height}
    assert data["processor_version"] == "1.0"
    text = cli("status", out).out
    assert f"rows: {rows.height} ({rows.height} PENDING)" in text
    assert f"{extractor}@{data['processor_version']}" in text
