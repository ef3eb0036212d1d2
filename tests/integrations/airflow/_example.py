"""The example DAG (examples/airflow), loaded from its file as Airflow's DAG folder holds it."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

DAGS = Path(__file__).resolve().parents[3] / "examples" / "airflow"


def example_dag(path: Path = DAGS / "extend_invoices.py") -> Any:
    """The ``dag`` of a DAG file (default: the example)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dag
