"""Progress bars for jobs: tqdm (a widget in a notebook kernel, text elsewhere) when installed,
else a plain throttled line on stderr."""

from __future__ import annotations

import importlib.util
import sys
import time
from typing import Any


def in_notebook_kernel() -> bool:
    """True inside a Jupyter kernel (IPython's ZMQ shell); False in a terminal or script."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = getattr(ipython, "get_ipython", lambda: None)()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def bar_class() -> Any:
    """The tqdm class to draw with, or None without tqdm. The widget bar only when ipywidgets
    is importable and we run in a notebook kernel (tqdm.auto would warn "IProgress not found"
    without ipywidgets); the text bar otherwise."""
    if importlib.util.find_spec("tqdm") is None:
        return None
    if in_notebook_kernel() and importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.notebook import tqdm as widget_bar

        return widget_bar
    from tqdm.std import tqdm as text_bar

    return text_bar


class BarProgress:
    """Rows submitted / waiting / fetched / failed, as a tqdm bar or a throttled status line.

    The bar counts rows whose result is known; it advances per fetched run. The postfix is
    set before each redraw, so what is shown is always the current counts."""

    def __init__(self, description: str, *, min_interval: float = 0.5, bar: Any = ...) -> None:
        self.description = description
        self.min_interval = min_interval
        self.total = 0
        self.sent = 0
        self.fetched_runs = 0
        self.initial = 0  # rows done before this call (a resumed job)
        self.done = 0  # rows with a known result in this call (bar position minus initial)
        self.processed = 0
        self.failed = 0
        self._factory: Any = bar_class() if bar is ... else bar
        self._bar: Any = None
        self._last = 0.0

    @property
    def waiting(self) -> int:
        """Rows submitted in this call whose run has not been read yet."""
        return max(0, self.sent - self.fetched_runs)

    def postfix(self) -> str:
        return (
            f"submitted {self.sent}, waiting {self.waiting}, "
            f"fetched {self.fetched_runs}, failed {self.failed}"
        )

    def start(self, total: int, *, already_done: int = 0) -> None:
        self.total = total
        self.initial = already_done
        if self._factory is not None:
            self._bar = self._factory(
                total=total, initial=already_done, desc=self.description, unit="row", leave=True
            )
        self._render(0, force=True)

    def submitted(self, n: int) -> None:
        self.sent += n
        self._render(0)

    def fetched(self, n: int) -> None:
        self.fetched_runs += n
        self.done += n
        self._render(n)

    def finished(self, processed: int, failed: int, *, already_fetched: int = 0) -> None:
        self.processed += processed
        self.failed += failed
        rest = max(0, processed + failed - already_fetched)
        self.done += rest
        self._render(rest)

    def close(self) -> None:
        self._render(0, force=True)
        if self._bar is not None:
            self._bar.refresh()
            self._bar.close()
        elif self.total:
            sys.stderr.write("\n")

    def _render(self, advance: int, *, force: bool = False) -> None:
        text = self.postfix()
        if self._bar is not None:
            # postfix first, then the update that redraws it: never one update behind
            self._bar.set_postfix_str(text, refresh=advance == 0)
            if advance:
                self._bar.update(advance)
            return
        now = time.monotonic()
        if not force and now - self._last < self.min_interval:
            return
        self._last = now
        done = self.initial + self.done
        sys.stderr.write(f"\r{self.description}: {done}/{self.total} rows ({text})")
        sys.stderr.flush()
