"""One SparkSession for the whole test process (``local[2]``, see _session.py), or a skip
with the reason when PySpark or Java is missing. Every Spark test module is in the xdist
group ``spark`` (scripts/test.sh runs ``--dist loadgroup``), so one worker owns the JVM."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.jobs.test_resume import remote_emulator  # noqa: F401 (the emulator in its own process)
from tests.spark import _session


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    pytest.importorskip("pyspark", reason="PySpark is not installed (extra 'spark')")
    problem = _session.java_problem()
    if problem is not None:
        pytest.skip(f"Spark tests skipped: {problem}")
    session = _session.start("local[2]")
    try:
        yield session
    finally:
        session.stop()
