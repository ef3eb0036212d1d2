"""extend_frames.spark on a real local SparkSession against the emulator.

One JVM per test process (the session fixture); the kill and Spark Connect tests run their job
in a child process with its own JVM, as a crashed dbt run or a Connect client would.
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pytest

import extend_frames as xf
from extend_frames.emulator import Emulator
from extend_frames.emulator.samples import INVOICE_EXTRACTOR_CONFIG
from extend_frames.store import JobStore
from tests.jobs.conftest import FAST, create_processor, make_client
from tests.jobs.test_resume import API_KEY as KILL_API_KEY
from tests.jobs.test_resume import RemoteEmulator
from tests.spark._rows import RESULT_COLUMNS, rows

# One worker owns the JVM; JVM starts and child processes are slow on a busy machine, so these
# tests get a longer timeout than the suite's default (they assert counters, never durations).
pytestmark = [pytest.mark.xdist_group("spark"), pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
ROWS = 3_000
FAIL_EVERY = 97  # some rows fail: their typed nulls must match too


@dataclass
class Job:
    emu: Emulator
    extractor: str
    output: str
    input: Any  # pyspark DataFrame
    result: Any  # pyspark DataFrame


def _run(sdf: Any, emu: Emulator, extractor: str, output: str, **options: Any) -> Any:
    from extend_frames import spark as xfs

    return xfs.extract(
        sdf,
        processor=extractor,
        text_column="text",
        key="doc",
        output=output,
        client=make_client(emu),
        polling=FAST,
        progress=False,
        **options,
    )


@pytest.fixture(scope="module")
def job(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Job]:
    frame = rows(ROWS, fail_every=FAIL_EVERY)
    sdf = spark.createDataFrame(frame.to_arrow()).repartition(3)
    output = str(tmp_path_factory.mktemp("spark") / "job")
    with Emulator() as emu:
        extractor = create_processor(emu, "extractor")
        result = _run(sdf, emu, extractor, output)
        yield Job(emu, extractor, output, sdf, result)


def _requests(emu: Emulator) -> dict[str, int]:
    return {route: sum(codes.values()) for route, codes in emu.stats()["requests"].items()}


def test_every_row_comes_back_once_with_the_polars_paths_typed_values(job: Job) -> None:
    out = pl.from_arrow(job.result.toArrow())
    assert isinstance(out, pl.DataFrame)
    assert out.height == ROWS
    assert out.get_column("doc").n_unique() == ROWS
    assert out.columns == ["doc", "text", "notes", *RESULT_COLUMNS]
    failed = out.filter(pl.col("status") == "FAILED")
    assert failed.height == len(range(0, ROWS, FAIL_EVERY))

    # The polars API's view of the same job (the engine's parts, read by polars).
    expected = xf.read_results(job.output)
    # Spark's types are result_schema(spark=True): compare in them, row by row.
    spark_types = xf.result_schema("extract", INVOICE_EXTRACTOR_CONFIG, spark=True)
    compared = ["status", "failure_reason", "output", "output_confidence", "credits"]
    want = pl.from_arrow(
        expected.select("doc", *compared)
        .to_arrow()
        .cast(pa.schema([pa.field("doc", pa.string()), *(spark_types.field(c) for c in compared)]))
    )
    got = out.select("doc", *compared).sort("doc")
    assert isinstance(want, pl.DataFrame)
    assert got.equals(want.sort("doc"))
    assert out.get_column("notes").to_list() == ["x" * 200] * ROWS


def test_spark_schema_is_the_result_schema(job: Job, spark: Any) -> None:
    from extend_frames import spark as xfs

    schema = job.result.select(*RESULT_COLUMNS).schema
    assert schema == xfs.spark_schema("extract", INVOICE_EXTRACTOR_CONFIG)
    fields = {f.name: f.dataType.simpleString() for f in schema.fields}
    assert fields["status"] == "string"  # Spark has no dictionary type
    assert fields["created_at"] == "timestamp"
    assert "invoice_date:date" in fields["output"]
    assert "line_items:array<struct<" in fields["output"]


def test_only_the_key_and_reference_columns_reach_the_engine(job: Job) -> None:
    kept = JobStore.open(job.output).read_input()
    assert kept is not None
    visible = [c for c in kept.column_names if not c.startswith("__")]
    assert visible == ["doc", "text"]  # the wide "notes" column stayed in Spark


def test_rerun_sends_no_run_or_batch_request(job: Job) -> None:
    before = _requests(job.emu)
    again = _run(job.input, job.emu, job.extractor, job.output)
    assert again.count() == ROWS
    sent = {r: n - before.get(r, 0) for r, n in _requests(job.emu).items()}
    sent = {r: n for r, n in sent.items() if n}
    assert all(r.startswith("GET /extractors/") for r in sent), sent  # the processor only
    assert job.emu.stats()["inputs_submitted"] == ROWS


def test_an_all_failed_job_has_the_same_spark_schema(job: Job, spark: Any, tmp_path: Path) -> None:
    frame = rows(40).with_columns(pl.lit("__FAIL:CORRUPT_FILE").alias("text"))
    frame = frame.with_columns(pl.concat_str("text", "doc").alias("text"))
    out = _run(
        spark.createDataFrame(frame.to_arrow()),
        job.emu,
        job.extractor,
        str(tmp_path / "failed"),
    )
    assert {r.status for r in out.select("status").distinct().collect()} == {"FAILED"}
    assert out.schema == job.result.schema


def test_bad_keys_fail_before_any_request(spark: Any, tmp_path: Path) -> None:
    from extend_frames import spark as xfs

    frame = rows(6)
    dupes = spark.createDataFrame(frame.with_columns(pl.lit("same").alias("doc")).to_arrow())
    nulls = spark.createDataFrame(
        frame.with_columns(
            pl.when(pl.col("doc") == "d00002").then(None).otherwise("doc").alias("doc")
        ).to_arrow()
    )
    same_text = spark.createDataFrame(frame.with_columns(pl.lit("t").alias("text")).to_arrow())
    with Emulator() as emu:
        common: dict[str, Any] = {
            "processor": "ex_1",
            "text_column": "text",
            "client": make_client(emu),
            "output": str(tmp_path / "o"),
        }
        with pytest.raises(xf.InputError, match=r"key 'doc' is not unique .*'same'"):
            xfs.extract(dupes, key="doc", **common)
        with pytest.raises(xf.InputError, match=r"key 'doc' is null in 1 row"):
            xfs.extract(nulls, key="doc", **common)
        with pytest.raises(xf.InputError, match=r"key= was not given.*'text'.*not unique"):
            xfs.extract(same_text, **common)
        with pytest.raises(xf.InputError, match="output= is required"):
            xfs.extract(dupes, key="doc", **{**common, "output": ""})
        with pytest.raises(xf.InputError, match=r"'status'.*clash"):
            xfs.extract(
                spark.createDataFrame(frame.to_arrow()).withColumnRenamed("notes", "status"),
                key="doc",
                **common,
            )
        with pytest.raises(xf.InputError, match="unexpected keyword argument 'bogus'"):
            xfs.extract(dupes.dropDuplicates(["doc"]), key="doc", bogus=1, **common)
        with pytest.raises(xf.InputError, match="drop file_column="):
            xfs.extract(dupes, key="doc", file_column="doc", **common)
        assert emu.stats()["requests_total"] == 0
    assert not (tmp_path / "o").exists()


def test_the_options_are_the_polars_apis_options() -> None:
    """One options definition: whatever the polars API takes, the Spark functions take."""
    pytest.importorskip("pyspark")
    from extend_frames import spark as xfs

    for fn in (xfs.parse, xfs.extract, xfs.classify, xfs.split):
        params = inspect.signature(fn).parameters
        assert params["options"].kind is inspect.Parameter.VAR_KEYWORD
        assert "JobOptions" in str(params["options"].annotation)
        assert next(iter(params)) == "sdf"


def test_the_package_never_touches_spark_context() -> None:
    """Spark Connect sessions have no SparkContext: the adapter must not need one."""
    package = ROOT / "extend_frames" / "spark"
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        names |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        assert not names & {"sparkContext", "SparkContext", "_jsc", "_jvm", "rdd"}, path


def _child(
    url: str, api_key: str, extractor: str, output: str, n: int, crash: str, mode: str
) -> Any:
    cmd = [
        sys.executable,
        "-m",
        "tests.spark._spark_child",
        url,
        api_key,
        extractor,
        output,
        str(n),
        crash,
        mode,
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_killed_driver_reruns_without_submitting_an_input_twice(
    spark: Any, tmp_path: Path, remote_emulator: RemoteEmulator
) -> None:
    """The emulator runs in its own process (as in tests/jobs/test_resume.py): neither the
    killed driver nor this one shares an interpreter with it."""
    n = 600  # 4 batches of 150; the driver dies fetching the second batch's runs
    output = str(tmp_path / "killed")
    emu = remote_emulator
    extractor = create_processor((emu.url, KILL_API_KEY), "extractor")
    first = _child(emu.url, KILL_API_KEY, extractor, output, n, "fetch:250", "classic")
    assert first.returncode == -signal.SIGKILL, first.stderr[-3000:]
    assert 150 <= emu.stats()["inputs_submitted"] <= n  # killed mid-job

    from extend_frames import spark as xfs

    limits = xf.RateLimits(get=2000, write=2000, run=2000)
    out = xfs.extract(
        spark.createDataFrame(rows(n).to_arrow()),
        processor=extractor,
        text_column="text",
        key="doc",
        output=output,
        client=xf.Client(api_key=KILL_API_KEY, base_url=emu.url, rate_limits=limits),
        batch_size=150,
        polling=FAST,
        progress=False,
    )
    got = pl.from_arrow(out.select("doc", "status").toArrow())
    stats = emu.stats()
    assert isinstance(got, pl.DataFrame)
    assert got.sort("doc").get_column("doc").to_list() == [f"d{i:05d}" for i in range(n)]
    assert (got.get_column("status") == "PROCESSED").all()
    assert stats["duplicate_inputs"] == 0
    assert stats["inputs_submitted"] == n


@pytest.mark.slow
def test_spark_connect_session(job: Job, tmp_path: Path) -> None:
    """The same job from a Spark Connect client (a local Connect server in a child process)."""
    emu, output = job.emu, str(tmp_path / "connect")
    done = _child(emu.url, emu.api_key, job.extractor, output, 120, "none", "connect")
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["session"].startswith("pyspark.sql.connect")
    assert summary["rows"] == summary["keys"] == 120
    assert summary["status"] == {"PROCESSED": 120}
    assert summary["schema"] == job.result.select(*RESULT_COLUMNS).schema.json()


def test_table_publishes_each_batch_to_delta_once(spark: Any, tmp_path: Path) -> None:
    pytest.importorskip("deltalake")
    from deltalake import DeltaTable

    frame = rows(30)
    sdf = spark.createDataFrame(frame.to_arrow())
    table = xf.Delta(str(tmp_path / "delta"), mode="merge")  # merge_on: key="doc"
    with Emulator() as emu:
        extractor = create_processor(emu, "extractor")
        for _ in range(2):  # the rerun publishes nothing again
            out = _run(sdf, emu, extractor, str(tmp_path / "job"), batch_size=10, table=table)
    assert out.count() == 30
    delta = DeltaTable(table.uri)
    published = delta.to_pyarrow_table()
    assert published.num_rows == 30
    assert len(set(published.column("doc").to_pylist())) == 30
    marked = [h for h in delta.history() if "extend-frames.job" in h]
    assert sorted(int(h["extend-frames.chunk"]) for h in marked) == [0, 1, 2]
