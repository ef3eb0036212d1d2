"""The CLI's words for the library's messages: Python keywords become the flags that set them.

The library speaks its own interface (``file_column=``, ``mode="overwrite"``); at the CLI
boundary every error message goes through :func:`cli_words`, whose one mapping is derived from
the argparse definitions (an option's ``dest`` is the keyword it is passed to the library as),
plus the few library keywords a flag spells differently.
"""

from __future__ import annotations

import argparse
import functools
import re

from extend_frames._errors import AuthenticationError

#: Library keywords whose flag is not ``--`` + the keyword with dashes (not an argparse dest).
_ALIASES: dict[str, str] = {
    "api_key": "--api-key-env NAME",
    "rate_limits": "--rate-limit",
}

# ``name=`` followed by an optional value: "x" / 'x' / ... / True / a bare word.
_KEYWORD = re.compile(r"\b([a-z][a-z_]*)=(\"[^\"]*\"|'[^']*'|\.\.\.|True\b)?")


def _long_options(parser: argparse.ArgumentParser, into: dict[str, str]) -> None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _long_options(sub, into)
            continue
        longs = [s for s in action.option_strings if s.startswith("--")]
        if longs and action.dest not in ("help", "version"):
            into.setdefault(action.dest, longs[0])


@functools.cache
def flags() -> dict[str, str]:
    """Library keyword -> CLI flag, for every option of every subcommand."""
    from extend_frames.cli._parser import build_parser

    mapping: dict[str, str] = {}
    _long_options(build_parser(), mapping)
    return {**mapping, **_ALIASES}


def cli_words(message: str) -> str:
    """``message`` with each known ``keyword=value`` written as ``--flag value``."""
    table = flags()

    def swap(match: re.Match[str]) -> str:
        flag = table.get(match.group(1))
        if flag is None:
            return match.group(0)
        value = match.group(2)
        if value is None or value in ("...", "True"):
            return flag
        return f"{flag} {value[1:-1]}"

    return _KEYWORD.sub(swap, message)


def refused_key(exc: BaseException, key_env: str | None) -> str | None:
    """A 401 under ``--api-key-env X``: the message that names ``X``, else None."""
    if key_env is None or not isinstance(exc, AuthenticationError):
        return None
    status = getattr(exc, "status", None)
    code = f" ({status})" if status else ""
    return (
        f"the key in ${key_env} was refused{code}: check its value, or name another "
        "variable with --api-key-env NAME"
    )
