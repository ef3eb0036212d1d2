"""Shared fixtures. Tests reach only loopback; nothing here touches the internet."""

from __future__ import annotations

import os
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


#: The integration tests of the dev environment (the others run in their nox sessions). On CI
#: (``CI=true``, as CI runs ``.ci/run``) none of them may skip, for want of a package or of
#: Java: a skip there fails, naming its reason. Locally a skip stays a skip.
_MUST_RUN_ON_CI = ("tests/spark/", "tests/test_dbt.py", "tests/integrations/")


def _fail_skip_on_ci(report: pytest.CollectReport | pytest.TestReport) -> None:
    if not (report.skipped and os.environ.get("CI") and report.nodeid.startswith(_MUST_RUN_ON_CI)):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = (
        f"{reason}: on CI every integration test must run (scripts/test.sh installs what "
        "they need; see docs/guides/orchestrators.md)"
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    _fail_skip_on_ci(outcome.get_result())  # type: ignore[attr-defined]


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    outcome = yield
    _fail_skip_on_ci(outcome.get_result())  # type: ignore[attr-defined]
