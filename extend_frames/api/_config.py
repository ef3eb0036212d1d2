"""Client configuration values: rate limits, timeouts and the regional base URLs."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from extend_frames._errors import InputError

__all__ = [
    "DEFAULT_BASE_URL",
    "REGIONS",
    "RateLimits",
    "Timeouts",
    "resolve_base_url",
    "resolve_rate_limits",
]

# Extend's documented hosts (docs/extend-api.md#hosts). Paths carry no version prefix.
REGIONS: dict[str, str] = {
    "us": "https://api.extend.ai",
    "us2": "https://api.us2.extend.app",
    "eu1": "https://api.eu1.extend.ai",
}
DEFAULT_BASE_URL = REGIONS["us"]


def _positive(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{name} must be a number of seconds or requests, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise InputError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Requests per second the client allows itself, per Extend rate-limit category.

    Extend limits each organisation per category (docs/extend-api.md#rate-limits): GET (reads),
    WRITE (mutations
    that start no processing: uploads, webhook endpoints, deletes, cancels) and RUN
    (requests that submit files for processing: batch creation). Plans: PAYG 10, Scale 25,
    Enterprise 75 requests/s in each category. With ``adaptive`` (the default) the client
    also slows down when the server answers 429 below these numbers, and recovers gradually.

    >>> RateLimits.preset("scale").get
    25.0
    """

    get: float = 10.0
    write: float = 10.0
    run: float = 10.0
    adaptive: bool = True

    def __post_init__(self) -> None:
        for name in ("get", "write", "run"):
            object.__setattr__(self, name, _positive(f"RateLimits.{name}", getattr(self, name)))

    @classmethod
    def preset(cls, plan: str) -> RateLimits:
        """A plan's documented limits: ``"payg"`` 10/s, ``"scale"`` 25/s, ``"enterprise"`` 75/s."""
        rates = {"payg": 10.0, "scale": 25.0, "enterprise": 75.0}
        if plan not in rates:
            raise InputError(
                f"unknown rate-limit preset {plan!r}; use one of 'payg', 'scale', 'enterprise' "
                "or RateLimits(get=..., write=..., run=...)"
            )
        rate = rates[plan]
        return cls(get=rate, write=rate, run=rate)


def resolve_rate_limits(value: RateLimits | str | None) -> RateLimits:
    """``None`` -> PAYG (the safe default: the client adapts to 429s), a preset, or as given."""
    if value is None:
        return RateLimits.preset("payg")
    if isinstance(value, str):
        return RateLimits.preset(value)
    if isinstance(value, RateLimits):
        return value
    raise InputError(f"rate_limits must be None, a preset name or RateLimits, got {value!r}")


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Per-request timeouts in seconds (httpx semantics: each applies to one phase).

    ``connect``: opening a connection; ``read``: waiting for each chunk of the answer;
    ``write``: sending each chunk of the body; ``pool``: waiting for a free connection.
    ``upload`` replaces ``read`` and ``write`` for ``POST /files/upload``, whose bodies are large.
    """

    connect: float = 10.0
    read: float = 60.0
    write: float = 60.0
    pool: float = 60.0
    upload: float = 300.0

    def __post_init__(self) -> None:
        for name in ("connect", "read", "write", "pool", "upload"):
            object.__setattr__(self, name, _positive(f"Timeouts.{name}", getattr(self, name)))


def resolve_base_url(base_url: str | None, region: str | None) -> str:
    """Explicit ``base_url``, else ``region``, else ``EXTEND_BASE_URL``, else the US host."""
    if base_url is not None and region is not None:
        raise InputError("pass either base_url= or region=, not both")
    if region is not None:
        if region not in REGIONS:
            raise InputError(f"unknown region {region!r}; use one of {sorted(REGIONS)}")
        return REGIONS[region]
    chosen = base_url or os.environ.get("EXTEND_BASE_URL") or DEFAULT_BASE_URL
    if not chosen.startswith(("http://", "https://")):
        raise InputError(
            f"base URL {chosen!r} must start with http:// or https:// "
            "(check base_url= or EXTEND_BASE_URL)"
        )
    return chosen.rstrip("/")
