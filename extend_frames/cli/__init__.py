"""The ``extend-frames`` command line: thin argument parsing over the public API.

Each subcommand lives in its own module exposing ``register(subparsers)``; the module sets
``func`` on its parser, which receives the parsed arguments and returns the exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from extend_frames.cli._exit import EXIT_USAGE, codes_help

# Subcommand modules, in the order --help lists them.
_COMMANDS: tuple[str, ...] = ("_demo", "_jobs", "_attach", "_emulator", "_samples")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="extend-frames",
        description="Run Extend's document processing over a table of files, "
        "or serve a local Extend-compatible emulator.",
        epilog="Start with 'extend-frames demo' (offline). 'extend-frames COMMAND --help' "
        "shows each command's options and examples.\n\n" + codes_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMANDS:
        importlib.import_module(f"extend_frames.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return EXIT_USAGE
    code: int = func(args)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
