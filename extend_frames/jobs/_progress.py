"""Progress events from the engine; rendering lives in the frames layer."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Receives counts as the job advances. All calls come from the engine's event loop."""

    def start(self, total: int, *, already_done: int = 0) -> None: ...

    def submitted(self, n: int) -> None: ...

    def finished(self, processed: int, failed: int) -> None: ...

    def close(self) -> None: ...


class NoProgress:
    """The ``progress=False`` choice: nothing is shown."""

    def start(self, total: int, *, already_done: int = 0) -> None:
        pass

    def submitted(self, n: int) -> None:
        pass

    def finished(self, processed: int, failed: int) -> None:
        pass

    def close(self) -> None:
        pass
