"""The ``extend-frames`` argument parser: every subcommand module's ``register(subparsers)``."""

from __future__ import annotations

import argparse

from extend_frames._version import __version__
from extend_frames.cli import _attach, _demo, _emulator, _jobs, _report, _samples
from extend_frames.cli._exit import codes_help

# Subcommand modules, in the order --help lists them.
_COMMANDS = (_demo, _jobs, _attach, _report, _emulator, _samples)


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
    for module in _COMMANDS:
        module.register(sub)
    return parser
