"""``df.xf``: the four operations and the summary as a polars DataFrame namespace.

The design asked for ``df.extend``, but ``DataFrame.extend`` is a built-in polars method (append
rows in place) and polars refuses to shadow it, so the namespace is named after the import
alias users already type: ``import extend_frames as xf`` -> ``df.xf.extract(...)``.
The methods take exactly the arguments of the functions, minus the frame (one options
definition: :mod:`extend_frames.frames._options`).

>>> import polars as pl, extend_frames  # doctest: +SKIP
>>> pl.DataFrame({"file": ["https://..."]}).xf.extract(processor="ex_...")  # doctest: +SKIP
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

import polars as pl

from extend_frames.frames._public import classify, extract, parse, split
from extend_frames.frames._summary import JobSummary, summarize

P = ParamSpec("P")
T = TypeVar("T")


def _method(fn: Callable[Concatenate[Any, P], T]) -> Callable[Concatenate[Any, P], T]:
    """``fn(df, ...)`` as a namespace method ``df.xf.<name>(...)`` with the same options."""

    def method(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return fn(self._df, *args, **kwargs)

    params = list(inspect.signature(fn).parameters.values())
    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)
    signature = inspect.signature(fn).replace(parameters=[self_param, *params[1:]])
    setattr(method, "__signature__", signature)  # noqa: B010  (functions have no such slot)
    method.__name__ = method.__qualname__ = fn.__name__
    method.__doc__ = f"``xf.{fn.__name__}(df, ...)`` on this frame (same arguments)."
    return method


@pl.api.register_dataframe_namespace("xf")
class ExtendNamespace:
    """Same arguments as ``xf.parse`` / ``xf.extract`` / ``xf.classify`` / ``xf.split``."""

    def __init__(self, df: pl.DataFrame) -> None:
        self._df = df

    parse = _method(parse)
    extract = _method(extract)
    classify = _method(classify)
    split = _method(split)

    def summary(self) -> JobSummary:
        """Rows by status, credits, and (for a frame just returned by a job) its wall time."""
        return summarize(self._df)
