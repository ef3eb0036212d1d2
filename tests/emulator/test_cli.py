"""``extend-frames emulator``: arguments become an EmulatorConfig; the server really starts."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import httpx

from extend_frames.cli import build_parser
from extend_frames.cli._emulator import build_config
from extend_frames.emulator import Fidelity, RateLimits

ROOT = Path(__file__).resolve().parents[2]


def test_arguments_build_the_config() -> None:
    args = build_parser().parse_args(
        [
            "emulator",
            "--port", "9999",
            "--rate-limit", "payg",
            "--rate-limit-get", "0",
            "--seed", "4",
            "--error-rate", "0.1",
            "--error-rate-for", "POST /extract_runs/batch=0.5",
            "--drop-rate", "0.01",
            "--files-per-minute", "80",
            "--webhook-retries", "0,0",
            "--webhook-reorder",
            "--api-key", "sk_cli",
        ]
    )  # fmt: skip
    config = build_config(args)
    assert config.rate_limits == RateLimits(get=0, write=10, run=10)
    assert config.faults.seed == 4
    assert config.faults.error_rate == 0.1
    assert config.faults.error_rates == {"POST /extract_runs/batch": 0.5}
    assert config.faults.drop_rate == 0.01
    assert config.speed.files_per_minute == 80
    assert config.webhooks.retry_schedule == (0.0, 0.0)
    assert config.webhooks.reorder is True
    assert config.api_keys == frozenset({"sk_cli"})
    assert config.public_url == "http://127.0.0.1:9999"
    assert callable(args.func)


def test_refusal_and_fidelity_flags() -> None:
    args = build_parser().parse_args(
        [
            "emulator",
            "--refuse", "402=0.1",
            "--refuse", "403 GET=0.5",
            "--credit-inputs", "100",
            "--list-end", "null",
            "--unknown-input-keys", "reject",
            "--cancel-pending",
            "--parse-cancel-status", "CANCELLED",
            "--verbatim-configs",
        ]
    )  # fmt: skip
    config = build_config(args)
    assert config.faults.refusals == {"402": 0.1, "403 GET": 0.5}
    assert config.faults.credit_inputs == 100
    assert config.fidelity == Fidelity(
        list_end="null",
        unknown_input_keys="reject",
        cancel_pending=True,
        parse_cancel_status="CANCELLED",
        effective_configs=False,
    )
    assert build_config(build_parser().parse_args(["emulator"])).fidelity == Fidelity()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serves_over_http() -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "extend_frames.cli", "emulator", "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,  # so `-m extend_frames.cli` imports this checkout
    )
    try:
        assert proc.stdout is not None
        assert f"127.0.0.1:{port}" in proc.stdout.readline()  # printed before serving
        url = f"http://127.0.0.1:{port}/_emulator/stats"
        for _ in range(500):  # bounded poll until uvicorn accepts connections
            try:
                resp = httpx.get(url, trust_env=False, timeout=2)
                break
            except httpx.ConnectError:
                with socket.socket() as s:
                    s.settimeout(0.02)
                    s.connect_ex(("127.0.0.1", port))
        else:
            raise AssertionError("the emulator did not start")
        assert resp.status_code == 200
        assert resp.json()["batches_created"] == 0
    finally:
        proc.terminate()
        proc.wait(timeout=10)
