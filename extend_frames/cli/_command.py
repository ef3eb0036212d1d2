"""How a subcommand is registered: its help text's layout, in one place."""

from __future__ import annotations

import argparse
import textwrap
from typing import Any

#: Descriptions are wrapped to this width; epilogs (examples, exit codes) keep their lines.
_WIDTH = 79


def add_command(
    subparsers: Any, name: str, doc: str, epilog: str | None = None
) -> argparse.ArgumentParser:
    """Register the subcommand ``name``. ``doc`` is its help: a one-line summary (what
    ``extend-frames --help`` lists), a blank line, then the description, whose paragraphs are
    wrapped. ``epilog`` (examples, the exit codes) is printed as written."""
    summary, _, description = textwrap.dedent(doc).strip().partition("\n\n")
    paragraphs = [
        textwrap.fill(" ".join(p.split()), _WIDTH, break_on_hyphens=False)
        for p in description.split("\n\n")
    ]
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name,
        help=summary,
        description="\n\n".join(paragraphs) if description else summary,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser
