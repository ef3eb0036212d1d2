"""``extend-frames emulator``: serve the local Extend-compatible emulator with uvicorn.

extend-frames emulator --host 127.0.0.1 --port 8765 --rate-limit payg --seed 7 --error-rate 0.05
"""

from __future__ import annotations

import argparse
from typing import Any

from extend_frames.cli._command import add_command


def _rate(value: str) -> str | float:
    try:
        return float(value)
    except ValueError:
        return value


def _schedule(value: str) -> tuple[float, ...]:
    return tuple(float(x) for x in value.split(",") if x.strip()) if value else ()


_HELP = """serve a local Extend-compatible API (in-memory, offline)

Serve a local Extend-compatible API (version 2026-02-09) for tests and demos.
"""


def register(subparsers: Any) -> None:
    p = add_command(subparsers, "emulator", _HELP)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--api-key", help="accept only this bearer key (default: any non-empty key)")
    p.add_argument("--clock", choices=("system", "manual"), default="system")
    p.add_argument("--seed", type=int, default=0, help="seed for ids and fault injection")
    speed = p.add_argument_group("speed (all zero = instant)")
    speed.add_argument("--files-per-minute", type=float, default=0.0)
    speed.add_argument("--run-latency", type=float, default=0.0, help="seconds per run")
    speed.add_argument(
        "--batch-queue-delay",
        type=float,
        default=0.0,
        help="seconds batch runs wait in PENDING (single runs skip the queue)",
    )
    limits = p.add_argument_group("rate limits (requests per second; 0 = off)")
    limits.add_argument("--rate-limit", type=_rate, help="payg, scale, enterprise or a number")
    limits.add_argument("--rate-limit-get", type=float)
    limits.add_argument("--rate-limit-write", type=float)
    limits.add_argument("--rate-limit-run", type=float)
    _add_fault_options(p)
    fidelity = p.add_argument_group("fidelity switches (docs/emulator-fidelity.md)")
    fidelity.add_argument("--list-end", choices=("omit", "null"), default="omit")
    fidelity.add_argument("--unknown-input-keys", choices=("strip", "reject"), default="strip")
    fidelity.add_argument("--cancel-pending", action="store_true")
    fidelity.add_argument(
        "--parse-cancel-status", choices=("FAILED", "CANCELLED"), default="FAILED"
    )
    fidelity.add_argument(
        "--verbatim-configs", action="store_true", help="echo configs without defaults"
    )
    hooks = p.add_argument_group("webhook deliveries")
    hooks.add_argument("--webhook-retries", type=_schedule, default=(1.0, 2.0, 4.0, 8.0, 16.0))
    hooks.add_argument("--webhook-timeout", type=float, default=30.0)
    hooks.add_argument("--webhook-duplicate-rate", type=float, default=0.0)
    hooks.add_argument("--webhook-drop-rate", type=float, default=0.0)
    hooks.add_argument("--webhook-reorder", action="store_true")
    hooks.add_argument("--no-per-run-events", action="store_true")
    p.set_defaults(func=run)


def _add_fault_options(p: argparse.ArgumentParser) -> None:
    faults = p.add_argument_group("fault injection (shares in [0, 1], seeded)")
    faults.add_argument("--error-rate", type=float, default=0.0, help="5xx share, all requests")
    faults.add_argument(
        "--error-rate-for",
        action="append",
        default=[],
        metavar="KEY=RATE",
        help='per category (GET/WRITE/RUN) or route ("POST /extract_runs/batch"); repeatable',
    )
    faults.add_argument("--error-after-commit-rate", type=float, default=0.0)
    faults.add_argument("--slow-rate", type=float, default=0.0)
    faults.add_argument("--slow-seconds", type=float, default=0.0)
    faults.add_argument("--drop-rate", type=float, default=0.0)
    faults.add_argument("--batch-failure-rate", type=float, default=0.0)
    faults.add_argument("--run-failure-rate", type=float, default=0.0)
    faults.add_argument("--run-failure-reason", default="INTERNAL_ERROR")
    faults.add_argument(
        "--late-commit-rate", type=float, default=0.0, help="run-creating POSTs committed late"
    )
    faults.add_argument("--late-commit-seconds", type=float, default=5.0)
    faults.add_argument(
        "--storm",
        action="append",
        default=[],
        metavar="START:SECONDS[:CATEGORIES]",
        help="a 429 storm from START for SECONDS (since the emulator started), categories "
        "GET,WRITE,RUN by default; repeatable",
    )
    faults.add_argument(
        "--late-commit-answer",
        choices=("504", "hold"),
        default="504",
        help="504 at once, or hold the answer until the late commit",
    )
    faults.add_argument(
        "--refuse",
        action="append",
        default=[],
        metavar="STATUS[ SCOPE]=RATE",
        help='seeded 402/403/422 answers, e.g. "402=0.1", "403 GET=0.5"; repeatable',
    )
    faults.add_argument(
        "--credit-inputs",
        type=int,
        help="out of credits (402 USAGE_BLOCKED on run creation) after this many inputs",
    )


