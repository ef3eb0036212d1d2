"""The sync twins (``xf.extract``, ...) raise the job's own error, as the async twin would.

Without a running loop they use ``asyncio.run``; that call must not sit inside the ``except``
that noticed there was no loop, or every error a user sees reads "During handling of the
above exception (no running event loop), another exception occurred".
"""

from __future__ import annotations

import asyncio
import traceback

import polars as pl
import pytest

import extend_frames as xf


def _refused_call() -> None:
    """A call refused before any request: extract without a processor."""
    frame = pl.DataFrame({"text": ["hello"]})
    client = xf.Client(api_key="sk_test", base_url="http://127.0.0.1:9")  # never contacted
    xf.extract(frame, processor=None, text_column="text", client=client)  # type: ignore[arg-type]


def _assert_unchained(error: BaseException) -> None:
    assert error.__context__ is None
    assert error.__cause__ is None
    text = "".join(traceback.format_exception(error))
    assert "During handling of the above exception" not in text
    assert "no running event loop" not in text


def test_without_a_running_loop_the_error_is_not_chained_to_the_loop_probe() -> None:
    with pytest.raises(xf.InputError, match="processor=") as info:
        _refused_call()
    _assert_unchained(info.value)


def test_under_a_running_loop_the_error_is_not_chained_either() -> None:
    async def main() -> BaseException:
        try:
            _refused_call()
        except xf.InputError as exc:
            return exc
        raise AssertionError("the call was not refused")

    _assert_unchained(asyncio.run(main()))
