"""The options every operation shares, defined once.

The eight public operations (``parse``, ``extract``, ``classify``, ``split`` and their ``a*``
twins), ``collect`` and the ``df.xf`` namespace spell out only what is specific to them (the
frame, ``processor``, ``file_column``, ``text_column``, ``config``) and take everything else as
``**options: Unpack[JobOptions]``: IDEs and type checkers see each option with its type, and an
option is added in this file only.

Adding an option (also in docs/ARCHITECTURE.md): add the key, typed, to :class:`JobOptions`
(or to :class:`WaitOptions` if ``collect`` takes it too) and a field of the same name with its
default to :class:`Options`; validate its value in :meth:`Options.check`; read it as
``options.<name>`` where it is used. ``tests/test_public_api.py`` checks that the two classes
agree and that every operation accepts exactly these keys.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Literal, TypeAlias

from typing_extensions import TypedDict

from extend_frames._errors import InputError
from extend_frames._operations import MAX_BATCH_INPUTS
from extend_frames.api import Client
from extend_frames.jobs import ROUTES, Concurrency, Polling, Route
from extend_frames.jobs._sources import MAX_FILE_BYTES, READ_TIMEOUT, ReadPolicy
from extend_frames.store import Cache
from extend_frames.tables import Delta, Iceberg, TableTarget

__all__ = ["JobOptions", "Mode", "Options", "Wait", "WaitOptions", "resolve"]

Wait: TypeAlias = Literal["poll", "webhook"]
Mode: TypeAlias = Literal["resume", "overwrite", "retry"]
#: ``cache=``: an fsspec URL (opened with ``storage_options``) or an :class:`~extend_frames.Cache`.
CacheRef: TypeAlias = Cache | str | os.PathLike[str]


class WaitOptions(TypedDict, total=False):
    """Options of every call that waits for batches (the operations and ``collect``)."""

    #: The :class:`~extend_frames.Client` to use (default: ``Client()`` from the environment).
    client: Client | None
    #: fsspec options for ``output`` (credentials, endpoint...), as polars names them.
    storage_options: Mapping[str, Any] | None
    #: ``"poll"`` (default) or ``"webhook"`` (needs ``webhook=``).
    wait: Wait
    #: A :class:`~extend_frames.WebhookReceiver` reachable by Extend, for ``wait="webhook"``.
    webhook: Any
    #: Show a progress bar (tqdm, when installed); when standard error is not a terminal, log
    #: one progress line (rows done and left, credits, estimated finish) every
    #: ``progress_interval`` seconds on the ``extend_frames`` logger instead.
    progress: bool
    #: Seconds between two progress log lines when standard error is not a terminal (60).
    progress_interval: float
    #: Return a ``pl.LazyFrame`` over the stored parts (needs ``output=``) instead of the
    #: assembled frame: the job runs to the end (or ``max_wait``) without holding its result.
    lazy: bool
    #: How often to poll a batch (:class:`~extend_frames.Polling`).
    polling: Polling | None
    #: How much runs at once (:class:`~extend_frames.Concurrency`).
    concurrency: Concurrency | None
    #: Return after at most this long (seconds or a ``timedelta``; needs ``output=``): rows not
    #: finished by then come back ``PENDING`` with their ``batch_id``; the same call (or
    #: ``collect``) later resumes them without resubmitting. ``0`` = submit and return.
    max_wait: float | timedelta | None
    #: A result cache across jobs (fsspec URL or :class:`~extend_frames.Cache`): documents it
    #: already holds a PROCESSED result for (same processor version and config) are not sent.
    cache: CacheRef | None
    #: Publish each collected batch to a lakehouse table, once (needs ``output=``):
    #: ``xf.Delta(uri, mode=, merge_on=)``, ``xf.Iceberg("ns.table", catalog=, mode=,
    #: merge_on=)``, or the CLI's spelling ``"delta:<uri>"`` / ``"iceberg:<catalog>/<ns.table>"``.
    table: TableTarget | str | None


class JobOptions(WaitOptions, total=False):
    """Options shared by ``parse``, ``extract``, ``classify`` and ``split`` (and twins)."""

    #: Persist the job there (any fsspec URL): resumable, readable with ``xf.read_results``.
    output: str | None
    #: Documents per batch, 1 to 1,000.
    batch_size: int
    #: Column(s) identifying a row; default: derived from the file reference.
    key: str | Sequence[str] | None
    #: ``"resume"`` (default: continue the job at ``output``), ``"overwrite"``, or ``"retry"``
    #: (resume, then submit once more the rows whose runs failed for a retryable reason).
    mode: Mode
    #: Extend batch priority.
    priority: int | None
    #: Submit and return (rows PENDING); finish later with ``xf.collect(output)``. The same
    #: as ``max_wait=0``.
    detach: bool
    #: ``"auto"`` (default: single runs for a few documents, batches otherwise), ``"batch"``
    #: or ``"single"`` (one ``POST /{operation}_runs`` per document, no batch queue).
    route: Route
    #: A column whose value you vouch for (an ETag, a content hash): the cache keys on it
    #: instead of the document's digest (needs ``cache=``).
    cache_key: str | None
    #: URL schemes the client may read besides local paths and the object stores (s3, gs,
    #: az, abfs, memory, file); any other ``scheme://`` row fails REFERENCE_NOT_ALLOWED.
    allowed_schemes: Collection[str] | None
    #: Local paths must resolve (symlinks followed) inside this directory, or fail the row.
    local_root: str | None
    #: Larger local/fsspec files fail FILE_SIZE_TOO_LARGE without being uploaded.
    max_file_bytes: int
    #: Seconds each blocking read of a local/fsspec file may take before its row fails.
    read_timeout: float
    #: A spending cap in credits: no batch or run is started whose estimated cost (credits
    #: per document observed in this job) would take the job's spend past it; the rows held
    #: back come back PENDING and a rerun with a higher cap continues (docs/ARCHITECTURE.md).
    max_credits: float | None


@dataclass(frozen=True, slots=True)
class Options:
    """The options of one call, with their defaults filled in (what the stages read)."""

    client: Client | None = None
    storage_options: Mapping[str, Any] | None = None
    wait: Wait = "poll"
    webhook: Any = None
    progress: bool = True
    progress_interval: float = 60.0
    lazy: bool = False
    polling: Polling | None = None
    concurrency: Concurrency | None = None
    max_wait: float | timedelta | None = None
    cache: CacheRef | None = None
    table: TableTarget | str | None = None
    output: str | None = None
    batch_size: int = MAX_BATCH_INPUTS
    key: str | Sequence[str] | None = None
    mode: Mode = "resume"
    priority: int | None = None
    detach: bool = False
    route: Route = "auto"
    cache_key: str | None = None
    allowed_schemes: Collection[str] | None = None
    local_root: str | None = None
    max_file_bytes: int = MAX_FILE_BYTES
    read_timeout: float = READ_TIMEOUT
    max_credits: float | None = None

    def check(self) -> Options:
        """Refuse values no stage can use, before anything is sent."""
        if self.wait not in ("poll", "webhook"):
            raise InputError(f'wait must be "poll" or "webhook", got {self.wait!r}')
        if self.wait == "webhook" and not self.detach:
            check_receiver(self.webhook)
        if self.mode not in ("resume", "overwrite", "retry"):
            raise InputError(f'mode must be "resume", "overwrite" or "retry", got {self.mode!r}')
        if self.detach and self.output is None:
            raise InputError("detach=True needs output= (the job is collected later from there)")
        if self.route not in ROUTES:
            raise InputError(f'route must be "auto", "batch" or "single", got {self.route!r}')
        if self.lazy and self.output is None:
            raise InputError("lazy=True needs output= (the LazyFrame reads the parts stored there)")
        interval = self.progress_interval
        if isinstance(interval, bool) or not isinstance(interval, int | float) or interval <= 0:
            raise InputError(f"progress_interval must be a positive number, got {interval!r}")
        if self.mode == "retry" and self.output is None:
            raise InputError('mode="retry" needs output= (the job whose failed rows to retry)')
        if self.cache_key is not None and self.cache is None:
            raise InputError("cache_key= needs cache= (the cache whose entries it keys)")
        if self.cache is not None and not isinstance(self.cache, Cache | str | os.PathLike):
            raise InputError(
                "cache= takes an fsspec URL or an xf.Cache(url, storage_options=...), got "
                f"{type(self.cache).__name__}"
            )
        if self.max_credits is not None and not (
            isinstance(self.max_credits, int | float) and self.max_credits >= 0
        ):
            raise InputError(f"max_credits must be a number >= 0, got {self.max_credits!r}")
        if self.table is not None:
            self._check_table()
        self.reads  # validates the read options  # noqa: B018
        wait = self.wait_seconds
        if wait is not None and self.output is None:
            raise InputError(
                "max_wait= needs output= (rows still pending are resumed from there: rerun the "
                "same call, or xf.collect(output))"
            )
        return replace(self, max_wait=wait) if wait != self.max_wait else self

    def _check_table(self) -> None:
        if not isinstance(self.table, Delta | Iceberg | str):
            raise InputError(
                "table= takes xf.Delta(uri, ...), xf.Iceberg(identifier, catalog=...) or "
                f"'delta:<uri>' / 'iceberg:<catalog>/<ns.table>', got {type(self.table).__name__}"
            )
        if self.output is None:
            raise InputError(
                "table= needs output= (the job's working state: ledger, parts, resume); the "
                "table is where each collected batch is published"
            )

    @property
    def wait_seconds(self) -> float | None:
        """``max_wait`` in seconds (``detach=True`` is ``0``); InputError if not >= 0."""
        if self.detach:
            return 0.0
        value = self.max_wait
        if value is None:
            return None
        seconds = value.total_seconds() if isinstance(value, timedelta) else value
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise InputError(f"max_wait= takes seconds or a timedelta, got {value!r}")
        if not math.isfinite(seconds) or seconds < 0:
            raise InputError(f"max_wait= must be >= 0 seconds, got {value!r}")
        return float(seconds)

    @property
    def reads(self) -> ReadPolicy:
        """What the engine may read for local/fsspec references (see jobs/_sources.py)."""
        schemes = self.allowed_schemes
        if isinstance(schemes, str) or not all(isinstance(s, str) for s in schemes or ()):
            raise InputError(
                f"allowed_schemes must be a list of scheme names like ['sftp'], got {schemes!r}"
            )
        for name in ("max_file_bytes", "read_timeout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise InputError(f"{name} must be a positive number, got {value!r}")
        if self.local_root is not None and not os.path.isdir(self.local_root):
            raise InputError(f"local_root {self.local_root!r} is not a directory")
        return ReadPolicy.of(
            allowed_schemes=schemes,
            local_root=self.local_root,
            max_bytes=int(self.max_file_bytes),
            timeout=float(self.read_timeout),
        )

    @property
    def store_options(self) -> dict[str, Any]:
        """``storage_options`` as the store takes them (a plain dict)."""
        return dict(self.storage_options or {})


def check_receiver(receiver: Any) -> None:
    """Refuse a ``wait="webhook"`` call without a :class:`~extend_frames.WebhookReceiver`
    (before any request: the job could not wait on anything)."""
    from extend_frames.webhooks import WebhookReceiver

    if receiver is None:
        raise InputError(
            'wait="webhook" needs webhook=WebhookReceiver(...) reachable by Extend '
            "(for the local emulator: WebhookReceiver() on 127.0.0.1)"
        )
    if not isinstance(receiver, WebhookReceiver):
        raise InputError(
            f"webhook= must be an extend_frames.WebhookReceiver, got {type(receiver).__name__}"
        )


def keys_of(typed_dict: type) -> frozenset[str]:
    """The keys a TypedDict declares (its own and inherited)."""
    return frozenset(typed_dict.__required_keys__ | typed_dict.__optional_keys__)  # type: ignore[attr-defined]


def resolve(
    caller: str, options: Mapping[str, Any], accepted: type = JobOptions, **fixed: Any
) -> Options:
    """``Options`` from the keyword arguments of ``caller`` (``accepted`` lists the names it
    takes; unknown names are refused) plus ``fixed`` values the caller sets itself.

    >>> resolve("parse", {"batch_size": 10}).batch_size
    10
    """
    known = keys_of(accepted)
    unknown = sorted(set(options) - known)
    if unknown:
        name = unknown[0]
        close = difflib.get_close_matches(name, sorted(known), n=1)
        hint = (
            f"; did you mean {close[0]!r}?" if close else f"; it takes {', '.join(sorted(known))}"
        )
        raise InputError(f"{caller}() got an unexpected keyword argument {name!r}{hint}")
    return Options(**{**options, **fixed}).check()
