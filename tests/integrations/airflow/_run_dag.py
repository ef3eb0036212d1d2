"""Run the example DAG once with ``dag.test()`` (a child process the tests can kill).

Usage: python _run_dag.py LOGICAL_DATE   (the environment holds the connection and variables)
"""

from __future__ import annotations

import sys
from datetime import datetime

from tests.integrations.airflow._example import example_dag

if __name__ == "__main__":
    example_dag().test(logical_date=datetime.fromisoformat(sys.argv[1]))
