"""How a command ends: its result's exit code, or the one rule for what ends it early.

``main`` runs every command through :func:`run_command`, so the commands only raise; the
messages are in the CLI's words (``cli/_words.py``), the codes from ``cli/_exit.py``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from extend_frames._errors import ExtendError
from extend_frames.cli._exit import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_TRANSIENT,
    EXIT_USAGE,
    UsageError,
    exit_code_for,
)
from extend_frames.cli._words import cli_words, refused_key


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


def fail(command: str, exc: BaseException | str, *, key_env: str | None = None) -> int:
    """Print ``extend-frames COMMAND: error: ...`` on stderr; return the exit code.

    The message is in the CLI's words (flags, not the library's keywords); a 401 under
    ``--api-key-env NAME`` (``key_env``) names the variable whose key was refused.
    """
    if isinstance(exc, str):
        message, code = cli_words(exc), EXIT_ERROR
    else:
        refused = refused_key(exc, key_env)
        message = refused or cli_words(" ".join([str(exc), *getattr(exc, "__notes__", ())]))
        code = exit_code_for(exc)
    kind = "transient error" if code == EXIT_TRANSIENT else "error"
    print(f"extend-frames {command}: {kind}: {message}", file=sys.stderr)
    return code
