"""Operator counters behind ``GET /_emulator/stats``.

Request counters are touched on the event loop thread, submission counters under the state
lock; a small lock lets snapshots be taken from any thread. ``duplicate_inputs`` counts
submitted inputs whose metadata equals (JSON-canonically) the metadata of an earlier submitted
input: the resume tests use it to prove no row was submitted twice.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from typing import Any


class Stats:
    def __init__(self) -> None:
        self.requests: defaultdict[str, defaultdict[str, int]] = defaultdict(
            lambda: defaultdict(int)
        )
        self.rate_limited: defaultdict[str, int] = defaultdict(int)
        self.faults: defaultdict[str, int] = defaultdict(int)
        self.webhooks: defaultdict[str, int] = defaultdict(int)
        self.batches_created = 0
        self.inputs_submitted = 0
        self.runs_created = 0
        self.duplicate_inputs = 0
        self._seen_metadata: set[str] = set()
        self._lock = threading.Lock()  # snapshots may be taken from any thread

    def record_request(self, route: str, status: int) -> None:
        with self._lock:
            self.requests[route][str(status)] += 1

    def record_inputs(self, metadatas: list[Any], *, batch: bool) -> None:
        """Count submitted inputs (batch or single) and duplicates by canonical metadata."""
        if batch:
            self.batches_created += 1
        self.inputs_submitted += len(metadatas)
        self.runs_created += len(metadatas)
        seen = self._seen_metadata
        for meta in metadatas:
            if meta is None:
                continue
            canon = json.dumps(meta, sort_keys=True, separators=(",", ":"))
            if canon in seen:
                self.duplicate_inputs += 1
            else:
                seen.add(canon)

    def snapshot(self, runs: dict[str, dict[str, int]]) -> dict[str, Any]:
        with self._lock:
            return self._snapshot(runs)

    def _snapshot(self, runs: dict[str, dict[str, int]]) -> dict[str, Any]:
        return {
            "requests": {route: dict(codes) for route, codes in self.requests.items()},
            "requests_total": sum(sum(codes.values()) for codes in self.requests.values()),
            "rate_limited": dict(self.rate_limited),
            "batches_created": self.batches_created,
            "inputs_submitted": self.inputs_submitted,
            "duplicate_inputs": self.duplicate_inputs,
            "runs": runs,
            "faults": dict(self.faults),
            "webhooks": dict(self.webhooks),
        }
