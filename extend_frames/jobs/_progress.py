"""Progress events from the engine; rendering lives in the frames layer."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Receives counts as the job advances. All calls come from the engine's event loop.

    ``submitted(n)``: n rows were accepted by Extend. ``fetched(n)``: n runs reached a final
    state and were read (the bar advances here, run by run). ``finished(processed, failed,
    already_fetched=k)``: a chunk's rows are decoded; k of them were already reported by
    ``fetched``, the rest (rows of a failed batch, rows with no run) advance now."""

    def start(self, total: int, *, already_done: int = 0) -> None: ...

    def submitted(self, n: int) -> None: ...

    def fetched(self, n: int) -> None: ...

    def finished(self, processed: int, failed: int, *, already_fetched: int = 0) -> None: ...

    def close(self) -> None: ...


class NoProgress:
    """The ``progress=False`` choice: nothing is shown."""

    def start(self, total: int, *, already_done: int = 0) -> None:
        pass

    def submitted(self, n: int) -> None:
        pass

    def fetched(self, n: int) -> None:
        pass

    def finished(self, processed: int, failed: int, *, already_fetched: int = 0) -> None:
        pass

    def close(self) -> None:
        pass
