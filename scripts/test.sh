#!/usr/bin/env bash
# Sets up a virtual environment with the dev extra, then runs the whole check:
# formatting, lint, types, and the test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"

# The Spark tests (tests/spark) need Java 17 or 21. Install it when we can (root with apt, as
# on CI); otherwise those tests skip and pytest prints why.
needs_java() {  # true when no java, or one older than 17, is found
    local java="java" major
    [ -n "${JAVA_HOME:-}" ] && java="$JAVA_HOME/bin/java"
    command -v "$java" >/dev/null 2>&1 || return 0
    major="$("$java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)"
    [ -z "$major" ] || [ "$major" -lt 17 ]
}
if needs_java; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "== installing a Java runtime for the Spark tests (apt-get)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null \
            && { apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless \
                 || apt-get install -y -qq --no-install-recommends openjdk-21-jre-headless; } \
                >/dev/null \
            || echo "   could not install Java: the Spark tests will be skipped"
    else
        echo "== no Java 17+: the Spark tests will be skipped (install OpenJDK 17 or 21)"
    fi
fi

# The job report's browser test (tests/frames/test_report.py) opens the page in headless
# Chromium (Debian's package). Installed the same way; without it only that test skips.
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "== installing Chromium for the report's browser test (apt-get)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null \
            && apt-get install -y -qq --no-install-recommends chromium >/dev/null \
            || echo "   could not install Chromium: the report's browser test will be skipped"
    else
        echo "== no Chromium: the report's browser test will be skipped (install chromium)"
    fi
fi

echo "== ruff format --check"; .venv/bin/ruff format --check .
echo "== ruff check";          .venv/bin/ruff check .
echo "== mypy";                .venv/bin/mypy
echo "== mypy (public API use)"; .venv/bin/mypy --strict tests/typing
# Every docstring example runs (or is marked +SKIP); collecting them imports every module.
echo "== doctests";            .venv/bin/python -m pytest -q -p no:cacheprovider --doctest-modules extend_frames
# The documentation site in strict mode: a broken link, a missing page or an API reference
# entry that does not resolve fails (tests/test_docs_examples.py then runs every example).
echo "== mkdocs build --strict"
site="$(mktemp -d)"; trap 'rm -rf "$site"' EXIT
# (not --quiet: it drops the warnings before strict mode counts them)
NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict --site-dir "$site"
# Two workers: the suite is mostly I/O-bound servers and subprocesses on loopback.
# --dist loadgroup: tests marked xdist_group("spark") share one worker, so one JVM starts.
echo "== pytest";              .venv/bin/python -m pytest -n 2 --dist loadgroup "$@"

# The integrations that cannot live in .venv (Airflow, Dagster, Ray Data, Daft): one nox
# session each (noxfile.py), in its own virtualenv built by uv from this project's extras, so
# none of their tests is skipped for want of a package. One alone: .venv/bin/nox -s airflow
# SKIP_INTEGRATIONS=1 leaves them out while working (CI never sets it).
export PATH="$PWD/.venv/bin:$PATH"
sessions="airflow dagster ray daft"
[ -n "${SKIP_INTEGRATIONS:-}" ] && { echo "== SKIP_INTEGRATIONS: not running nox -s $sessions"; sessions=""; }
for session in $sessions; do
    start=$SECONDS
    echo "== nox -s $session"
    nox --no-color --no-reuse-existing-virtualenvs -s "$session"
    echo "== nox -s $session: $((SECONDS - start)) s (build and tests)"
done
