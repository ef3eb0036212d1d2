"""The CLI's one exit-code rule and the ``exit codes:`` blocks of ``--help`` that state it."""

from __future__ import annotations

import argparse
from collections.abc import Callable

import pytest

from extend_frames.cli import build_parser
from extend_frames.cli._exit import EXIT_CODES, EXIT_INCOMPLETE, outcome_code

from .conftest import Result

# Every command that waits on a job or a batch; each can end with rows PENDING (exit 4).
WAITING = ("parse", "extract", "classify", "split", "collect", "collect-batch")


def _codes_listed(help_text: str) -> set[int]:
    block = help_text.split("exit codes:\n", 1)[1]
    return {int(line.split()[0]) for line in block.splitlines() if line.strip()}


@pytest.mark.parametrize("command", WAITING)
def test_every_waiting_command_lists_exit_code_4(cli: Callable[..., Result], command: str) -> None:
    res = cli(command, "--help")
    assert res.code == 0
    assert EXIT_INCOMPLETE in _codes_listed(res.out), res.out
    assert f"    4  {EXIT_CODES[EXIT_INCOMPLETE]}"[:40] in res.out


def test_collect_batch_help_lists_the_same_codes_as_a_job(cli: Callable[..., Result]) -> None:
    assert _codes_listed(cli("collect-batch", "--help").out) == {0, 1, 2, 3, 4, 75, 130}
    assert _codes_listed(cli("extract", "--help").out) == {0, 1, 2, 3, 4, 75, 130}
    assert _codes_listed(cli("status", "--help").out) == {0, 1, 2, 3, 4}


def _options(command: str) -> dict[str, argparse.Action]:
    sub = next(
        a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    ).choices[command]
    return {s: a for a in sub._actions for s in a.option_strings}


@pytest.mark.parametrize("flag", ["--poll-initial", "--poll-max", "--json", "--no-progress"])
def test_collect_takes_the_job_commands_flags_as_declared_once(flag: str) -> None:
    job, collect = _options("extract")[flag], _options("collect")[flag]
    assert (collect.dest, collect.default, collect.type, collect.help) == (
        job.dest,
        job.default,
        job.type,
        job.help,
    )


@pytest.mark.parametrize(
    ("by_status", "complete", "code"),
    [
        ({"PROCESSED": 3}, None, 0),
        ({"PROCESSED": 2, "FAILED": 1}, None, 3),
        ({"PROCESSED": 2, "CANCELLED": 1}, None, 3),
        ({"PROCESSED": 2, "PENDING": 1, "FAILED": 1}, None, 4),
        ({"PROCESSED": 2, "PROCESSING": 1}, None, 4),
        ({"PROCESSED": 2}, False, 4),  # status: the ledger says not finished
        ({}, True, 0),
    ],
)
def test_one_rule_from_rows_to_exit_code(
    by_status: dict[str, int], complete: bool | None, code: int
) -> None:
    assert outcome_code(by_status, complete=complete) == code
