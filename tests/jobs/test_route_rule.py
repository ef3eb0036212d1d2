"""The rule of route="auto", and the routes that cannot be taken (refused before any request)."""

from __future__ import annotations

import pytest

from extend_frames._errors import InputError
from extend_frames.jobs._route import MAX_SINGLE, choose_route, single_threshold


@pytest.mark.parametrize(
    ("rate", "threshold"), [(10.0, 50), (25.0, 100), (75.0, 100), (0.5, 2), (0.01, 1)]
)
def test_threshold_follows_the_run_rate_up_to_a_cap(rate: float, threshold: int) -> None:
    assert single_threshold(rate) == threshold
    assert single_threshold(rate) <= MAX_SINGLE


@pytest.mark.parametrize(
    ("route", "documents", "expected"),
    [
        ("auto", 1, "single"),
        ("auto", 50, "single"),
        ("auto", 51, "batch"),
        ("auto", 5000, "batch"),
        ("batch", 1, "batch"),
        ("single", 5000, "single"),
    ],
)
def test_choose_route_at_payg(route: str, documents: int, expected: str) -> None:
    got = choose_route(
        route, documents=documents, run_rate=10.0, operation="extract", has_text=True
    )
    assert got == expected


def test_text_to_parse_goes_by_batch_or_is_refused() -> None:
    assert (
        choose_route("auto", documents=3, run_rate=10.0, operation="parse", has_text=True)
        == "batch"
    )
    assert (
        choose_route("auto", documents=3, run_rate=10.0, operation="parse", has_text=False)
        == "single"
    )
    with pytest.raises(InputError, match='route="batch"'):
        choose_route("single", documents=3, run_rate=10.0, operation="parse", has_text=True)


def test_unknown_route_is_refused() -> None:
    with pytest.raises(InputError, match='"auto", "batch" or "single"'):
        choose_route("fast", documents=1, run_rate=10.0, operation="extract", has_text=False)