def _pairs(items: list[str], flag: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        key, _, rate = item.rpartition("=")
        if not key:
            raise SystemExit(f"{flag} expects KEY=RATE, got {item!r}")
        out[key] = float(rate)
    return out


def _storm(item: str) -> Any:
    from extend_frames.emulator import Storm

    parts = item.split(":")
    try:
        start, seconds = float(parts[0]), float(parts[1])
    except (IndexError, ValueError):
        raise SystemExit(f"--storm expects START:SECONDS[:GET,WRITE,RUN], got {item!r}") from None
    cats = tuple(c.strip().upper() for c in parts[2].split(",")) if len(parts) > 2 else None
    return Storm(start, seconds, cats) if cats else Storm(start, seconds)


def build_config(args: argparse.Namespace) -> Any:
    """The EmulatorConfig the arguments describe (separate from serving, for tests)."""
    from extend_frames.emulator import (
        EmulatorConfig,
        Faults,
        Fidelity,
        RateLimits,
        Speed,
        WebhookOptions,
    )
    from extend_frames.emulator._config import rate_limits_from

    limits = rate_limits_from(args.rate_limit)
    limits = RateLimits(
        get=args.rate_limit_get if args.rate_limit_get is not None else limits.get,
        write=args.rate_limit_write if args.rate_limit_write is not None else limits.write,
        run=args.rate_limit_run if args.rate_limit_run is not None else limits.run,
    )
    per_key = _pairs(args.error_rate_for, "--error-rate-for")
    return EmulatorConfig(
        api_keys=frozenset({args.api_key}) if args.api_key else None,
        speed=Speed(args.files_per_minute, args.run_latency, args.batch_queue_delay),
        rate_limits=limits,
        faults=Faults(
            seed=args.seed,
            error_rate=args.error_rate,
            error_rates=per_key,
            error_after_commit_rate=args.error_after_commit_rate,
            slow_rate=args.slow_rate,
            slow_seconds=args.slow_seconds,
            drop_rate=args.drop_rate,
            batch_failure_rate=args.batch_failure_rate,
            run_failure_rate=args.run_failure_rate,
            run_failure_reason=args.run_failure_reason,
            late_commit_rate=args.late_commit_rate,
            late_commit_seconds=args.late_commit_seconds,
            late_commit_answer=args.late_commit_answer,
            refusals=_pairs(args.refuse, "--refuse"),
            credit_inputs=args.credit_inputs,
            storms=tuple(_storm(item) for item in args.storm),
        ),
        fidelity=Fidelity(
            list_end=args.list_end,
            unknown_input_keys=args.unknown_input_keys,
            cancel_pending=args.cancel_pending,
            parse_cancel_status=args.parse_cancel_status,
            effective_configs=not args.verbatim_configs,
        ),
        webhooks=WebhookOptions(
            retry_schedule=args.webhook_retries,
            timeout=args.webhook_timeout,
            per_run_events=not args.no_per_run_events,
            duplicate_rate=args.webhook_duplicate_rate,
            reorder=args.webhook_reorder,
            drop_rate=args.webhook_drop_rate,
            seed=args.seed,
        ),
        clock=args.clock,
        public_url=f"http://{args.host}:{args.port}",
        seed=args.seed,
    )


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from extend_frames.emulator import create_app

    config = build_config(args)
    print(f"Extend emulator on {config.public_url} (API version 2026-02-09)", flush=True)
    uvicorn.run(
        create_app(config), host=args.host, port=args.port, log_level="warning", access_log=False
    )
    return 0
