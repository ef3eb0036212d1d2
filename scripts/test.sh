#!/usr/bin/env bash
# Sets up a virtual environment with the dev extra, then runs the whole check:
# formatting, lint, types, and the test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
echo "== ruff format --check"; .venv/bin/ruff format --check .
echo "== ruff check";          .venv/bin/ruff check .
echo "== mypy";                .venv/bin/mypy
# Two workers: the suite is mostly I/O-bound servers and subprocesses on loopback.
echo "== pytest";              .venv/bin/python -m pytest -n 2 "$@"
