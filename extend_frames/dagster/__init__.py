"""Run Extend jobs as Dagster assets (extra ``dagster``): ``ExtendResource`` holds the client
settings, ``extend_asset`` builds a (partitioned) asset that runs one job per partition and
checks its FAILED rows. See docs/guides/orchestrators.md.

>>> from extend_frames.dagster import ExtendResource, extend_asset  # doctest: +SKIP
"""

from __future__ import annotations

try:
    import dagster  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "extend_frames.dagster needs Dagster: pip install 'extend-frames[dagster]'"
    ) from exc

from extend_frames.dagster._asset import FAILED_ROWS_CHECK, extend_asset
from extend_frames.dagster._resource import ExtendResource

__all__ = ["FAILED_ROWS_CHECK", "ExtendResource", "extend_asset"]
