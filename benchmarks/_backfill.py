"""Scenario ``backfill``: an unattended job through the CLI, killed and resumed; and the fold.

Part 1, the fold: a resume reads and folds the ledger. A 1,000-batch ledger (an intent and a
``submitted`` record of 1,000 keys and a ``collected`` record per batch) and a 10,000-single-run
ledger (one unit per batch, 30,000 records) are written on local disk; each is read as a
resuming job does (``JobStore.ledger()`` under the lock, then the engine's per-chunk fold):
once uncompacted (that read also compacts) and once compacted.

Part 2, the backfill: documents (text inputs) on an emulator in its own process with time
compressed: processing (files per minute) and the rate limits are scaled up together, as the
``flow`` scenario does, and the polling schedule is divided by the same factor. The job is run
by ``extend-frames extract`` (``benchmarks/_backfill_child.py``, which reports its own peak
RSS) with ``--output`` on local disk:

- memory: the same job uninterrupted at three sizes; client peak RSS minus the input table's
  own size, and the slope per 1,000 rows between sizes;
- kills: one job killed at seeded moments (SIGKILL and SIGINT alternately) at least ten
  times, rerun after each kill, then run to the end; wall time (all attempts) against the
  lower bound of the scaled limits, the ledger's size and the resume fold after each kill,
  and inputs the emulator accepted more than once (must be 0).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from benchmarks._common import API_KEY, REPO, emulator, invoice_texts
from benchmarks._flow import FlowSetup
from extend_frames.emulator.samples import INVOICE_EXTRACTOR_CONFIG


@dataclass(frozen=True, slots=True)
class BackfillSetup:
    # Sized for a shared 2-core machine (the run in benchmarks/results/backfill.json); on a
    # quiet machine use (10_000, 100_000, 300_000), 100_000 killed, 60,000 files/min, 1,000/s.
    memory_sizes: tuple[int, ...] = (2_000, 5_000, 10_000)
    killed_size: int = 5_000
    kills: int = 10
    files_per_minute: float = 6_000.0
    rate: float = 100.0
    seed: int = 23
    fold_batches: int = 1_000
    fold_single_runs: int = 10_000

    def flow(self, files: int) -> FlowSetup:
        return FlowSetup(files=files, files_per_minute=self.files_per_minute, rate=self.rate)


QUICK = BackfillSetup(
    memory_sizes=(300, 600, 1_200),
    killed_size=1_200,
    kills=3,  # the CI smoke: that it runs; the full scenario kills ten times
    files_per_minute=60_000,
    rate=600,
    fold_batches=50,
    fold_single_runs=500,
)
FULL = BackfillSetup()


# -- part 1: the fold ---------------------------------------------------------------------


def _write_ledger(root: Path, chunks: int, units: int) -> int:
    """The records of a finished job, written as the store names them; total bytes."""
    from extend_frames.store._ledger import encode_record, record_name

    ledger = root / "_ledger"
    ledger.mkdir(parents=True)
    seq, size, t = 0, 0, "2026-12-08T00:00:00.000000+00:00"
    for chunk in range(chunks):
        keys = [f"{chunk:05d}-{u:04d}-0123456789abcdef" for u in range(units)]
        single = units == 1
        records: list[tuple[str, dict[str, Any]]] = [
            ("intent", {"keys": keys, "job_id": "j", "at": t}),
            (
                "submitted",
                {"keys": keys, "run_ids": {k: f"exr_{k}" for k in keys}, "at": t}
                if single
                else {"keys": keys, "batch_id": f"bpr_{chunk:06d}", "at": t},
            ),
            ("collected", {"rows": units, "credits": 2.0 * units}),
        ]
        for state, data in records:
            body = encode_record(seq, chunk, state, t, data)
            (ledger / record_name(seq, chunk, state)).write_bytes(body)
            size += len(body)
            seq += 1
    return size


def _resume_fold(path: str) -> float:
    """Seconds a resuming job spends reading and folding the ledger (as ``frames._prepare``'s
    ``job_state``: the store's one fold, which the engine takes as its history)."""
    from extend_frames.store import JobStore

    store = JobStore.open(path)
    with store.lock("benchmark resume"):
        started = time.perf_counter()
        history = store.ledger()  # store/_ledger.py fold: the only fold of a resume
        seconds = time.perf_counter() - started
    assert all(h.collected for h in history.values())
    return seconds


def fold(setup: BackfillSetup) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, chunks, units in (
        (f"{setup.fold_batches} batches of 1,000", setup.fold_batches, 1_000),
        (f"{setup.fold_single_runs} single runs", setup.fold_single_runs, 1),
    ):
        with tempfile.TemporaryDirectory() as tmp:
            size = _write_ledger(Path(tmp), chunks, units)
            first = _resume_fold(tmp)  # reads every record, then compacts
            files = len(os.listdir(Path(tmp) / "_ledger"))
            second = _resume_fold(tmp)  # reads the snapshot
            out[name] = {
                "records": 3 * chunks,
                "ledger_mib": round(size / 2**20, 1),
                "resume_uncompacted_s": round(first, 3),
                "files_after_compaction": files,
                "resume_compacted_s": round(second, 3),
            }
    return out


# -- part 2: the backfill -----------------------------------------------------------------


def _cli(emu_url: str, setup: BackfillSetup, workdir: Path, rows: int, tag: str) -> list[str]:
    flow = setup.flow(rows)
    polling = flow.scaled_polling()
    input_csv = workdir / f"input-{rows}.csv"
    if not input_csv.exists():
        pl.DataFrame(
            {"doc_id": range(rows), "text": invoice_texts(rows, seed=setup.seed)}
        ).write_csv(input_csv)
    return [
        sys.executable, "-m", "benchmarks._backfill_child", "extract", str(input_csv),
        "--text-column", "text", "--key", "doc_id", "--processor", "{processor}",
        "--output", str(workdir / f"out-{tag}"), "--route", "batch", "--no-progress", "--json",
        "--rate-limit", f"{setup.rate:g}", "--base-url", emu_url,
        "--poll-initial", f"{polling.initial:g}", "--poll-max", f"{polling.maximum:g}",
    ]  # fmt: skip


def _env() -> dict[str, str]:
    return {**os.environ, "EXTEND_API_KEY": API_KEY, "PYTHONPATH": str(REPO)}


def _last_json(text: str) -> dict[str, Any]:
    lines = [ln for ln in text.strip().splitlines() if ln.startswith("{")]
    result: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    return result


def _emulator_args(setup: BackfillSetup) -> list[str]:
    return ["--files-per-minute", f"{setup.files_per_minute:g}", "--rate-limit", f"{setup.rate:g}"]


def memory(setup: BackfillSetup, workdir: Path) -> list[dict[str, Any]]:
    rows_out = []
    for rows in setup.memory_sizes:
        with emulator(*_emulator_args(setup)) as emu:
            ex = emu.create_processor("extractor", INVOICE_EXTRACTOR_CONFIG)
            cmd = [
                a.replace("{processor}", ex)
                for a in _cli(emu.url, setup, workdir, rows, f"m{rows}")
            ]
            started = time.perf_counter()
            done = subprocess.run(cmd, cwd=REPO, env=_env(), capture_output=True, text=True)
            wall = time.perf_counter() - started
            stats = emu.stats()
        child = _last_json(done.stdout)
        if not child:
            raise RuntimeError(f"backfill child failed: {done.stderr[-3000:]}")
        bound = setup.flow(rows).lower_bound()["bound_s"]
        rows_out.append(
            {
                "rows": rows,
                "exit": child["exit"],
                "wall_s": round(wall, 1),
                "bound_s": round(bound, 1),
                "peak_rss_mib": round(child["peak_rss_mib"], 1),
                "baseline_mib": round(child["baseline_mib"], 1),
                "input_mib": round(child["input_mib"], 1),
                "peak_minus_input_mib": round(child["peak_rss_mib"] - child["input_mib"], 1),
                "inputs_accepted": stats["inputs_submitted"],
            }
        )
        print(f"   memory {rows}: {rows_out[-1]}", flush=True)
    for prev, cur in itertools.pairwise(rows_out):
        grow = cur["peak_minus_input_mib"] - prev["peak_minus_input_mib"]
        cur["slope_kib_per_row"] = round(grow * 1024 / (cur["rows"] - prev["rows"]), 3)
    return rows_out


def _ledger_bytes(output: Path) -> tuple[int, int]:
    ledger = output / "_ledger"
    if not ledger.exists():
        return 0, 0
    files = list(ledger.iterdir())
    return len(files), sum(f.stat().st_size for f in files)


def _fold_seconds(output: Path) -> float:
    from extend_frames.store import JobStore

    started = time.perf_counter()
    JobStore.open(str(output)).ledger()  # a reader's fold (no lock: what a resume reads first)
    return time.perf_counter() - started


def kills(setup: BackfillSetup, workdir: Path) -> dict[str, Any]:
    rng = random.Random(setup.seed)
    rows = setup.killed_size
    bound = setup.flow(rows).lower_bound()["bound_s"]
    attempts: list[dict[str, Any]] = []
    with emulator(*_emulator_args(setup)) as emu:
        ex = emu.create_processor("extractor", INVOICE_EXTRACTOR_CONFIG)
        cmd = [a.replace("{processor}", ex) for a in _cli(emu.url, setup, workdir, rows, "killed")]
        output = Path(cmd[cmd.index("--output") + 1])
        total = 0.0
        final: dict[str, Any] = {}
        for attempt in range(setup.kills + 1):
            last = attempt == setup.kills
            sig = signal.SIGKILL if attempt % 2 == 0 else signal.SIGINT
            after = rng.uniform(4.0, max(5.0, bound / (setup.kills / 2)))
            started = time.perf_counter()
            proc = subprocess.Popen(
                cmd, cwd=REPO, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            try:
                out, _err = proc.communicate(timeout=None if last else after)
            except subprocess.TimeoutExpired:
                proc.send_signal(sig)
                out, _err = proc.communicate()
            total += time.perf_counter() - started
            files, size = _ledger_bytes(output)
            record = {
                "attempt": attempt,
                "signal": None if proc.returncode in (0, 3) else sig.name,
                "after_s": round(after, 1) if not last else None,
                "exit": proc.returncode,
                "ledger_files": files,
                "ledger_kib": round(size / 1024, 1),
                "resume_fold_s": round(_fold_seconds(output), 3),
            }
            attempts.append(record)
            print(f"   kill {record}", flush=True)
            if proc.returncode in (0, 3):
                final = _last_json(out)
                if not last:  # finished before its kill: the rest of the kills are moot
                    break
        stats = emu.stats()
    return {
        "rows": rows,
        "kills": sum(1 for a in attempts if a["signal"]),
        "wall_s": round(total, 1),
        "bound_s": round(bound, 1),
        "bound_ratio": round(total / bound, 3),
        "final_exit": final.get("exit"),
        "inputs_accepted": stats["inputs_submitted"],
        "inputs_accepted_twice": stats["inputs_submitted"] - rows,
        "attempts": attempts,
    }


def run(setup: BackfillSetup) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="xf-backfill-") as tmp:
        workdir = Path(tmp)
        return {
            "setup": {
                "files_per_minute": setup.files_per_minute,
                "rate_per_category": setup.rate,
                "time_compression_vs_enterprise": round(setup.flow(1).compression, 1),
            },
            "fold": fold(setup),
            "memory": memory(setup, workdir),
            "kills": kills(setup, workdir),
        }


if __name__ == "__main__":  # one part alone: python -m benchmarks._backfill [--quick] [PART]
    chosen = QUICK if "--quick" in sys.argv else FULL
    part = next((a for a in sys.argv[1:] if not a.startswith("--")), None)
    with tempfile.TemporaryDirectory(prefix="xf-backfill-") as tmp:
        parts: dict[str, Callable[[], Any]] = {
            "fold": lambda: fold(chosen),
            "memory": lambda: memory(chosen, Path(tmp)),
        }
        parts["kills"] = lambda: kills(chosen, Path(tmp))
        print(json.dumps(parts[part]() if part else run(chosen), indent=2))
