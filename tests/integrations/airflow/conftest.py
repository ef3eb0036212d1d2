"""Airflow 3 runs here with its own home: a temporary folder with a SQLite metadata database
(``airflow db migrate``), a DAGs folder with the example DAG of ``examples/airflow`` as shipped
(so it is what the tests run) and the test DAGs of ``dags/``, and the connection and variables
given as environment variables, as a deployment would. All of it must be set before
``airflow`` is imported."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integrations.airflow._example import DAGS

ROOT = Path(__file__).resolve().parents[3]
HOME = Path(tempfile.mkdtemp(prefix="xf-airflow-"))
# The DAGs folder: the example DAG as shipped, plus the test DAGs of dags/.
FOLDER = HOME / "dags"
FOLDER.mkdir()
for _dag in [DAGS / "extend_invoices.py", *Path(__file__).with_name("dags").glob("*.py")]:
    shutil.copy(_dag, FOLDER / _dag.name)
ENV = {
    "AIRFLOW_HOME": str(HOME),
    "AIRFLOW__CORE__DAGS_FOLDER": str(FOLDER),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
}
os.environ.update(ENV)


@pytest.fixture(scope="session", autouse=True)
def airflow_db() -> None:
    """The metadata database, created once for the session."""
    airflow = Path(sys.executable).with_name("airflow")
    done = subprocess.run(
        [str(airflow), "db", "migrate"], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def airflow_env(url: str, key: str, extractor: str, table: Path, jobs: Path) -> dict[str, str]:
    """The connection and the example DAG's variables, as environment variables."""
    connection = {"conn_type": "extend", "password": key, "host": url}
    return {
        "AIRFLOW_CONN_EXTEND_DEFAULT": json.dumps(connection),
        "AIRFLOW_VAR_EXTEND_EXTRACTOR": extractor,
        "AIRFLOW_VAR_INVOICES_TABLE": str(table),
        "AIRFLOW_VAR_EXTEND_JOBS": str(jobs),
    }


@pytest.fixture
def environ() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as mp:
        yield mp
