"""Emulator configuration: frozen value objects, no module globals.

``EmulatorConfig()`` is the test default: instant processing, no rate limits, no faults, any
non-empty bearer key accepted. Every knob is a field, so a scenario is one value you can print.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

API_VERSION = "2026-02-09"

# Requests per second per category, by Extend plan (docs/extend-api.md#rate-limits).
RATE_PRESETS: dict[str, int] = {"payg": 10, "scale": 25, "enterprise": 75}


@dataclass(frozen=True, slots=True)
class Speed:
    """How fast runs progress. All zeros (the default) is the instant mode: no sleeps at all.

    ``files_per_minute`` throttles run starts (Extend's processor throughput); ``run_latency``
    is the seconds a run stays PROCESSING; ``batch_queue_delay`` the seconds a batch waits in
    PENDING before its runs become eligible (Extend's delayed batch queue).
    """

    files_per_minute: float = 0.0
    run_latency: float = 0.0
    batch_queue_delay: float = 0.0

    @property
    def instant(self) -> bool:
        return not (self.files_per_minute or self.run_latency or self.batch_queue_delay)


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Requests per second per category; 0 or None switches that category's limit off."""

    get: float | None = None
    write: float | None = None
    run: float | None = None

    @classmethod
    def preset(cls, name: str) -> RateLimits:
        """``payg`` (10/s), ``scale`` (25/s) or ``enterprise`` (75/s) for every category."""
        if name not in RATE_PRESETS:
            raise ValueError(
                f"unknown rate-limit preset {name!r}; use one of {sorted(RATE_PRESETS)}"
            )
        rate = RATE_PRESETS[name]
        return cls(get=rate, write=rate, run=rate)


@dataclass(frozen=True, slots=True)
class Storm:
    """A 429 storm: from ``start`` for ``seconds`` (emulator-clock seconds since it started),
    every request of ``categories`` is answered 429 with ``Retry-After: retry_after``,
    whatever the steady rate limits say (an overloaded gateway, not a metered limit)."""

    start: float
    seconds: float
    categories: tuple[str, ...] = ("GET", "WRITE", "RUN")
    retry_after: int = 1


@dataclass(frozen=True, slots=True)
class Faults:
    """Seeded fault injection; the same seed and request sequence replay the same faults.

    Rates are probabilities in [0, 1]. ``error_rates`` refines ``error_rate`` per category
    (``"GET"``, ``"WRITE"``, ``"RUN"``) or per route (``"POST /extract_runs/batch"``); the most
    specific key wins. ``error_after_commit_rate`` answers 500 after a batch or single-run
    create POST was committed (the lost-response case). ``drop_rate`` closes the connection
    without any response.
    ``batch_failure_rate`` makes whole batches end FAILED; ``run_failure_rate`` makes single
    runs fail with ``run_failure_reason``.

    Late commits (the answer comes before, or after, the work): ``late_commit_rate`` of the
    run-creating POSTs (``/{kind}_runs/batch`` and ``/{kind}_runs``) commit
    ``late_commit_seconds`` after they arrived, on the emulator's clock (under the manual
    clock: when it is advanced past that time). ``late_commit_answer="504"`` answers 504 at
    once (a gateway that gave up while the request kept travelling); ``"hold"`` holds the
    answer until the commit (longer than a client's read timeout, the client gives up first).
    ``storms`` are 429 storms (:class:`Storm`), on top of any steady rate limit.
    """

    seed: int = 0
    error_rate: float = 0.0
    error_rates: Mapping[str, float] = field(default_factory=dict)
    error_after_commit_rate: float = 0.0
    slow_rate: float = 0.0
    slow_seconds: float = 0.0
    drop_rate: float = 0.0
    batch_failure_rate: float = 0.0
    run_failure_rate: float = 0.0
    run_failure_reason: str = "INTERNAL_ERROR"
    late_commit_rate: float = 0.0
    late_commit_seconds: float = 5.0
    late_commit_answer: Literal["504", "hold"] = "504"
    storms: tuple[Storm, ...] = ()
    # 4xx refusals and the credit balance (emulator/_refusals.py)
    refusals: Mapping[str, float] = field(default_factory=dict)
    credit_inputs: int | None = None


@dataclass(frozen=True, slots=True)
class Fidelity:
    """Switches for the points where Extend's behaviour is not established
    (docs/extend-api.md#unconfirmed).

    The defaults follow the SDK 1.20 types and docstrings (docs/emulator-fidelity.md gives the
    evidence for each); the other values reproduce the emulator's earlier behaviour or the
    other plausible reading. ``list_end``: the last page of a list ``"omit"``s nextPageToken (the
    TypeScript type and the docs' examples) or sends ``"null"``. ``unknown_input_keys``: unknown
    keys on a batch input are ``"strip"``ped like the top level's, or ``"reject"``ed with 400.
    ``cancel_pending``: also cancel PENDING runs (the SDK documents PROCESSING only).
    ``parse_cancel_status``: a cancelled parse run reads ``"FAILED"`` with failureReason
    ``CANCELLED`` (the parse status enum has no CANCELLED) or ``"CANCELLED"``.
    ``effective_configs``: runs and versions echo the config with the defaults filled in
    (baseProcessor, baseVersion, parse engineVersion/blockOptions/advancedOptions), or verbatim.
    """

    list_end: Literal["omit", "null"] = "omit"
    unknown_input_keys: Literal["strip", "reject"] = "strip"
    cancel_pending: bool = False
    parse_cancel_status: Literal["FAILED", "CANCELLED"] = "FAILED"
    effective_configs: bool = True


@dataclass(frozen=True, slots=True)
class WebhookOptions:
    """Delivery behaviour: retries on non-2xx or timeout, and seeded duplicate/reorder/drop."""

    retry_schedule: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0)
    timeout: float = 30.0
    per_run_events: bool = True
    duplicate_rate: float = 0.0
    reorder: bool = False
    drop_rate: float = 0.0
    seed: int = 0


@dataclass(frozen=True, slots=True)
class EmulatorConfig:
    """Everything the emulator can be told. ``api_keys=None`` accepts any non-empty key."""

    api_keys: frozenset[str] | None = field(default=None, repr=False)  # secrets: not in reprs
    speed: Speed = field(default_factory=Speed)
    rate_limits: RateLimits = field(default_factory=RateLimits)
    faults: Faults = field(default_factory=Faults)
    webhooks: WebhookOptions = field(default_factory=WebhookOptions)
    fidelity: Fidelity = field(default_factory=Fidelity)
    clock: Literal["system", "manual"] = "system"
    public_url: str = "http://testserver"
    download_timeout: float = 10.0
    max_file_bytes: int = 100 * 2**20
    max_pages: int = 500
    seed: int = 0


def rate_limits_from(value: str | float | RateLimits | None) -> RateLimits:
    """Accept a preset name, one number for every category, or a RateLimits."""
    if value is None:
        return RateLimits()
    if isinstance(value, RateLimits):
        return value
    if isinstance(value, str):
        if value in RATE_PRESETS:
            return RateLimits.preset(value)
        value = float(value)
    return RateLimits(get=value, write=value, run=value)
