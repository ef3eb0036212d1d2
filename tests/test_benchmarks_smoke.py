"""Smoke test of the benchmark harness: ``python -m benchmarks --quick`` runs end to end.

A benchmark, not a test of speed: this only checks that every scenario ran and reported its
figures (the emulator and the client each in their own process, on 127.0.0.1 only).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_quick_benchmark_runs_every_scenario(tmp_path: Path) -> None:
    out = tmp_path / "quick.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(out.read_text())
    assert results["mode"] == "quick"
    scenarios = results["scenarios"]
    assert set(scenarios) == {"flow", "decode", "scale", "serve"}

    flow = scenarios["flow"]
    files = flow["setup"]["files"]
    for name in ("extend_frames", "sdk_batch_script", "sdk_per_file"):
        contender = flow["contenders"][name]
        assert contender["processed"] == files, name  # every file came back processed
        assert contender["requests"]["by_category"]["GET"] >= files  # one GET per run at least
    ours = flow["contenders"]["extend_frames"]
    assert ours["requests"]["by_category"]["RUN"] == -(-files // flow["setup"]["batch_size"])

    decode = scenarios["decode"]
    assert decode["extend_frames"]["typed_output"] is True
    assert decode["extend_frames"]["runs_per_s"] > 0
    assert decode["sdk_pydantic"]["runs_per_s"] > 0

    scale = scenarios["scale"]["runs"]
    assert [r["processed"] for r in scale] == [r["rows"] for r in scale]
    assert all(r["peak_rss_mib"] > 0 for r in scale)

    serve = scenarios["serve"]
    assert serve["requests"] > 0
    assert serve["errors"] == 0

    assert results["targets"], "the targets table is empty"
    assert "flow" in done.stdout  # the tables were printed
