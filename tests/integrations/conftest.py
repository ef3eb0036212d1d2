"""Integration tests that need a package the dev environment cannot hold (Airflow, Dagster,
Ray, Daft): one folder each, run by its own nox session (``nox -s airflow``, see noxfile.py),
which sets ``EXTEND_FRAMES_INTEGRATION`` to the folder's name. Elsewhere (the dev run of
``scripts/test.sh``) those folders are not collected: they are run, not skipped, by their
sessions, and a missing package there is an import error, never a skip.
"""

from __future__ import annotations

import os

SESSIONS = ("airflow", "dagster", "ray", "daft")
collect_ignore = [s for s in SESSIONS if s != os.environ.get("EXTEND_FRAMES_INTEGRATION")]
