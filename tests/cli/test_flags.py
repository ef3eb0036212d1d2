"""Top-level flags: ``--version``, and ``--verbose`` / ``--quiet`` controlling the library's
logging."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

import extend_frames as xf

from .conftest import Result


def test_version(cli: Callable[..., Result]) -> None:
    res = cli("--version")
    assert res.code == 0
    assert res.out.strip() == f"extend-frames {xf.__version__}"


@pytest.mark.parametrize(
    ("flag", "level"),
    [("--verbose", logging.INFO), ("--quiet", logging.ERROR)],
)
def test_verbose_and_quiet_set_the_library_log_level(
    cli: Callable[..., Result], flag: str, level: int
) -> None:
    logger = logging.getLogger("extend_frames")
    before = logger.level
    try:
        cli(flag, "status", "no-such-output")
        assert logger.level == level
    finally:
        logger.setLevel(before)
        for handler in [h for h in logger.handlers if type(h).__name__ == "_Stderr"]:
            logger.removeHandler(handler)


def test_verbose_and_quiet_exclude_each_other(cli: Callable[..., Result]) -> None:
    res = cli("--verbose", "--quiet", "status", "x")
    assert res.code == 2
    assert "not allowed with argument" in res.err
