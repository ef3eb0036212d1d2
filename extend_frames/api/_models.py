"""Light typed objects for the few responses the engine branches on; runs stay dicts/bytes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from extend_frames._errors import APIError

__all__ = ["NON_TERMINAL", "BatchRun", "parse_timestamp"]

# Statuses that may still change (docs/extend-api.md#run-statuses): every other status, known or
# not, is terminal.
NON_TERMINAL = frozenset({"PENDING", "PROCESSING", "CANCELLING"})


def parse_timestamp(value: str) -> datetime:
    """An RFC 3339 timestamp (``...Z`` or with an offset) as an aware UTC datetime."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class BatchRun:
    """A batch as Extend reports it: ``bpr_...`` (extract/classify/split) or ``bpar_...`` (parse).

    >>> b = BatchRun.from_json({"id": "bpr_1", "status": "PROCESSED", "runCount": 2,
    ...                         "createdAt": "2026-03-02T10:15:00Z"})
    >>> b.is_terminal, b.created_at.year
    (True, 2026)
    """

    id: str
    status: str
    run_count: int
    created_at: datetime

    @property
    def is_terminal(self) -> bool:
        """Whether the batch can no longer change (unknown statuses count as terminal)."""
        return self.status not in NON_TERMINAL

    @classmethod
    def from_json(cls, data: Any) -> BatchRun:
        """Build from a BatchRun JSON object; an unexpected shape raises :class:`APIError`."""
        try:
            return cls(
                id=str(data["id"]),
                status=str(data["status"]),
                run_count=int(data["runCount"]),
                created_at=parse_timestamp(str(data["createdAt"])),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise APIError(
                f"unexpected batch run object from the API ({type(exc).__name__}: {exc}); "
                "check base_url points at an Extend-compatible server"
            ) from None
