"""Extend-looking ids (``exr_...``, ``bpr_...``): a prefix plus 21 url-safe characters."""

from __future__ import annotations

import random
import threading

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


class IdMaker:
    """Seeded, thread-safe id source, so a seeded scenario also replays its ids."""

    def __init__(self, seed: int | str) -> None:
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def __call__(self, prefix: str) -> str:
        with self._lock:
            tail = "".join(self._rng.choices(_ALPHABET, k=21))
        return f"{prefix}_{tail}"
