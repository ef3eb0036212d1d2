"""A Spark job run in its own process (its own JVM) by tests/spark/test_spark_job.py.

Usage: python -m tests.spark._spark_child BASE_URL API_KEY EXTRACTOR OUTPUT ROWS CRASH MODE

CRASH is ``none`` or ``<point>:<n>`` as in tests/jobs/_kill_child.py (a real SIGKILL of the
driver process, whose JVM then exits with it); MODE is ``classic`` or ``connect`` (a local
Spark Connect server). Prints one JSON line: rows, distinct keys, statuses, Spark schema.
"""

from __future__ import annotations

import json
import sys
import warnings

import extend_frames as xf
from extend_frames import spark as xfs
from tests.jobs._kill_child import arm
from tests.spark import _session
from tests.spark._rows import RESULT_COLUMNS, rows


def main() -> None:
    base_url, api_key, extractor, output, n, crash, mode = sys.argv[1:8]
    warnings.simplefilter("ignore")  # Spark Connect re-applies static confs with a warning
    session = _session.start("local[1]", connect=mode == "connect")
    try:
        if crash != "none":
            point, nth = crash.split(":")
            arm(point, int(nth))
        limits = xf.RateLimits(get=2000, write=2000, run=2000)
        out = xfs.extract(
            session.createDataFrame(rows(int(n)).to_arrow()),
            processor=extractor,
            text_column="text",
            key="doc",
            output=output,
            client=xf.Client(api_key=api_key, base_url=base_url, rate_limits=limits),
            batch_size=150,
            polling=xf.Polling.fast(),
            progress=False,
        )
        counts = {
            r["status"]: r["n"] for r in out.groupBy("status").count().toDF("status", "n").collect()
        }
        summary = {
            "rows": out.count(),
            "keys": out.select("doc").distinct().count(),
            "status": counts,
            "schema": out.select(*RESULT_COLUMNS).schema.json(),
            "session": type(session).__module__,
        }
    finally:
        session.stop()
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
