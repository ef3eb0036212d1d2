"""Collection rules for the whole checkout (the doctest run collects extend_frames/ too).

``extend_frames.airflow`` and ``extend_frames.dagster`` import their scheduler, which the dev
environment does not hold: their modules are collected (docstring examples included) only
where it is installed, i.e. in their nox sessions (noxfile.py), never skipped on CI for want
of it, since scripts/test.sh runs every session.
"""

from __future__ import annotations

import importlib.util

collect_ignore = [
    f"extend_frames/{name}"
    for name in ("airflow", "dagster")
    if importlib.util.find_spec(name) is None
]
