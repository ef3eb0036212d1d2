"""The one way the Spark tests start a session: local, small, no UI, loopback only.

Shared by the session fixture (tests/spark/conftest.py) and the subprocess jobs
(tests/spark/_spark_child.py), so both JVMs are configured alike.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from typing import Any

LOOPBACK = "127.0.0.1"

#: Small and quiet: two cores, little memory, no UI or event log, and everything bound to
#: loopback (the driver, the block manager and, for Spark Connect, the gRPC server).
CONF = {
    "spark.driver.memory": "768m",
    "spark.driver.host": LOOPBACK,
    "spark.driver.bindAddress": LOOPBACK,
    "spark.connect.grpc.binding.address": LOOPBACK,
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.eventLog.enabled": "false",
    "spark.sql.shuffle.partitions": "2",
    "spark.sql.session.timeZone": "UTC",
    "spark.default.parallelism": "2",
}


def java_problem() -> str | None:
    """Why a JVM cannot start here (None when it can): Spark 4 needs Java 17 or 21."""
    java_home = os.environ.get("JAVA_HOME")
    java = os.path.join(java_home, "bin", "java") if java_home else shutil.which("java")
    if not java or not os.path.exists(java):
        return "no Java runtime (java not on PATH, JAVA_HOME unset); Spark 4 needs Java 17+"
    try:
        done = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{java} -version failed: {exc}"
    if done.returncode != 0:
        return f"{java} -version exited {done.returncode}: {done.stderr.strip()[:200]}"
    found = re.search(r'version "(\d+)', done.stderr + done.stdout)
    if found is None or int(found.group(1)) < 17:
        return f"{java} is not Java 17+ ({(done.stderr or done.stdout).strip()[:80]!r})"
    return None


def start(master: str = "local[2]", *, connect: bool = False) -> Any:
    """A SparkSession on this machine (``connect=True``: a local Spark Connect server)."""
    os.environ.setdefault("SPARK_LOCAL_IP", LOOPBACK)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers in this venv
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("extend_frames tests")
    builder = builder.remote(master) if connect else builder.master(master)
    for name, value in CONF.items():
        builder = builder.config(name, value)
    return builder.getOrCreate()
