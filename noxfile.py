"""One test environment per integration that cannot live in the dev environment.

    nox -s airflow      # or dagster, ray, daft; `nox` alone runs all four

Each session builds a fresh virtualenv (with uv when it is installed: seconds, not minutes)
from this project's own extras only (`.[emulator,test,<name>]`, see pyproject.toml), sets
``EXTEND_FRAMES_INTEGRATION`` so tests/integrations/<name> is collected (the dev run leaves
those folders out), and runs them. ``scripts/test.sh`` runs every session after the dev suite,
so CI runs them all. Extra arguments after ``--`` go to pytest.
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.error_on_missing_interpreters = True
nox.options.sessions = ["airflow", "dagster", "ray", "daft"]

#: extra to install -> the folder of tests/integrations it runs
SESSIONS = {"airflow": "airflow", "dagster": "dagster", "ray": "ray", "daft": "daft"}


def _run(session: nox.Session, name: str, *modules: str) -> None:
    """Install the extra ``name``; run its tests (and the doctests of ``modules``)."""
    session.install("-e", f".[emulator,test,{name}]")
    env = {"EXTEND_FRAMES_INTEGRATION": name, "PYTHONPATH": "."}
    if modules:
        session.run("python", "-m", "pytest", "-p", "no:cacheprovider", "-q",
                    "--doctest-modules", *modules, env=env)  # fmt: skip
    session.run(
        "python", "-m", "pytest", "-p", "no:cacheprovider", "-q",
        f"tests/integrations/{SESSIONS[name]}", *session.posargs, env=env,
    )  # fmt: skip


@nox.session
def airflow(session: nox.Session) -> None:
    """ExtendJobOperator, its trigger and hook, and examples/airflow under dag.test()."""
    _run(session, "airflow", "extend_frames/airflow")


@nox.session
def dagster(session: nox.Session) -> None:
    """ExtendResource, the partitioned asset factory and its check; examples/dagster."""
    _run(session, "dagster", "extend_frames/dagster")


@nox.session
def ray(session: nox.Session) -> None:
    """The Ray Data recipe of docs/guides/distributed.md over a few hundred documents."""
    _run(session, "ray")


@nox.session
def daft(session: nox.Session) -> None:
    """The Daft recipe of docs/guides/distributed.md over a few hundred documents."""
    _run(session, "daft")
