#!/usr/bin/env bash
# Sets up a virtual environment with the emulator extra and runs the demo:
# emulator + sample documents + parse/extract/classify/split + Parquet output + a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[emulator,progress]"
exec .venv/bin/extend-frames demo "$@"
