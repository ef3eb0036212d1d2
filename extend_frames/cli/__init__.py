"""The ``extend-frames`` command line: thin argument parsing over the public API.

Each subcommand lives in its own module exposing ``register(subparsers)``; the module sets
``func`` on its parser, which receives the parsed arguments and returns the exit code.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from extend_frames._version import __version__
from extend_frames.cli._exit import EXIT_USAGE, codes_help

# Subcommand modules, in the order --help lists them.
_COMMANDS: tuple[str, ...] = ("_demo", "_jobs", "_attach", "_report", "_emulator", "_samples")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="extend-frames",
        description="Run Extend's document processing over a table of files, "
        "or serve a local Extend-compatible emulator.",
        epilog="Start with 'extend-frames demo' (offline). 'extend-frames COMMAND --help' "
        "shows each command's options and examples.\n\n" + codes_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"extend-frames {__version__}")
    talk = parser.add_mutually_exclusive_group()
    talk.add_argument(
        "-v", "--verbose", action="store_true", help="log progress details (INFO) on stderr"
    )
    talk.add_argument("-q", "--quiet", action="store_true", help="log errors only")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMANDS:
        importlib.import_module(f"extend_frames.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(verbose=args.verbose, quiet=args.quiet)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return EXIT_USAGE
    code: int = func(args)
    return code


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
