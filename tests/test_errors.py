"""The error model (extend_frames/_errors.py): one root, context attributes, and every class
marked transient or terminal, which is what the CLI's exit code follows."""

from __future__ import annotations

import asyncio
import inspect

import polars as pl
import pytest

import extend_frames as xf
from extend_frames import _errors
from extend_frames.cli._exit import (
    EXIT_CODES,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_TRANSIENT,
    exit_code_for,
)

TRANSIENT = {
    "RateLimitedError",
    "ServerError",
    "OutcomeUnknownError",
    "TransportError",
    "BatchTimeoutError",
}


def _classes() -> list[type[xf.ExtendError]]:
    return [
        c for _, c in inspect.getmembers(_errors, inspect.isclass) if issubclass(c, xf.ExtendError)
    ]


def test_every_class_is_marked_and_public() -> None:
    classes = _classes()
    assert {c.__name__ for c in classes} <= set(xf.__all__)
    for cls in classes:
        exc = cls("x")
        assert exc.transient is (cls.__name__ in TRANSIENT), cls
        expected = EXIT_TRANSIENT if cls.__name__ in TRANSIENT else EXIT_ERROR
        assert exit_code_for(exc) == expected, cls
        assert cls.__name__ in (_errors.__doc__ or ""), f"{cls} missing from the tree"


def test_retryable_api_errors_are_transient() -> None:
    assert xf.InvalidRequestError("bad", status=422).transient is False
    assert xf.InvalidRequestError("try again", status=409, retryable=True).transient is True
    assert exit_code_for(KeyboardInterrupt()) == EXIT_INTERRUPTED
    assert set(EXIT_CODES) == {0, 1, 2, 3, 4, 75, 130}


def test_batch_timeout_is_an_extend_error_and_a_timeout_with_its_batch() -> None:
    class Client:
        async def get_batch(self, batch_id: str) -> xf.BatchRun:
            return xf.BatchRun(id=batch_id, status="PROCESSING", run_count=1, created_at=None)

    waiter = xf.jobs.PollingWaiter(xf.Polling(initial=0.0, maximum=0.0, jitter=0, timeout=0.0))
    with pytest.raises(xf.BatchTimeoutError) as info:
        asyncio.run(waiter.wait(Client(), "bpr_slow"))  # type: ignore[arg-type]
    assert isinstance(info.value, TimeoutError)
    assert info.value.batch_id == "bpr_slow"
    assert info.value.transient


def test_errors_carry_rows_and_paths(tmp_path: object) -> None:
    df = pl.DataFrame({"file": ["https://x.test/a.pdf", "https://x.test/b.pdf"], "k": [1, 1]})
    with pytest.raises(xf.InputError) as info:
        xf.parse(df, key="k")
    assert info.value.rows == (0, 1)
    with pytest.raises(xf.StoreError) as stored:
        xf.collect(str(tmp_path))
    assert stored.value.path == str(tmp_path)
