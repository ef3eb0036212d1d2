"""ExtendJobOperator end to end: the example DAG under ``dag.test()`` against the emulator.

``dag.test()`` runs the trigger in line, so a deferrable task goes DEFERRED, its trigger waits
on the batches, and the task resumes in ``execute_complete`` to collect, as under a real
triggerer.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

import extend_frames as xf
from extend_frames.emulator import Emulator, Speed
from tests.integrations._docs import extractor, invoice_table
from tests.integrations.airflow._example import example_dag
from tests.integrations.airflow.conftest import HOME, ROOT, airflow_env

DAY = datetime(2026, 12, 1, tzinfo=UTC)
DOCS = 60  # above the auto route's single-run threshold at PAYG limits: batches


def _setup(emu: Emulator, tmp_path: Path, mp: pytest.MonkeyPatch) -> dict[str, str]:
    table = tmp_path / "invoices.parquet"
    invoice_table(tmp_path / "docs", DOCS).write_parquet(table)
    env = airflow_env(emu.url, emu.api_key, extractor(emu), table, tmp_path / "jobs")
    for name, value in env.items():
        mp.setenv(name, value)
    return env


def _results(tmp_path: Path) -> pl.DataFrame:
    return xf.read_results(tmp_path / "jobs" / "invoices" / DAY.date().isoformat())


@pytest.mark.slow
def test_the_task_defers_then_collects(
    tmp_path: Path, environ: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    with Emulator() as emu:
        _setup(emu, tmp_path, environ)
        run = example_dag().test(logical_date=DAY)
        stats = emu.stats()
    assert str(run.state) == "success"
    printed = capfd.readouterr()
    text = printed.out + printed.err
    assert "deferring" in text  # the task handed its wait to the trigger
    assert f"invoices: {_results(tmp_path).height} rows (" in text  # the XCom reached `report`
    out = _results(tmp_path)
    assert out.height >= DOCS
    assert "PENDING" not in out.get_column("status").cast(pl.String).to_list()
    assert stats["batches_created"] >= 1
    assert stats["inputs_submitted"] == out.height
    assert any(path.startswith("GET /batch_runs/") for path in stats["requests"])


@pytest.mark.slow
def test_a_task_killed_mid_wait_reconnects_and_submits_nothing_again(
    tmp_path: Path, environ: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    # The batches wait in the queue until the test advances the emulator's clock.
    with Emulator(clock="manual", speed=Speed(batch_queue_delay=3600)) as emu:
        env = _setup(emu, tmp_path, environ)
        child = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("_run_dag.py")), DAY.isoformat()],
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert child.stdout is not None
        waiting, seen = False, []
        for line in child.stdout:  # until the trigger reports its first round of polling
            seen.append(line)
            if "batches/runs running" in line:
                waiting = True
                break
        child.send_signal(signal.SIGKILL)  # mid-wait, as a lost worker or triggerer
        child.wait(timeout=60)
        assert waiting, "the task never reached the trigger's wait:\n" + "".join(seen[-30:])
        sent = emu.stats()
        assert sent["batches_created"] >= 1

        emu.advance(7200)  # the batches finish while nobody waits
        run = example_dag().test(logical_date=DAY)
        after = emu.stats()
    assert str(run.state) == "success"
    assert "reconnecting" in capfd.readouterr().out
    assert after["batches_created"] == sent["batches_created"]
    assert after["inputs_submitted"] == sent["inputs_submitted"]
    assert after["duplicate_inputs"] == 0
    out = _results(tmp_path)
    assert "PENDING" not in out.get_column("status").cast(pl.String).to_list()


@pytest.mark.slow
def test_the_api_key_is_in_no_task_log_and_no_rendered_field(
    tmp_path: Path, environ: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    with Emulator() as emu:
        _setup(emu, tmp_path, environ)
        run = example_dag().test(logical_date=DAY)
        key = emu.api_key
    assert str(run.state) == "success"
    printed = capfd.readouterr()
    logs = [p.read_text(errors="replace") for p in (HOME / "logs").rglob("*") if p.is_file()]
    task_log = "\n".join([printed.out, printed.err, *logs])
    assert "Extend job at" in task_log  # the operator's own lines are there...
    assert key not in task_log  # ...and the key is not
    with sqlite3.connect(HOME / "airflow.db") as db:
        rendered = db.execute(
            "SELECT rendered_fields FROM rendered_task_instance_fields"
        ).fetchall()
    assert rendered  # the templates were rendered and stored
    assert all(key not in str(row) for row in rendered)


@pytest.mark.slow
def test_without_deferral_the_task_waits_in_the_worker(
    tmp_path: Path, environ: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    with Emulator() as emu:
        _setup(emu, tmp_path, environ)
        run = example_dag(Path(__file__).with_name("dags") / "extend_in_worker.py").test(
            logical_date=DAY
        )
    assert str(run.state) == "success"
    assert "deferring" not in capfd.readouterr().out
    out = xf.read_results(tmp_path / "jobs" / "in_worker" / DAY.date().isoformat())
    assert out.height >= DOCS
    assert "PENDING" not in out.get_column("status").cast(pl.String).to_list()
