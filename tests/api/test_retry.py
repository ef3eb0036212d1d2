"""The pure retry rule, Retry-After parsing, backoff bounds and the retry budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from extend_frames._errors import InputError
from extend_frames.api import (
    Decision,
    Failure,
    RequestKind,
    RetryBudget,
    RetryPolicy,
    decide,
    parse_retry_after,
)

R, F, U = Decision.RETRY, Decision.FAIL, Decision.UNKNOWN
READ, DELETE, REPEAT, CREATE = (
    RequestKind.READ,
    RequestKind.DELETE,
    RequestKind.REPEATABLE,
    RequestKind.CREATE,
)

# (status, retryable flag in the body) -> expected decision for READ, DELETE, REPEATABLE, CREATE
STATUS_MATRIX = [
    (400, None, (F, F, F, F)),
    (400, False, (F, F, F, F)),
    (401, None, (F, F, F, F)),
    (402, False, (F, F, F, F)),
    (403, None, (F, F, F, F)),
    (404, False, (F, F, F, F)),
    (409, True, (R, R, R, R)),  # a rejection the server says may succeed later
    (422, False, (F, F, F, F)),
    (408, None, (R, R, R, U)),
    (429, True, (R, R, R, R)),
    (429, None, (R, R, R, R)),
    (429, False, (R, R, R, R)),  # 429 always means "not processed"
    (500, True, (R, R, R, U)),
    (500, None, (R, R, R, U)),
    (500, False, (F, F, F, U)),  # a create that answered 5xx may still have been applied
    (502, None, (R, R, R, U)),
    (503, True, (R, R, R, U)),
    (504, None, (R, R, R, U)),
    (301, None, (F, F, F, F)),
]


@pytest.mark.parametrize(("status", "retryable", "expected"), STATUS_MATRIX)
def test_status_matrix(status: int, retryable: bool | None, expected: tuple[Decision, ...]) -> None:
    got = tuple(
        decide(kind, status=status, retryable=retryable) for kind in (READ, DELETE, REPEAT, CREATE)
    )
    assert got == expected


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (Failure.NOT_SENT, (R, R, R, R)),  # connect error: provably never accepted
        (Failure.AMBIGUOUS, (R, R, R, U)),  # read timeout / dropped connection after send
    ],
)
def test_transport_matrix(failure: Failure, expected: tuple[Decision, ...]) -> None:
    got = tuple(decide(kind, failure=failure) for kind in (READ, DELETE, REPEAT, CREATE))
    assert got == expected


def test_decide_needs_a_status_or_a_failure() -> None:
    with pytest.raises(InputError):
        decide(READ)


NOW = datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3", 3.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("1.5", 1.5),
        (format_datetime(NOW + timedelta(seconds=12), usegmt=True), 12.0),
        (format_datetime(NOW - timedelta(seconds=30), usegmt=True), 0.0),  # already past
        ("99999", 60.0),  # capped
        (format_datetime(NOW + timedelta(days=2), usegmt=True), 60.0),  # capped
        ("soon", None),
        ("", None),
        ("-5", None),
        ("nan", None),
        ("inf", None),
        ("Wed, 99 Foo 2026 25:61:00 GMT", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW, cap=60.0) == expected


def test_full_jitter_backoff_bounds() -> None:
    policy = RetryPolicy(base=0.5, cap=8.0)
    assert [policy.backoff(n, rng=lambda: 1.0) for n in range(1, 7)] == [
        0.5,
        1.0,
        2.0,
        4.0,
        8.0,
        8.0,
    ]
    assert policy.backoff(3, rng=lambda: 0.0) == 0.0
    assert 0.0 <= policy.backoff(4) <= 4.0


def test_budget_runs_out_and_refills() -> None:
    budget = RetryBudget(capacity=3, per_second=1.0, ratio=0.0)
    assert [budget.try_spend(0.0) for _ in range(4)] == [True, True, True, False]
    assert not budget.try_spend(0.5)
    assert budget.try_spend(1.6)  # one retry refilled after a second


def test_budget_earns_a_share_of_first_attempts() -> None:
    budget = RetryBudget(capacity=10, per_second=0.0, ratio=0.5)
    while budget.try_spend(0.0):
        pass
    for _ in range(4):
        budget.record_attempt(0.0)
    assert budget.available(0.0) == pytest.approx(2.0)


@pytest.mark.parametrize(
    "kwargs",
    [{"attempts": 0}, {"attempts": 1.5}, {"base": -1.0}, {"deadline": float("nan")}],
)
def test_policy_validates(kwargs: dict[str, float]) -> None:
    with pytest.raises(InputError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
