"""Progress bars for jobs: tqdm (notebook or terminal) when installed, else a plain line."""

from __future__ import annotations

import sys
import time
from typing import Any


class BarProgress:
    """Rows submitted / processed / failed, shown as a tqdm bar or a throttled status line."""

    def __init__(self, description: str, *, min_interval: float = 0.5) -> None:
        self.description = description
        self.min_interval = min_interval
        self.total = 0
        self.sent = 0
        self.processed = 0
        self.failed = 0
        self._bar: Any = None
        self._last = 0.0

    def start(self, total: int, *, already_done: int = 0) -> None:
        self.total = total
        self.processed = already_done
        try:
            from tqdm.auto import tqdm
        except ImportError:
            self._bar = None
        else:
            self._bar = tqdm(
                total=total, initial=already_done, desc=self.description, unit="row", leave=True
            )
        self._render(force=True)

    def submitted(self, n: int) -> None:
        self.sent += n
        self._render()

    def finished(self, processed: int, failed: int) -> None:
        self.processed += processed
        self.failed += failed
        if self._bar is not None:
            self._bar.update(processed + failed)
        self._render()

    def close(self) -> None:
        self._render(force=True)
        if self._bar is not None:
            self._bar.close()
        elif self.total:
            sys.stderr.write("\n")

    def _render(self, *, force: bool = False) -> None:
        text = f"submitted {self.sent}, processed {self.processed}, failed {self.failed}"
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)
            return
        now = time.monotonic()
        if not force and now - self._last < self.min_interval:
            return
        self._last = now
        done = self.processed + self.failed
        sys.stderr.write(f"\r{self.description}: {done}/{self.total} rows ({text})")
        sys.stderr.flush()
