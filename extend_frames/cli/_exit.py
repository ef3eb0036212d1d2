"""The CLI's exit codes, in one place: what each means, and which one an error maps to.

Errors map through their marking (``ExtendError.transient``): a transient error (network,
429, 5xx, an ambiguous create, a batch timeout) exits 75, so a scheduler can retry the same
command later, and the rerun resumes; a terminal one (bad input, authentication, credits, a
path in use by another job) exits 1: change something first.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping

from extend_frames._errors import ExtendError
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


class UsageError(Exception):
    """Arguments argparse cannot check on its own (exit code 2, like argparse's)."""


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


def run_command(command: str, body: Callable[[], int], *, key_env: str | None = None) -> int:
    """Run a command's ``body`` under the CLI's one rule for what ends it early: a usage
    error exits 2, an :class:`ExtendError` 1 or 75 (:func:`fail`), Ctrl-C 130 with the hint
    to rerun the same command."""
    try:
        return body()
    except UsageError as exc:
        print(f"extend-frames {command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ExtendError as exc:
        return fail(command, exc, key_env=key_env)
    except KeyboardInterrupt:
        print(
            f"extend-frames {command}: interrupted; rerun the same command to resume",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED


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


def fail(command: str, exc: BaseException | str, *, key_env: str | None = None) -> int:
    """Print ``extend-frames COMMAND: error: ...`` on stderr; return the exit code.

    The message is in the CLI's words (flags, not the library's keywords); a 401 under
    ``--api-key-env NAME`` (``key_env``) names the variable whose key was refused.
    """
    from extend_frames.cli._words import cli_words, refused_key

    if isinstance(exc, str):
        message, code = cli_words(exc), EXIT_ERROR
    else:
        refused = refused_key(exc, key_env)
        message = refused or cli_words(" ".join([str(exc), *getattr(exc, "__notes__", ())]))
        code = exit_code_for(exc)
    kind = "transient error" if code == EXIT_TRANSIENT else "error"
    print(f"extend-frames {command}: {kind}: {message}", file=sys.stderr)
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
