"""Shared fixtures. Tests reach only loopback; nothing here touches the internet."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conformance._tap import tapping


@pytest.fixture(autouse=True)
def strict_emulator_responses(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every response an in-process emulator sends during a test is validated strictly
    against the extend-ai SDK's types (tests/conformance); a finding fails the test.
    Opt out with ``@pytest.mark.lenient_wire`` (tests that break responses on purpose)."""
    if request.node.get_closest_marker("lenient_wire"):
        yield
        return
    with tapping() as tap:
        yield
    if tap.found:
        pytest.fail(f"emulator responses off the SDK types:\n{tap.report()}", pytrace=False)
