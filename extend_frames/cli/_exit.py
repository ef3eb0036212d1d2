"""The CLI's exit codes, in one place: what each means, which one an error maps to, and the
one rule from a result's rows to a code (``outcome_code``).

Errors map through their marking (``ExtendError.transient``): a transient error (network,
429, 5xx, an ambiguous create, a batch timeout) exits 75, so a scheduler can retry the same
command later, and the rerun resumes; a terminal one (bad input, authentication, credits, a
path in use by another job) exits 1: change something first.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

from extend_frames._errors import ExtendError, InputError
from extend_frames.api._models import NON_TERMINAL

EXIT_OK = 0  # complete, no FAILED/CANCELLED row
EXIT_ERROR = 1  # a terminal error: bad input, API refusal, store error; fix, then rerun
EXIT_USAGE = 2  # bad arguments (argparse)
EXIT_ROWS_FAILED = 3  # complete, but some rows FAILED or CANCELLED (they are in the output)
EXIT_INCOMPLETE = 4  # rows still PENDING (--max-wait, --detach), or status: not finished
EXIT_TRANSIENT = 75  # a transient error (EX_TEMPFAIL): rerun the same command later
EXIT_INTERRUPTED = 130  # Ctrl-C / SIGINT (128 + 2): rerun the same command to resume

#: Every exit code and what it means (``--help`` and the README show this table).
EXIT_CODES: dict[int, str] = {
    EXIT_OK: "complete, every row PROCESSED",
    EXIT_ERROR: "terminal error: unreadable input, bad column/processor, authentication, "
    "credits, store error (message on stderr); fix it, then rerun",
    EXIT_USAGE: "usage error (bad arguments)",
    EXIT_ROWS_FAILED: "complete, but some rows FAILED or CANCELLED (in the output, with a reason)",
    EXIT_INCOMPLETE: "not finished: rows still PENDING (a bounded wait, or a detached job; "
    "finish with extend-frames collect OUTPUT), or for status: not complete yet",
    EXIT_TRANSIENT: "transient error: network, rate limit, server error, ambiguous submission "
    "or batch timeout; rerun the same command later (it resumes)",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C, SIGINT): nothing more was submitted; rerun the same "
    "command to resume",
}


class UsageError(InputError):
    """Arguments argparse cannot check on its own (exit code 2, like argparse's; the CLI
    catches it first; other input errors exit 1)."""


def outcome_code(by_status: Mapping[str, int], *, complete: bool | None = None) -> int:
    """The one rule from a result's rows to the exit code: not finished (``complete`` is False,
    or, when not given, a row is still PENDING/PROCESSING) exits 4; finished with a FAILED or
    CANCELLED row exits 3; else 0.

    >>> outcome_code({"PROCESSED": 2, "FAILED": 1}), outcome_code({"PENDING": 1, "FAILED": 1})
    (3, 4)
    """
    if complete is None:
        complete = not any(by_status.get(status, 0) for status in NON_TERMINAL)
    if not complete:
        return EXIT_INCOMPLETE
    if any(by_status.get(status, 0) for status in ("FAILED", "CANCELLED")):
        return EXIT_ROWS_FAILED
    return EXIT_OK


def exit_code_for(exc: BaseException) -> int:
    """The exit code an exception ends the command with."""
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, ExtendError) and exc.transient:
        return EXIT_TRANSIENT
    return EXIT_ERROR


def codes_help(*codes: int) -> str:
    """The ``exit codes:`` block of a command's ``--help`` (all codes when none are named)."""
    lines = [f"  {code:>3}  {EXIT_CODES[code]}" for code in (codes or tuple(EXIT_CODES))]
    return "exit codes:\n" + "\n".join(lines)


def missing_extra(command: str, exc: ImportError, code: int = EXIT_ERROR) -> int:
    """Say which extra a command needs (the emulator's) and return ``code``."""
    print(
        f"extend-frames {command} needs the emulator extra ({exc.name} is missing): "
        "pip install 'extend-frames[emulator]'",
        file=sys.stderr,
    )
    return code


#: The ``exit codes:`` block of every command that runs a job or reads a batch (each can
#: return 4: a bounded wait leaves rows PENDING).
JOB_CODES_HELP = codes_help(
    EXIT_OK,
    EXIT_ERROR,
    EXIT_USAGE,
    EXIT_ROWS_FAILED,
    EXIT_INCOMPLETE,
    EXIT_TRANSIENT,
    EXIT_INTERRUPTED,
)
