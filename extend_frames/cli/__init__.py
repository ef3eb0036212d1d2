"""The ``extend-frames`` command line: thin argument parsing over the public API.

Each subcommand lives in its own module exposing ``register(subparsers)`` (``cli/_parser.py``
calls them); the module sets ``func`` on its parser, which receives the parsed arguments and
returns the exit code or raises: ``main`` runs it under ``run_command`` (``cli/_run.py``), the
one rule for usage errors (2), library errors (1, 75) and Ctrl-C (130).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from extend_frames.cli._exit import EXIT_USAGE
from extend_frames.cli._parser import build_parser
from extend_frames.cli._run import run_command

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(verbose=args.verbose, quiet=args.quiet)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return EXIT_USAGE
    key_env = getattr(args, "api_key_env", None)
    return run_command(args.command, lambda: int(func(args)), key_env=key_env)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


def _configure_logging(*, verbose: bool, quiet: bool) -> None:
    """The library logs under ``extend_frames``: WARNING and up by default (Python's last-resort
    handler prints them on stderr), INFO with ``--verbose`` (through a stderr handler), ERROR
    only with ``--quiet``."""
    logger = logging.getLogger("extend_frames")
    if quiet:
        logger.setLevel(logging.ERROR)
    elif verbose:
        logger.setLevel(logging.INFO)
        if not any(isinstance(h, _Stderr) for h in logger.handlers):
            handler = _Stderr()
            handler.setFormatter(logging.Formatter("extend-frames: %(levelname)s: %(message)s"))
            logger.addHandler(handler)


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of the record (not at creation)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)
