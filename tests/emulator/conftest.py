"""Emulator test fixtures: a real emulator on 127.0.0.1 and clients for it (loopback only)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from extend_ai import Extend

from extend_frames.emulator import API_VERSION, Emulator

NO_RETRY: Any = {"max_retries": 0}

INVOICE_SCHEMA = {
    "type": "object",
    "properties": {
        "invoice_number": {"type": ["string", "null"]},
        "total": {"type": ["number", "null"]},
    },
}
CLASSIFY_CONFIG = {
    "classifications": [
        {"id": "invoice", "type": "invoice", "description": "An invoice"},
        {"id": "other", "type": "other", "description": "Anything else"},
    ]
}
SPLIT_CONFIG = {
    "splitClassifications": [
        {"id": "invoice", "type": "invoice", "description": "An invoice"},
        {"id": "other", "type": "other", "description": "Anything else"},
    ]
}


def sdk_client(emu: Emulator) -> Extend:
    return Extend(
        token=emu.api_key,
        base_url=emu.url,
        httpx_client=httpx.Client(trust_env=False, timeout=30),
    )


def raw_client(emu: Emulator, **headers: str) -> httpx.Client:
    base = {"authorization": f"Bearer {emu.api_key}", "x-extend-api-version": API_VERSION}
    return httpx.Client(base_url=emu.url, headers={**base, **headers}, trust_env=False, timeout=30)


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def sdk(emu: Emulator) -> Extend:
    return sdk_client(emu)


@pytest.fixture
def raw(emu: Emulator) -> Iterator[httpx.Client]:
    with raw_client(emu) as client:
        yield client
